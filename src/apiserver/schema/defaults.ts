import { isObject } from '../json.js';
import { schemaOfField } from './prune.js';
import type { JSONSchemaProps } from './types.js';

/**
 * Applies schema defaults in place, as the API server does for custom resources: a missing field
 * (or a null one that is not nullable) gets a copy of its default, and defaulting continues inside
 * it, so defaults nested in a defaulted object and defaults of list items apply too.
 */
export function applyDefaults(value: unknown, schema: JSONSchemaProps): void {
  if (Array.isArray(value)) {
    const items = schema.items;
    if (!items) return;
    value.forEach((item, i) => {
      if (item === null && !items.nullable && items.default !== undefined) {
        value[i] = structuredClone(items.default);
      }
      applyDefaults(value[i], items);
    });
    return;
  }
  if (!isObject(value)) return;
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (property.default === undefined) continue;
    const current = value[key];
    if (current === undefined || (current === null && !property.nullable)) {
      value[key] = structuredClone(property.default);
    }
  }
  for (const [key, child] of Object.entries(value)) {
    const childSchema = schemaOfField(schema, key);
    if (!childSchema) continue;
    if (child === null && !childSchema.nullable && childSchema.default !== undefined) {
      value[key] = structuredClone(childSchema.default);
    }
    applyDefaults(value[key], childSchema);
  }
}
