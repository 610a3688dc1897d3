import { deepEqual, isObject, type JsonObject } from '../json.js';
import { fieldError } from '../schema/field-errors.js';
import type { FieldError, JSONSchemaProps } from '../schema/index.js';
import { badRequest, invalid } from '../status.js';
import {
  ageColumn,
  builtinResource,
  nameColumn,
  OBJECT_META_MERGE_LISTS,
  TYPE_META_PROPERTIES,
} from './define.js';
import type { ResourceType } from './types.js';

/**
 * Core `v1` Secret with kube-apiserver's semantics: `stringData` is write-only and merged into
 * `data` (its keys win), `data` values must be base64, `type` defaults to `Opaque` and cannot
 * change, and an `immutable` Secret keeps its data.
 */

const DATA_DESCRIPTION =
  "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4";
const TYPE_DESCRIPTION =
  'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types';

const SECRET_SCHEMA: JSONSchemaProps = {
  type: 'object',
  description:
    'Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.',
  properties: {
    ...TYPE_META_PROPERTIES,
    data: {
      type: 'object',
      description: DATA_DESCRIPTION,
      additionalProperties: { type: 'string', format: 'byte' },
    },
    stringData: {
      type: 'object',
      description:
        'stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience.',
      additionalProperties: { type: 'string' },
    },
    type: { type: 'string', description: TYPE_DESCRIPTION },
    immutable: {
      type: 'boolean',
      description:
        'Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified).',
    },
  },
};

/** Upstream's MaxSecretSize: the decoded values of `data` together. */
const MAX_SECRET_BYTES = 1024 * 1024;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64_CHAR = /[A-Za-z0-9+/]/;

/** Keys a Secret of a built-in type must hold (upstream's ValidateSecret). */
const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

/**
 * Where Go's padded base64 decoder stops on `text` (its CorruptInputError offset), or undefined
 * when `text` decodes. Line breaks are skipped, as Go does.
 */
export function base64ErrorOffset(text: string): number | undefined {
  let quantum = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '\n' || char === '\r') continue;
    if (char === '=') {
      if (quantum < 2) return i;
      const rest = text.slice(i).replace(/[\r\n]/g, '');
      const expected = quantum === 2 ? '==' : '=';
      return rest === expected ? undefined : i + (rest.startsWith(expected) ? expected.length : 0);
    }
    if (!BASE64_CHAR.test(char)) return i;
    quantum = (quantum + 1) % 4;
  }
  return quantum === 0 ? undefined : text.length - quantum;
}

/** Merges `stringData` into `data` as upstream's conversion does; bad base64 is a 400. */
function convertInput(object: JsonObject): void {
  const data = isObject(object.data) ? { ...object.data } : {};
  for (const value of Object.values(data)) {
    if (typeof value !== 'string') continue;
    const offset = base64ErrorOffset(value);
    if (offset !== undefined) {
      throw badRequest(
        `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${offset}`,
      );
    }
  }
  if (isObject(object.stringData)) {
    for (const [key, value] of Object.entries(object.stringData)) {
      if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
    }
  }
  delete object.stringData;
  if (Object.keys(data).length > 0 || object.data !== undefined) object.data = data;
  if (typeof object.type !== 'string' || object.type === '') object.type = 'Opaque';
}

function keyErrors(key: string): string[] {
  if (key.length > 253) return ['must be no more than 253 characters'];
  const errors: string[] = [];
  if (!CONFIG_KEY.test(key)) {
    errors.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  }
  if (key === '.') errors.push("must not be '.'");
  else if (key === '..') errors.push("must not be '..'");
  else if (key.startsWith('..')) errors.push("must not start with '..'");
  return errors;
}

/** Upstream's ValidateSecret: keys, total size, the keys a typed Secret needs. */
function validateSecret(object: JsonObject): FieldError[] {
  const data = isObject(object.data) ? object.data : {};
  const errors: FieldError[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(data)) {
    for (const message of keyErrors(key))
      errors.push(fieldError.invalid(`data[${key}]`, key, message));
    if (typeof value === 'string') size += Buffer.from(value, 'base64').length;
  }
  if (size > MAX_SECRET_BYTES) errors.push(fieldError.tooLong('data', MAX_SECRET_BYTES));
  for (const key of REQUIRED_KEYS[String(object.type)] ?? []) {
    if (data[key] === undefined) errors.push(fieldError.required(`data[${key}]`));
  }
  // A basic-auth Secret needs a username or a password key (either may be empty).
  if (
    object.type === 'kubernetes.io/basic-auth' &&
    data.username === undefined &&
    data.password === undefined
  ) {
    errors.push(fieldError.required('data[username]'), fieldError.required('data[password]'));
  }
  return errors;
}

/** Upstream's ValidateSecretUpdate: `type` is immutable, and so is everything of an immutable one. */
function checkUpdate(next: JsonObject, current: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  if (next.type !== current.type) {
    errors.push(fieldError.invalid('type', next.type, 'field is immutable'));
  }
  if (current.immutable === true) {
    const detail = 'field is immutable when `immutable` is set';
    if (next.immutable !== true) errors.push(fieldError.forbidden('immutable', detail));
    if (!deepEqual(next.data ?? {}, current.data ?? {})) {
      errors.push(fieldError.forbidden('data', detail));
    }
  }
  return errors;
}

/** `v1` Secret, so NotificationChannels can refer to credentials on the local server too. */
export const secretResource: ResourceType = builtinResource({
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  shortNames: [],
  namespaced: true,
  schema: SECRET_SCHEMA,
  strategicMergeLists: OBJECT_META_MERGE_LISTS,
  columns: [
    nameColumn,
    {
      name: 'Type',
      description: TYPE_DESCRIPTION,
      cell: (object) => object.type ?? '',
    },
    {
      name: 'Data',
      description: DATA_DESCRIPTION,
      cell: (object) => (isObject(object.data) ? Object.keys(object.data).length : 0),
    },
    {
      ...ageColumn,
      // Upstream's Secret printer types Age as a string with ObjectMeta's full description.
      type: 'string',
      description:
        'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
    },
  ],
  selectableFields: { type: (object) => String(object.type ?? '') },
  prepareForCreate: convertInput,
  prepareForUpdate: (next, current) => {
    convertInput(next);
    const errors = checkUpdate(next, current);
    const name = String(isObject(current.metadata) ? current.metadata.name : '');
    // Upstream reports these first, then what ValidateSecret finds in the new object.
    if (errors.length > 0) {
      throw invalid({ group: '', kind: 'Secret' }, name, [...errors, ...validateSecret(next)]);
    }
  },
  validate: validateSecret,
});
