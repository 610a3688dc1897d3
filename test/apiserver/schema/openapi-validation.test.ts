import { describe, expect, it } from 'vitest';
import { admitCustomResource, type JSONSchemaProps } from '../../../src/apiserver/schema/index.js';
import { admit, crdWith, lines, SKIPPED, widget } from '../../support/widget.js';

const scalars = crdWith({
  type: 'object',
  properties: {
    count: {
      type: 'integer',
      minimum: 0,
      exclusiveMinimum: true,
      maximum: 10,
      exclusiveMaximum: true,
    },
    ratio: { type: 'number', multipleOf: 0.5 },
    name: { type: 'string', minLength: 2 },
    port: { 'x-kubernetes-int-or-string': true },
    note: { type: 'string', nullable: true, default: 'none' },
    mode: { type: 'string', default: 'auto' },
    tags: { type: 'array', items: { type: 'string' } },
    labels: {
      type: 'object',
      minProperties: 1,
      maxProperties: 2,
      additionalProperties: { type: 'string' },
    },
    at: { type: 'string', format: 'date-time' },
    ip: { type: 'string', format: 'ipv4' },
    blob: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
});

describe('OpenAPI validation', () => {
  it.each([
    [
      'an integer as a string',
      { count: '3' },
      'FieldValueTypeInvalid spec.count: Invalid value: "string": spec.count in body must be of type integer: "string"',
      SKIPPED,
    ],
    [
      'a string as an object',
      { name: { a: 1 } },
      'FieldValueTypeInvalid spec.name: Invalid value: "object": spec.name in body must be of type string: "object"',
      SKIPPED,
    ],
    [
      'a list item that is null',
      { tags: ['a', null] },
      'FieldValueTypeInvalid spec.tags[1]: Invalid value: "null": spec.tags[1] in body must be of type string: "null"',
      SKIPPED,
    ],
    [
      'an exclusive minimum',
      { count: 0 },
      'FieldValueInvalid spec.count: Invalid value: 0: spec.count in body should be greater than 0',
    ],
    [
      'an exclusive maximum',
      { count: 10 },
      'FieldValueInvalid spec.count: Invalid value: 10: spec.count in body should be less than 10',
    ],
    [
      'a multiple',
      { ratio: 0.75 },
      'FieldValueInvalid spec.ratio: Invalid value: 0.75: spec.ratio in body should be a multiple of 0.5',
    ],
    ['an integer for a number', { ratio: 2 }],
    [
      'a short string',
      { name: 'a' },
      'FieldValueInvalid spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long',
    ],
    ['int-or-string as an integer', { port: 8080 }],
    ['int-or-string as a string', { port: 'http' }],
    [
      'int-or-string as a boolean',
      { port: true },
      'FieldValueTypeInvalid spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
      SKIPPED,
    ],
    [
      'too few properties',
      { labels: {} },
      'FieldValueInvalid spec.labels: Invalid value: 0: spec.labels in body should have at least 1 properties',
    ],
    [
      'too many properties',
      { labels: { a: '1', b: '2', c: '3' } },
      'FieldValueTooMany spec.labels: Too many: 3: must have at most 2 items',
      SKIPPED,
    ],
    [
      'a map value of the wrong type',
      { labels: { a: 1 } },
      'FieldValueTypeInvalid spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
      SKIPPED,
    ],
    ['a date-time with offset', { at: '2025-05-01T10:00:00.5+02:00' }],
    [
      'a date-time without zone',
      { at: '2025-05-01T10:00:00' },
      'FieldValueTypeInvalid spec.at: Invalid value: "2025-05-01T10:00:00": spec.at in body must be of type date-time: "2025-05-01T10:00:00"',
      SKIPPED,
    ],
    [
      'a 30th of February',
      { at: '2025-02-30T10:00:00Z' },
      'FieldValueTypeInvalid spec.at: Invalid value: "2025-02-30T10:00:00Z": spec.at in body must be of type date-time: "2025-02-30T10:00:00Z"',
      SKIPPED,
    ],
    [
      'an IPv4 address out of range',
      { ip: '10.0.0.256' },
      'FieldValueTypeInvalid spec.ip: Invalid value: "10.0.0.256": spec.ip in body must be of type ipv4: "10.0.0.256"',
      SKIPPED,
    ],
  ])('%s', (_name, spec, ...errors) => {
    expect(lines(admit(scalars, spec))).toEqual(errors);
  });

  it('keeps nullable nulls, drops other nulls and defaults them', () => {
    const result = admit(scalars, { note: null, mode: null, name: null });
    expect(result.errors).toEqual([]);
    expect(result.unknownFields).toEqual([]);
    expect((result.object as { spec: unknown }).spec).toEqual({ note: null, mode: 'auto' });
  });

  it('keeps unknown fields under x-kubernetes-preserve-unknown-fields', () => {
    const result = admit(scalars, { blob: { any: { thing: [1] } }, other: 1 });
    expect(result.unknownFields).toEqual(['.spec.other']);
    expect((result.object as { spec: unknown }).spec).toMatchObject({
      blob: { any: { thing: [1] } },
    });
  });

  it('defaults inside map values and list items', () => {
    const item: JSONSchemaProps = {
      type: 'object',
      properties: {
        size: { type: 'integer', default: 1 },
        opts: {
          type: 'object',
          default: {},
          properties: { on: { type: 'boolean', default: true } },
        },
      },
    };
    const crd = crdWith({
      type: 'object',
      properties: {
        byName: { type: 'object', additionalProperties: item },
        list: { type: 'array', items: { ...item, default: { size: 9 } } },
      },
    });
    const result = admit(crd, { byName: { a: {} }, list: [{ size: 2 }, null] });
    expect((result.object as { spec: unknown }).spec).toEqual({
      byName: { a: { size: 1, opts: { on: true } } },
      list: [
        { size: 2, opts: { on: true } },
        { size: 9, opts: { on: true } },
      ],
    });
  });

  it.each([
    [{ generateName: 'web-' }, []],
    [
      { generateName: 'Web-' },
      [
        "FieldValueInvalid metadata.generateName: Invalid value: \"Web-\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    [
      { name: 'x'.repeat(254) },
      [
        `FieldValueInvalid metadata.name: Invalid value: "${'x'.repeat(254)}": must be no more than 253 characters`,
      ],
    ],
    [
      { name: 7 },
      [
        'FieldValueTypeInvalid metadata.name: Invalid value: "integer": metadata.name in body must be of type string: "integer"',
        'FieldValueRequired metadata.name: Required value: name or generateName is required',
        SKIPPED,
      ],
    ],
  ])('checks metadata %j', (metadata, errors) => {
    const result = admitCustomResource(scalars, widget({}, metadata), {
      fieldValidation: 'Strict',
    });
    expect(lines(result)).toEqual(errors);
  });

  it('rejects a body that is no object', () => {
    expect(lines(admitCustomResource(scalars, [], { fieldValidation: 'Strict' }))).toEqual([
      'FieldValueTypeInvalid <nil>: Invalid value: "array": body must be of type object: "array"',
    ]);
  });
});
