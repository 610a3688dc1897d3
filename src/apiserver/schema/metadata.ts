import { isObject, jsonType } from '../json.js';
import { fieldError } from './field-errors.js';
import type { FieldError } from './types.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
  "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for " +
  "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function subdomainErrors(field: string, value: string, checked: string): FieldError[] {
  const errors: FieldError[] = [];
  if (checked.length > 253) {
    errors.push(fieldError.invalid(field, value, 'must be no more than 253 characters'));
  }
  if (!DNS1123_SUBDOMAIN.test(checked)) {
    errors.push(fieldError.invalid(field, value, DNS1123_SUBDOMAIN_MESSAGE));
  }
  return errors;
}

/**
 * The part of `ObjectMeta` validation that depends on the kind, as for custom resources: a name
 * or generateName is present and is a DNS-1123 subdomain (generateName as a prefix). The API
 * server checks the rest of `metadata` itself.
 */
export function validateMetadataName(metadata: unknown): FieldError[] {
  if (!isObject(metadata)) return [fieldError.required('metadata')];
  const { name, generateName } = metadata;
  const errors: FieldError[] = [];
  for (const [field, value] of [
    ['name', name],
    ['generateName', generateName],
  ] as const) {
    if (value !== undefined && typeof value !== 'string') {
      const detail = `metadata.${field} in body must be of type string: "${jsonType(value)}"`;
      errors.push(fieldError.typeInvalid(`metadata.${field}`, jsonType(value), detail));
    }
  }
  if (typeof generateName === 'string' && generateName !== '') {
    // As apimachinery's maskTrailingDash: a prefix may end in '-', the generated suffix follows.
    const masked =
      generateName.length > 1 && generateName.endsWith('-')
        ? `${generateName.slice(0, -2)}a`
        : generateName;
    errors.push(...subdomainErrors('metadata.generateName', generateName, masked));
  }
  if (typeof name === 'string' && name !== '') {
    errors.push(...subdomainErrors('metadata.name', name, name));
  } else if (!generateName) {
    errors.push(fieldError.required('metadata.name', 'name or generateName is required'));
  }
  return errors;
}
