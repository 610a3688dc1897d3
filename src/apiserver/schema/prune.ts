import { isObject, type JsonObject } from '../json.js';
import type { JSONSchemaProps } from './types.js';

/** The fields of `ObjectMeta`; anything else under `metadata` is unknown and pruned. */
const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

/**
 * Drops, in place, every field the structural schema does not specify, as the API server prunes
 * custom resources, and returns their paths sorted (`.spec.foo`, `.spec.items[0].bar`). Nulls of
 * non-nullable fields are dropped silently (so a default can take their place).
 */
export function pruneUnknownFields(object: JsonObject, schema: JSONSchemaProps): string[] {
  const pruned: string[] = [];
  pruneObject(object, schema, '', pruned, true);
  return pruned.sort();
}

function pruneValue(value: unknown, schema: JSONSchemaProps, path: string, pruned: string[]) {
  if (Array.isArray(value)) {
    const items = schema.items;
    if (!items) return;
    for (const [i, item] of value.entries()) pruneValue(item, items, `${path}[${i}]`, pruned);
  } else if (isObject(value)) {
    pruneObject(value, schema, path, pruned, false);
  }
}

function pruneObject(
  object: JsonObject,
  schema: JSONSchemaProps,
  path: string,
  pruned: string[],
  isRoot: boolean,
) {
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [key, value] of Object.entries(object)) {
    const fieldPath = `${path}.${key}`;
    if (isRoot && (key === 'apiVersion' || key === 'kind')) continue;
    if (isRoot && key === 'metadata') {
      if (isObject(value)) pruneMetadata(value, pruned);
      continue;
    }
    const fieldSchema = schemaOfField(schema, key);
    if (!fieldSchema) {
      if (!preserve && schema.additionalProperties !== true) {
        delete object[key];
        pruned.push(fieldPath);
      }
      continue;
    }
    if (value === null && !fieldSchema.nullable) {
      delete object[key];
      continue;
    }
    pruneValue(value, fieldSchema, fieldPath, pruned);
  }
}

function pruneMetadata(metadata: JsonObject, pruned: string[]) {
  for (const key of Object.keys(metadata)) {
    if (OBJECT_META_FIELDS.has(key)) continue;
    delete metadata[key];
    pruned.push(`.metadata.${key}`);
  }
}

/** The schema of property `key` of an object schema, if the schema specifies it. */
export function schemaOfField(schema: JSONSchemaProps, key: string): JSONSchemaProps | undefined {
  const { properties } = schema;
  if (properties && Object.hasOwn(properties, key)) return properties[key];
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}
