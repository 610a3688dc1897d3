import type { JSONSchemaProps } from '../schema/index.js';

/**
 * The shape of a resource as server-side apply needs it: which maps are granular, which lists
 * are atomic, sets or keyed maps. Derived from an OpenAPI v3 schema with the
 * `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and `x-kubernetes-map-type` extensions.
 */
export type TypeNode =
  | { kind: 'scalar' }
  | { kind: 'untyped' }
  | {
      kind: 'map';
      fields: Record<string, TypeNode>;
      /** The type of keys not in `fields` (additionalProperties), if they are allowed. */
      elements: TypeNode | undefined;
      atomic: boolean;
    }
  | { kind: 'list'; items: TypeNode; listType: 'atomic' | 'set' | 'map'; keys: string[] };

/** The type of a value of unknown schema: maps are granular, lists atomic. */
export const UNTYPED: TypeNode = { kind: 'untyped' };

/** Builds the type tree of a schema. */
export function typeOfSchema(schema: JSONSchemaProps | undefined): TypeNode {
  if (!schema) return UNTYPED;
  if (schema.type === 'array') {
    return {
      kind: 'list',
      items: typeOfSchema(schema.items),
      listType: schema['x-kubernetes-list-type'] ?? 'atomic',
      keys: schema['x-kubernetes-list-map-keys'] ?? [],
    };
  }
  if (schema.type === 'object' || schema.properties || schema.additionalProperties) {
    const fields: Record<string, TypeNode> = {};
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      fields[name] = typeOfSchema(property);
    }
    const additional = schema.additionalProperties;
    let elements: TypeNode | undefined;
    if (typeof additional === 'object') elements = typeOfSchema(additional);
    else if (additional === true || schema['x-kubernetes-preserve-unknown-fields']) {
      elements = UNTYPED;
    }
    return { kind: 'map', fields, elements, atomic: schema['x-kubernetes-map-type'] === 'atomic' };
  }
  if (schema['x-kubernetes-preserve-unknown-fields']) return UNTYPED;
  return { kind: 'scalar' };
}

/** The type of `value` under `type`, resolving `untyped` by what the value is. */
export function resolve(type: TypeNode, value: unknown): TypeNode {
  if (type.kind !== 'untyped') return type;
  if (Array.isArray(value)) return { kind: 'list', items: UNTYPED, listType: 'atomic', keys: [] };
  if (typeof value === 'object' && value !== null) {
    return { kind: 'map', fields: {}, elements: UNTYPED, atomic: false };
  }
  return { kind: 'scalar' };
}

/** The type of field `name` of a map type, or undefined when the field is not allowed. */
export function fieldType(type: TypeNode & { kind: 'map' }, name: string): TypeNode | undefined {
  return Object.hasOwn(type.fields, name) ? type.fields[name] : type.elements;
}

/** The path element of a list item: `k:{...}` for keyed lists, `v:...` for sets, else `i:n`. */
export function itemElement(type: TypeNode & { kind: 'list' }, item: unknown, index: number) {
  if (type.listType === 'map' && type.keys.length > 0) {
    const key: Record<string, unknown> = {};
    const record = (typeof item === 'object' && item !== null ? item : {}) as Record<
      string,
      unknown
    >;
    for (const name of [...type.keys].sort()) key[name] = record[name] ?? null;
    return `k:${JSON.stringify(key)}`;
  }
  if (type.listType === 'set') return `v:${JSON.stringify(item)}`;
  return `i:${index}`;
}

/** True when values of this type are replaced as a whole (scalars, atomic lists and maps). */
export function isAtomic(type: TypeNode): boolean {
  return (
    type.kind === 'scalar' ||
    (type.kind === 'list' && type.listType === 'atomic') ||
    (type.kind === 'map' && type.atomic)
  );
}
