import { describe, expect, it } from 'vitest';
import { admitCustomResource } from '../../../src/apiserver/schema/index.js';
import { admit, crdWith, lines, SKIPPED, widget } from '../../support/widget.js';

describe('CEL rules', () => {
  const rules = crdWith(
    {
      type: 'object',
      properties: {
        min: { type: 'integer' },
        max: {
          type: 'integer',
          'x-kubernetes-validations': [
            {
              rule: 'self >= oldSelf',
              messageExpression: "'max may not shrink below ' + string(oldSelf)",
            },
          ],
        },
        limits: {
          type: 'object',
          additionalProperties: {
            type: 'integer',
            'x-kubernetes-validations': [{ rule: 'self < 100' }],
          },
          'x-kubernetes-validations': [
            {
              rule: '!has(self.cpu) || self.cpu > 0',
              message: 'cpu must be positive',
              fieldPath: '.cpu',
            },
          ],
        },
        items: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['id'],
          items: {
            type: 'object',
            properties: { id: { type: 'string' }, size: { type: 'integer' } },
            'x-kubernetes-validations': [
              { rule: 'self.size >= oldSelf.size', message: 'items may only grow' },
            ],
          },
        },
        first: {
          type: 'string',
          'x-kubernetes-validations': [
            {
              rule: 'oldSelf.hasValue() ? self == oldSelf.value() : self.startsWith("a")',
              message: 'first must start with a, then never change',
              optionalOldSelf: true,
            },
          ],
        },
        names: {
          type: 'array',
          items: { type: 'string' },
          'x-kubernetes-validations': [
            { rule: 'self.all(n, self.exists_one(m, m == n))', reason: 'FieldValueDuplicate' },
          ],
        },
        broken: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self +' }] },
        notBool: { type: 'string', 'x-kubernetes-validations': [{ rule: 'size(self)' }] },
        lookup: {
          type: 'object',
          properties: { a: { type: 'integer' } },
          'x-kubernetes-validations': [{ rule: 'self.b == 1' }],
        },
      },
      'x-kubernetes-validations': [
        {
          rule: '!has(self.min) || !has(self.max) || self.min <= self.max',
          message: 'min must not exceed max',
        },
      ],
    },
    [
      {
        rule: "self.metadata.name != 'forbidden' && !has(self.metadata.labels)",
        message: 'name forbidden',
      },
    ],
  );

  it.each([
    [
      'min over max',
      { min: 5, max: 3 },
      undefined,
      'FieldValueInvalid spec: Invalid value: min must not exceed max',
    ],
    [
      'a map value rule, with a key path',
      { limits: { mem: 100 } },
      undefined,
      'FieldValueInvalid spec.limits[mem]: Invalid value: 100: failed rule: self < 100',
    ],
    [
      'a fieldPath',
      { limits: { cpu: 0 } },
      undefined,
      'FieldValueInvalid spec.limits[cpu]: Invalid value: cpu must be positive',
    ],
    [
      'a messageExpression on update',
      { max: 2 },
      { max: 3 },
      'FieldValueInvalid spec.max: Invalid value: 2: max may not shrink below 3',
    ],
    ['a transition rule on create', { max: 2 }, undefined],
    [
      'a list-map item correlated by key',
      {
        items: [
          { id: 'b', size: 1 },
          { id: 'a', size: 1 },
        ],
      },
      { items: [{ id: 'a', size: 2 }] },
      'FieldValueInvalid spec.items[1]: Invalid value: items may only grow',
    ],
    [
      'optionalOldSelf on create',
      { first: 'bee' },
      undefined,
      'FieldValueInvalid spec.first: Invalid value: "bee": first must start with a, then never change',
    ],
    ['optionalOldSelf on update', { first: 'bee' }, { first: 'bee' }],
    [
      'reason FieldValueDuplicate',
      { names: ['x', 'x'] },
      undefined,
      'FieldValueDuplicate spec.names: Duplicate value',
    ],
    [
      'a rule that does not compile',
      { broken: 'x' },
      undefined,
      'FieldValueInvalid spec.broken: Invalid value: "string": rule compile error: Unexpected token: EOF',
    ],
    [
      'a rule that is no bool',
      { notBool: 'x' },
      undefined,
      'FieldValueInvalid spec.notBool: Invalid value: "string": rule compile error: rule must evaluate to a bool, not int',
    ],
    [
      'a rule failing at runtime',
      { lookup: { a: 1 } },
      undefined,
      'FieldValueInvalid spec.lookup: Invalid value: "object": No such key: b evaluating rule: self.b == 1',
    ],
  ])('%s', (_name, spec, oldSpec, ...errors) => {
    expect(lines(admit(rules, spec, oldSpec))).toEqual(errors);
  });

  it('show a resource-root rule only metadata.name and generateName', () => {
    const object = widget({}, { name: 'ok', labels: { a: 'b' } });
    expect(lines(admitCustomResource(rules, object, { fieldValidation: 'Strict' }))).toEqual([]);
    const forbidden = widget({}, { name: 'forbidden' });
    expect(lines(admitCustomResource(rules, forbidden, { fieldValidation: 'Strict' }))).toEqual([
      'FieldValueInvalid <nil>: Invalid value: name forbidden',
    ]);
  });

  it('are skipped after a blocking error', () => {
    expect(lines(admit(rules, { min: 5, max: 'x' }))).toEqual([
      'FieldValueTypeInvalid spec.max: Invalid value: "string": spec.max in body must be of type integer: "string"',
      SKIPPED,
    ]);
  });
});
