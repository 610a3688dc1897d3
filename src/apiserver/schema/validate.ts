import { deepEqual, isObject, type JsonObject, jsonType } from '../json.js';
import { childPath, fieldError, indexPath } from './field-errors.js';
import { satisfiesFormat } from './formats.js';
import type { FieldError, JSONSchemaProps } from './types.js';

/**
 * Validates a pruned, defaulted value against its structural schema the way kube-openapi does for
 * custom resources, with the same field paths and messages (`spec.x in body should match '…'`).
 */
export function validateValue(value: unknown, schema: JSONSchemaProps, path: string): FieldError[] {
  const errors: FieldError[] = [];
  validateNode(value, schema, path, errors);
  return errors;
}

function validateNode(value: unknown, schema: JSONSchemaProps, path: string, errors: FieldError[]) {
  const typeOk = checkType(value, schema, path, errors);
  if (value === null) return;
  if (schema.enum && !schema.enum.some((allowed) => deepEqual(allowed, value))) {
    errors.push(fieldError.notSupported(path, value, schema.enum));
  }
  if (!typeOk) return;
  if (typeof value === 'string') validateString(value, schema, path, errors);
  else if (typeof value === 'number') validateNumber(value, schema, path, errors);
  else if (Array.isArray(value)) validateArray(value, schema, path, errors);
  else if (isObject(value)) validateObject(value, schema, path, errors);
}

function expectedTypes(schema: JSONSchemaProps): string[] {
  if (schema['x-kubernetes-int-or-string']) return ['integer', 'string'];
  return schema.type ? [schema.type] : [];
}

function checkType(value: unknown, schema: JSONSchemaProps, path: string, errors: FieldError[]) {
  const expected = expectedTypes(schema);
  if (expected.length === 0) return true;
  const actual = jsonType(value);
  if (actual === 'null' && schema.nullable) return true;
  if (expected.includes(actual) || (actual === 'integer' && expected.includes('number'))) {
    return true;
  }
  const detail = `${path} in body must be of type ${expected.join(',')}: "${actual}"`;
  errors.push(fieldError.typeInvalid(path, actual, detail));
  if (actual === 'number' && expected.includes('integer')) {
    // kube-openapi's format check of the same value adds a second error, at the root.
    const format = `Checked value must be of type integer (default format) in ${path}`;
    errors.push(fieldError.invalid('', '', format));
  }
  return false;
}

const patterns = new Map<string, RegExp>();

function compiledPattern(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (!regex) {
    regex = new RegExp(pattern);
    patterns.set(pattern, regex);
  }
  return regex;
}

function validateString(
  value: string,
  schema: JSONSchemaProps,
  path: string,
  errors: FieldError[],
) {
  const length = [...value].length;
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    errors.push(fieldError.tooLong(path, schema.maxLength));
  }
  if (schema.minLength !== undefined && length < schema.minLength) {
    const detail = `${path} in body should be at least ${schema.minLength} chars long`;
    errors.push(fieldError.invalid(path, value, detail));
  }
  if (schema.pattern !== undefined && !compiledPattern(schema.pattern).test(value)) {
    const detail = `${path} in body should match '${schema.pattern}'`;
    errors.push(fieldError.invalid(path, value, detail));
  }
  if (schema.format !== undefined && !satisfiesFormat(schema.format, value)) {
    const detail = `${path} in body must be of type ${schema.format}: ${JSON.stringify(value)}`;
    errors.push(fieldError.typeInvalid(path, value, detail));
  }
}

function validateNumber(
  value: number,
  schema: JSONSchemaProps,
  path: string,
  errors: FieldError[],
) {
  const { minimum, maximum, multipleOf } = schema;
  if (minimum !== undefined) {
    const exclusive = schema.exclusiveMinimum === true;
    if (exclusive ? value <= minimum : value < minimum) {
      const bound = exclusive ? 'greater than' : 'greater than or equal to';
      errors.push(fieldError.invalid(path, value, `${path} in body should be ${bound} ${minimum}`));
    }
  }
  if (maximum !== undefined) {
    const exclusive = schema.exclusiveMaximum === true;
    if (exclusive ? value >= maximum : value > maximum) {
      const bound = exclusive ? 'less than' : 'less than or equal to';
      errors.push(fieldError.invalid(path, value, `${path} in body should be ${bound} ${maximum}`));
    }
  }
  if (multipleOf !== undefined && !Number.isInteger(value / multipleOf)) {
    const detail = `${path} in body should be a multiple of ${multipleOf}`;
    errors.push(fieldError.invalid(path, value, detail));
  }
}

function validateArray(
  value: unknown[],
  schema: JSONSchemaProps,
  path: string,
  errors: FieldError[],
) {
  const items = schema.items;
  if (items) {
    for (const [i, item] of value.entries()) validateNode(item, items, indexPath(path, i), errors);
  }
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    const detail = `${path} in body should have at least ${schema.minItems} items`;
    errors.push(fieldError.invalid(path, value.length, detail));
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    errors.push(fieldError.tooMany(path, value.length, schema.maxItems));
  }
}

function validateObject(
  value: JsonObject,
  schema: JSONSchemaProps,
  path: string,
  errors: FieldError[],
) {
  const count = Object.keys(value).length;
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    const detail = `${path} in body should have at least ${schema.minProperties} properties`;
    errors.push(fieldError.invalid(path, count, detail));
    return;
  }
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    errors.push(fieldError.tooMany(path, count, schema.maxProperties));
    return;
  }
  const properties = schema.properties ?? {};
  const additional =
    typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  for (const [key, child] of Object.entries(value)) {
    const childSchema = Object.hasOwn(properties, key) ? properties[key] : additional;
    if (childSchema) validateNode(child, childSchema, childPath(path, key), errors);
  }
  for (const key of schema.required ?? []) {
    if (!Object.hasOwn(value, key)) errors.push(fieldError.required(childPath(path, key)));
  }
}
