import type { FieldError } from './types.js';

/** Marks a field error whose body leaves the value out (`Invalid value: <detail>`). */
export const OMIT_VALUE = Symbol('omit value');

/** Renders a bad value as the real API server does: strings quoted, numbers bare, the rest as JSON. */
function renderValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value) ?? 'null';
}

/** Go's `strconv.Quote` of a string enum value, or of the JSON of any other value. */
function quoteSupported(value: unknown): string {
  return JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value));
}

function body(kind: string, value: unknown, detail: string): string {
  const head = value === OMIT_VALUE ? kind : `${kind}: ${renderValue(value)}`;
  return detail ? `${head}: ${detail}` : head;
}

/** The resource root has no path; apimachinery prints its nil `*field.Path` as `<nil>`. */
const at = (field: string) => field || '<nil>';

/** Builders of Kubernetes field errors, with the messages `k8s.io/apimachinery` writes. */
export const fieldError = {
  required: (field: string, detail = ''): FieldError => ({
    type: 'FieldValueRequired',
    field: at(field),
    message: detail ? `Required value: ${detail}` : 'Required value',
  }),
  forbidden: (field: string, detail: string): FieldError => ({
    type: 'FieldValueForbidden',
    field: at(field),
    message: `Forbidden: ${detail}`,
  }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field: at(field),
    message: body('Invalid value', value, detail),
  }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueTypeInvalid',
    field: at(field),
    message: body('Invalid value', value, detail),
  }),
  notSupported: (field: string, value: unknown, supported: unknown[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field: at(field),
    message: body(
      'Unsupported value',
      value,
      supported.length > 0 ? `supported values: ${supported.map(quoteSupported).join(', ')}` : '',
    ),
  }),
  tooLong: (field: string, maxLength: number): FieldError => ({
    type: 'FieldValueTooLong',
    field: at(field),
    message: `Too long: may not be more than ${maxLength} ${maxLength === 1 ? 'byte' : 'bytes'}`,
  }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field: at(field),
    message: `Too many: ${actual}: must have at most ${max} ${max === 1 ? 'item' : 'items'}`,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({
    type: 'FieldValueDuplicate',
    field: at(field),
    message: body('Duplicate value', value, ''),
  }),
};

/** `field: message`, the way the API server joins them in `Status.message` and warnings. */
export function describeFieldError(error: FieldError): string {
  return `${error.field}: ${error.message}`;
}

/** Path of a property below `parent` (`spec` + `image` → `spec.image`). */
export function childPath(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name;
}

/** Path of a list item (`spec.batches` + 1 → `spec.batches[1]`) or map key (`labels[app]`). */
export function indexPath(parent: string, index: number | string): string {
  return `${parent}[${index}]`;
}
