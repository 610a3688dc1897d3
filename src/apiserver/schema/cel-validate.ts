import { deepEqual, isObject, type JsonObject } from '../json.js';
import { evaluateRule, type RuleTarget } from './cel-rules.js';
import { childPath, indexPath } from './field-errors.js';
import { schemaOfField } from './prune.js';
import type { FieldError, JSONSchemaProps } from './types.js';

/**
 * Evaluates every `x-kubernetes-validations` rule of the schema against `object`, depth first,
 * with `oldSelf` correlated as the API server does: through object properties and map keys, and
 * through list items only for `x-kubernetes-list-type: map` (by key fields).
 */
export function validateCelRules(
  object: JsonObject,
  schema: JSONSchemaProps,
  oldObject: JsonObject | undefined,
): FieldError[] {
  const errors: FieldError[] = [];
  walk(object, oldObject, schema, '', errors, true);
  return errors;
}

function walk(
  value: unknown,
  old: unknown,
  schema: JSONSchemaProps,
  path: string,
  errors: FieldError[],
  isRoot = false,
) {
  if (value === null || value === undefined) return;
  const rules = schema['x-kubernetes-validations'] ?? [];
  if (rules.length > 0) {
    const ruleTarget = target(value, old, schema, path, isRoot);
    for (const rule of rules) {
      const error = evaluateRule(rule, ruleTarget);
      if (error) errors.push(error);
    }
  }
  if (Array.isArray(value)) {
    const items = schema.items;
    if (!items) return;
    const oldList = Array.isArray(old) ? old : [];
    for (const [i, item] of value.entries()) {
      walk(item, correlatedItem(item, oldList, schema), items, indexPath(path, i), errors);
    }
  } else if (isObject(value)) {
    const oldMap = isObject(old) ? old : {};
    for (const [key, child] of Object.entries(value)) {
      if (isRoot && key === 'metadata') continue;
      const childSchema = schemaOfField(schema, key);
      if (!childSchema) continue;
      const named = schema.properties !== undefined && Object.hasOwn(schema.properties, key);
      const fieldPath = named ? childPath(path, key) : indexPath(path, key);
      walk(child, oldMap[key], childSchema, fieldPath, errors);
    }
  }
}

/** The old item with the same map keys, for lists of `x-kubernetes-list-type: map`. */
function correlatedItem(item: unknown, oldList: unknown[], schema: JSONSchemaProps): unknown {
  if (schema['x-kubernetes-list-type'] !== 'map' || !isObject(item)) return undefined;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  return oldList.find(
    (old) => isObject(old) && keys.every((key) => deepEqual(old[key], item[key])),
  );
}

function target(
  value: unknown,
  old: unknown,
  schema: JSONSchemaProps,
  path: string,
  isRoot: boolean,
): RuleTarget {
  const visible = (v: unknown) => (isRoot && isObject(v) ? withNameOnlyMetadata(v) : v);
  return {
    path,
    schemaType: schema.type ?? 'object',
    value,
    self: toCel(visible(value), schema),
    oldSelf: old === undefined || old === null ? undefined : toCel(visible(old), schema),
    resolveFieldPath: (fieldPath) => resolveFieldPath(fieldPath, schema, path),
  };
}

/** At a resource root CEL sees only `metadata.name` and `metadata.generateName`. */
function withNameOnlyMetadata(object: JsonObject): JsonObject {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const visible: JsonObject = {};
  if (metadata.name !== undefined) visible.name = metadata.name;
  if (metadata.generateName !== undefined) visible.generateName = metadata.generateName;
  return { ...object, metadata: visible };
}

/**
 * A JSON value as CEL sees it: integers of `integer` fields as BigInt (CEL `int`), and strings of
 * `format: date-time` fields as timestamps, as kube-apiserver types them.
 */
function toCel(value: unknown, schema: JSONSchemaProps): unknown {
  if (Array.isArray(value)) return value.map((item) => toCel(item, schema.items ?? {}));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [
        key,
        toCel(child, schemaOfField(schema, key) ?? {}),
      ]),
    );
  }
  if (typeof value === 'string' && schema.format === 'date-time') {
    const time = new Date(value);
    if (!Number.isNaN(time.getTime())) return time;
  }
  if (typeof value === 'number' && Number.isInteger(value) && schema.type !== 'number') {
    return BigInt(value);
  }
  return value;
}

const FIELD_PATH_STEP = /^(?:\.([^.[\]]+)|\['((?:[^'\\]|\\.)*)'\])/;

/** Resolves a rule's `fieldPath` (`.batches`, `.labels['app']`) against the node's schema. */
function resolveFieldPath(fieldPath: string, schema: JSONSchemaProps, path: string): string {
  let rest = fieldPath;
  let current: JSONSchemaProps | undefined = schema;
  let resolved = path;
  while (rest.length > 0) {
    const match = FIELD_PATH_STEP.exec(rest);
    if (!match) return childPath(path, fieldPath.replace(/^\./, ''));
    const name = match[1] ?? (match[2] ?? '').replace(/\\(.)/g, '$1');
    const named = current?.properties !== undefined && Object.hasOwn(current.properties, name);
    resolved = named ? childPath(resolved, name) : indexPath(resolved, name);
    current = current ? schemaOfField(current, name) : undefined;
    rest = rest.slice(match[0].length);
  }
  return resolved;
}
