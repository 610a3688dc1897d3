import { unstorableReason } from '../api/storable-text.js';
/** Small helpers for plain JSON values: type guards, deep equality, key ordering. */

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON type name the API server reports for a value (`integer` for whole numbers). */
export function jsonType(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Structural equality of JSON values; object key order does not matter. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

/** Whether Postgres text and jsonb can hold the string: no NUL character, no unpaired surrogate. */
export function storable(text: string): boolean {
  return unstorableReason(text) === undefined;
}

/** A deep copy of a JSON value. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

const TOP_LEVEL_ORDER = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

/**
 * The object with `apiVersion, kind, metadata, spec, status` first, as users are used to reading
 * them; jsonb storage does not keep key order.
 */
export function withConventionalKeyOrder<T extends JsonObject>(object: T): T {
  const ordered: JsonObject = {};
  for (const key of TOP_LEVEL_ORDER) if (key in object) ordered[key] = object[key];
  for (const [key, value] of Object.entries(object)) if (!(key in ordered)) ordered[key] = value;
  return ordered as T;
}
