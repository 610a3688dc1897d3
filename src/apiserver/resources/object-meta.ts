import { isObject, type JsonObject, jsonType } from '../json.js';
import { fieldError } from '../schema/field-errors.js';
import type { FieldError, JSONSchemaProps } from '../schema/index.js';
import { validateValue } from '../schema/validate.js';

/** `ObjectMeta` as an OpenAPI schema with list types, for apply and discovery documents. */
export const OBJECT_META_SCHEMA: JSONSchemaProps = {
  type: 'object',
  description:
    'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
  properties: {
    name: { type: 'string', description: 'Name must be unique within a namespace.' },
    generateName: {
      type: 'string',
      description: 'Optional prefix the server uses to generate a unique name when name is empty.',
    },
    namespace: {
      type: 'string',
      description: 'Namespace defines the space within which each name must be unique.',
    },
    uid: {
      type: 'string',
      description: 'UID is the unique in time and space value for this object.',
    },
    resourceVersion: {
      type: 'string',
      description: 'An opaque value that represents the internal version of this object.',
    },
    generation: {
      type: 'integer',
      format: 'int64',
      description: 'A sequence number representing a specific generation of the desired state.',
    },
    creationTimestamp: {
      type: 'string',
      format: 'date-time',
      description: 'When this object was created.',
    },
    deletionTimestamp: {
      type: 'string',
      format: 'date-time',
      description:
        'When this object will be deleted; set by the server when deletion is requested.',
    },
    deletionGracePeriodSeconds: {
      type: 'integer',
      format: 'int64',
      description: 'Seconds allowed for this object to gracefully terminate.',
    },
    labels: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'Map of string keys and values that can be used to organize and categorize objects.',
    },
    annotations: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Unstructured key value map stored with a resource.',
    },
    finalizers: {
      type: 'array',
      items: { type: 'string' },
      'x-kubernetes-list-type': 'set',
      description: 'Must be empty before the object is deleted from the registry.',
    },
    ownerReferences: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      description: 'List of objects depended by this object.',
      items: {
        type: 'object',
        required: ['apiVersion', 'kind', 'name', 'uid'],
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          name: { type: 'string' },
          uid: { type: 'string' },
          controller: { type: 'boolean' },
          blockOwnerDeletion: { type: 'boolean' },
        },
      },
    },
    managedFields: {
      type: 'array',
      description:
        'Maps workflow-id and version to the set of fields that are managed by that workflow.',
      items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    selfLink: { type: 'string', description: 'Deprecated.' },
  },
};

/**
 * Wrong JSON types in `metadata` (labels a map of strings, finalizers a list of strings, …) as
 * field errors, so no code that reads metadata meets them. Null counts as absent, as when Go
 * decodes `ObjectMeta`; fields ObjectMeta does not know are left to pruning.
 */
export function objectMetaTypeErrors(metadata: unknown): FieldError[] {
  if (metadata === undefined || metadata === null) return [];
  if (!isObject(metadata)) {
    const type = jsonType(metadata);
    return [
      fieldError.typeInvalid(
        'metadata',
        type,
        `metadata in body must be of type object: "${type}"`,
      ),
    ];
  }
  const properties = OBJECT_META_SCHEMA.properties ?? {};
  return Object.entries(metadata).flatMap(([key, value]) => {
    const schema = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (!schema || value === null) return [];
    return validateValue(value, schema, `metadata.${key}`);
  });
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ANNOTATIONS_LIMIT = 256 * 1024;

const QUALIFIED_NAME_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const DNS_LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** Problems of a label or annotation key, or of a finalizer name (`prefix/name`). */
function qualifiedNameProblems(value: string): string[] {
  const parts = value.split('/');
  const name = parts.at(-1) ?? '';
  const problems: string[] = [];
  if (parts.length > 2) return [`a qualified name ${QUALIFIED_NAME_MESSAGE}`];
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (!prefix || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      problems.push(
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
      );
    }
  }
  if (!name) problems.push('name part must be non-empty');
  else if (name.length > 63) problems.push('name part must be no more than 63 characters');
  else if (!QUALIFIED_NAME.test(name)) problems.push(QUALIFIED_NAME_MESSAGE);
  return problems;
}

/**
 * Validates the parts of `metadata` the schema admission leaves to the API server: label and
 * annotation keys and values, finalizer names, and (for kinds named like namespaces) DNS labels.
 */
export function validateObjectMeta(object: JsonObject, options: { dnsLabelName?: boolean } = {}) {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const errors: FieldError[] = [];
  if (isObject(metadata.labels)) {
    for (const [key, value] of Object.entries(metadata.labels)) {
      for (const problem of qualifiedNameProblems(key)) {
        errors.push(fieldError.invalid('metadata.labels', key, problem));
      }
      if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
        errors.push(fieldError.invalid(`metadata.labels`, value, LABEL_VALUE_MESSAGE));
      }
    }
  }
  if (isObject(metadata.annotations)) {
    let size = 0;
    for (const [key, value] of Object.entries(metadata.annotations)) {
      for (const problem of qualifiedNameProblems(key.toLowerCase())) {
        errors.push(fieldError.invalid('metadata.annotations', key, problem));
      }
      size += key.length + (typeof value === 'string' ? value.length : 0);
    }
    if (size > ANNOTATIONS_LIMIT) {
      errors.push(fieldError.tooLong('metadata.annotations', ANNOTATIONS_LIMIT));
    }
  }
  if (Array.isArray(metadata.finalizers)) {
    metadata.finalizers.forEach((finalizer, index) => {
      for (const problem of qualifiedNameProblems(String(finalizer))) {
        errors.push(fieldError.invalid(`metadata.finalizers[${index}]`, finalizer, problem));
      }
    });
  }
  if (options.dnsLabelName) {
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    if (!name)
      errors.push(fieldError.required('metadata.name', 'name or generateName is required'));
    else if (name.length > 63 || !DNS_LABEL.test(name)) {
      errors.push(fieldError.invalid('metadata.name', name, DNS_LABEL_MESSAGE));
    }
  }
  return errors;
}
