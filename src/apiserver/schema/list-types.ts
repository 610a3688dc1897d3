import { deepEqual, isObject } from '../json.js';
import { childPath, fieldError, indexPath } from './field-errors.js';
import { schemaOfField } from './prune.js';
import type { FieldError, JSONSchemaProps } from './types.js';

/**
 * Checks the `x-kubernetes-list-type` invariants the API server enforces: items of a `set` are
 * unique, items of a `map` have unique key fields.
 */
export function validateListTypes(
  value: unknown,
  schema: JSONSchemaProps,
  path: string,
): FieldError[] {
  const errors: FieldError[] = [];
  walk(value, schema, path, errors);
  return errors;
}

function walk(value: unknown, schema: JSONSchemaProps, path: string, errors: FieldError[]) {
  if (Array.isArray(value)) {
    checkList(value, schema, path, errors);
    const items = schema.items;
    if (!items) return;
    for (const [i, item] of value.entries()) walk(item, items, indexPath(path, i), errors);
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const childSchema = schemaOfField(schema, key);
      if (childSchema) walk(child, childSchema, childPath(path, key), errors);
    }
  }
}

function checkList(list: unknown[], schema: JSONSchemaProps, path: string, errors: FieldError[]) {
  const listType = schema['x-kubernetes-list-type'];
  if (listType !== 'set' && listType !== 'map') return;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  const identity = (item: unknown) =>
    listType === 'set' || !isObject(item)
      ? item
      : Object.fromEntries(keys.filter((k) => item[k] !== undefined).map((k) => [k, item[k]]));
  const seen: unknown[] = [];
  list.forEach((item, i) => {
    const id = identity(item);
    if (seen.some((other) => deepEqual(other, id))) {
      errors.push(fieldError.duplicate(indexPath(path, i), id));
    } else {
      seen.push(id);
    }
  });
}
