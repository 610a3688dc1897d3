import { depthOf, MAX_JSON_DEPTH } from '../api/json-depth.js';
import { findUnstorable, printable, type UnstorableText } from '../api/storable-text.js';
import { PayloadError } from './push.js';

/** Longest string field a parser reads. */
const MAX_STRING_LENGTH = 1024;
/** Most items of an array field a parser reads. */
export const MAX_ARRAY_ITEMS = 1000;

/**
 * Parses JSON text, rejecting invalid text, nesting deeper than MAX_JSON_DEPTH and strings or
 * keys Postgres cannot store (NUL, unpaired surrogates): a delivery it could not record is
 * malformed, not a reason for the registry to retry.
 */
export function parseJson(text: string, what = 'the body'): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new PayloadError(`${what} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (depthOf(value) > MAX_JSON_DEPTH) {
    throw new PayloadError(`${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const unstorable = findUnstorable(value);
  if (unstorable) throw new PayloadError(unstorableMessage(unstorable, what));
  return value;
}

/** `push_data.tag in the body contains a NUL character`, the field's text escaped. */
function unstorableMessage({ path, key, reason }: UnstorableText, what: string): string {
  const dotted = path
    .map((step) => (typeof step === 'number' ? `[${step}]` : `.${printable(step)}`))
    .join('')
    .replace(/^\./, '');
  const field = key ? `the property name ${dotted}` : dotted;
  return `${path.length > 0 ? `${field} in ${what}` : what} contains ${reason}`;
}

/**
 * Typed, bounded access to an untrusted JSON document. Paths are dotted (`push_data.tag`);
 * every failure is a PayloadError naming the full path and what was expected.
 */
export class JsonReader {
  constructor(
    readonly value: unknown,
    private readonly path = '',
  ) {}

  /** The reader of a nested value; a missing value reads as undefined. */
  at(path: string): JsonReader {
    let value = this.value;
    for (const key of path.split('.')) {
      value = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
    }
    return new JsonReader(value, this.join(path));
  }

  /** True when the value at `path` is present and not null. */
  has(path: string): boolean {
    const value = this.at(path).value;
    return value !== undefined && value !== null;
  }

  /** True when the value is a JSON object. */
  isObject(): boolean {
    return isObject(this.value);
  }

  /** A required, non-empty string of at most MAX_STRING_LENGTH characters. */
  string(path: string): string {
    const value = this.optionalString(path);
    if (value === undefined) throw new PayloadError(`${this.join(path)} is required`);
    return value;
  }

  /** A string when present; absent, null and empty read as undefined. */
  optionalString(path: string): string | undefined {
    const value = this.at(path).value;
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw this.wrongType(path, 'a string', value);
    if (value.length > MAX_STRING_LENGTH) {
      throw new PayloadError(
        `${this.join(path)} is longer than ${MAX_STRING_LENGTH} characters (${value.length})`,
      );
    }
    return value;
  }

  /** A finite number when present. */
  optionalNumber(path: string): number | undefined {
    const value = this.at(path).value;
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw this.wrongType(path, 'a number', value);
    }
    return value;
  }

  /** The items of an array (an absent array reads as empty), at most MAX_ARRAY_ITEMS. */
  array(path: string): JsonReader[] {
    const reader = this.at(path);
    if (reader.value === undefined || reader.value === null) return [];
    if (!Array.isArray(reader.value)) throw this.wrongType(path, 'an array', reader.value);
    if (reader.value.length > MAX_ARRAY_ITEMS) {
      throw new PayloadError(`${reader.path} has more than ${MAX_ARRAY_ITEMS} items`);
    }
    return reader.value.map((item, index) => new JsonReader(item, `${reader.path}[${index}]`));
  }

  /** Requires the value at `path` (or this value, for '') to be an object. */
  object(path = ''): JsonReader {
    const reader = path ? this.at(path) : this;
    if (!isObject(reader.value)) {
      throw new PayloadError(`${reader.path || 'the body'} must be a JSON object`);
    }
    return reader;
  }

  private join(path: string): string {
    return this.path ? `${this.path}.${path}` : path;
  }

  private wrongType(path: string, expected: string, value: unknown): PayloadError {
    const actual = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    return new PayloadError(`${this.join(path)} must be ${expected}, got ${actual}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
