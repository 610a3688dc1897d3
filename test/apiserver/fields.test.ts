import { describe, expect, it } from 'vitest';
import { FieldSet, fieldSetOf, pathToString } from '../../src/apiserver/fields/fieldset.js';
import { LAST_APPLIED, recordApply } from '../../src/apiserver/fields/last-applied.js';
import {
  decodeManagedFields,
  encodeManagedFields,
  type FieldContext,
  type Managers,
  recordUpdate,
} from '../../src/apiserver/fields/managed.js';
import { typeOfSchema } from '../../src/apiserver/fields/types.js';
import { compare, toFieldSet } from '../../src/apiserver/fields/walk.js';
import { withObjectMeta } from '../../src/apiserver/resources/define.js';

const type = typeOfSchema(
  withObjectMeta({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          image: { type: 'string' },
          tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
          batches: { type: 'array', items: { type: 'integer' } },
          conditions: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['type'],
            items: {
              type: 'object',
              properties: { type: { type: 'string' }, status: { type: 'string' } },
            },
          },
          extra: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  }),
);
const ctx: FieldContext = {
  type,
  apiVersion: 'example.com/v1',
  resetFields: fieldSetOf(),
  now: '2025-01-01T00:00:00Z',
};
const fields = (value: unknown) => toFieldSet(value, type).toFieldsV1();

describe('field sets', () => {
  it('round-trips fieldsV1 and renders paths as structured-merge-diff does', () => {
    const json = {
      'f:spec': {
        '.': {},
        'f:image': {},
        'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:status': {} } },
      },
    };
    const set = FieldSet.fromFieldsV1(json);
    expect(set.toFieldsV1()).toEqual(json);
    expect(set.paths().map(pathToString)).toEqual([
      '.spec',
      '.spec.conditions[type="Ready"]',
      '.spec.conditions[type="Ready"].status',
      '.spec.image',
    ]);
    expect(pathToString(['f:spec', 'f:tags', 'v:"a"'])).toBe('.spec.tags[="a"]');
  });

  it('subtracts members and whole subtrees', () => {
    const set = fieldSetOf('spec.image', 'status.phase', 'metadata');
    expect(set.difference(fieldSetOf('metadata')).paths()).toEqual([
      ['f:spec', 'f:image'],
      ['f:status', 'f:phase'],
    ]);
    expect(set.recursiveDifference(fieldSetOf('status')).paths()).toEqual([
      ['f:metadata'],
      ['f:spec', 'f:image'],
    ]);
    expect(set.intersection(fieldSetOf('spec.image')).paths()).toEqual([['f:spec', 'f:image']]);
  });

  it.each([
    [
      'scalars and atomic lists are leaves',
      { spec: { image: 'a', batches: [1] } },
      { 'f:spec': { 'f:image': {}, 'f:batches': {} } },
    ],
    [
      'set items are values',
      { spec: { tags: ['x'] } },
      { 'f:spec': { 'f:tags': { 'v:"x"': {} } } },
    ],
    [
      'keyed items are members with their fields',
      { spec: { conditions: [{ type: 'Ready', status: 'True' }] } },
      {
        'f:spec': {
          'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:status': {}, 'f:type': {} } },
        },
      },
    ],
    [
      'map entries are leaves, empty maps members',
      { spec: { extra: { k: 'v' } }, metadata: { labels: {} } },
      { 'f:spec': { 'f:extra': { 'f:k': {} } }, 'f:metadata': { 'f:labels': {} } },
    ],
  ])('%s', (_name, value, expected) => {
    expect(fields(value)).toEqual(expected);
  });

  it('compares values into added, modified and removed paths', () => {
    const before = { spec: { image: 'a', tags: ['x'], batches: [1] } };
    const after = { spec: { image: 'b', tags: ['y'], extra: { k: 'v' } } };
    const result = compare(before, after, type);
    expect(result.modified.paths().map(pathToString)).toEqual(['.spec.image']);
    expect(result.added.paths().map(pathToString)).toEqual([
      '.spec.extra',
      '.spec.extra.k',
      '.spec.tags[="y"]',
    ]);
    expect(result.removed.paths().map(pathToString)).toEqual(['.spec.batches', '.spec.tags[="x"]']);
  });
});

describe('managed fields', () => {
  const manager = (managers: Managers, name: string) =>
    encodeManagedFields(managers).find((entry) => entry.manager === name)?.fieldsV1;

  it('gives an updater the fields it changed and takes them from others', () => {
    const created = recordUpdate(ctx, {}, { spec: { image: 'a', tags: ['x'] } }, new Map(), {
      manager: 'creator',
    });
    expect(manager(created, 'creator')).toEqual({
      'f:spec': { '.': {}, 'f:image': {}, 'f:tags': { '.': {}, 'v:"x"': {} } },
    });
    const edited = recordUpdate(
      ctx,
      { spec: { image: 'a', tags: ['x'] } },
      { spec: { image: 'b', tags: ['x'] } },
      created,
      { manager: 'editor' },
    );
    expect(manager(edited, 'editor')).toEqual({ 'f:spec': { 'f:image': {} } });
    expect(manager(edited, 'creator')).toEqual({
      'f:spec': { '.': {}, 'f:tags': { '.': {}, 'v:"x"': {} } },
    });
    expect(decodeManagedFields(encodeManagedFields(edited))).toEqual(edited);
  });

  it('merges keyed lists and sets on apply and prunes what the applier dropped', () => {
    const live = { spec: { conditions: [{ type: 'A', status: 'x' }], tags: ['t1'] } };
    const owners = recordUpdate(ctx, {}, live, new Map(), { manager: 'creator' });
    const first = recordApply(
      ctx,
      live,
      { spec: { conditions: [{ type: 'B', status: 'y' }], tags: ['t2'], image: 'i' } },
      owners,
      { manager: 'me' },
      false,
    );
    expect(first.object).toEqual({
      spec: {
        conditions: [
          { type: 'A', status: 'x' },
          { type: 'B', status: 'y' },
        ],
        tags: ['t1', 't2'],
        image: 'i',
      },
    });
    const second = recordApply(
      ctx,
      first.object,
      { spec: { tags: ['t2'] } },
      first.managers,
      { manager: 'me' },
      false,
    );
    expect(second.object).toEqual({
      spec: { conditions: [{ type: 'A', status: 'x' }], tags: ['t1', 't2'] },
    });
  });

  it('lets kubectl take over client-side applied fields that still match the last-applied annotation', () => {
    const applied = {
      metadata: { annotations: { [LAST_APPLIED]: JSON.stringify({ spec: { image: 'a' } }) } },
      spec: { image: 'a' },
    };
    const managers = recordUpdate(ctx, {}, applied, new Map(), {
      manager: 'kubectl-client-side-apply',
    });
    const config = { spec: { image: 'b' } };
    expect(() => recordApply(ctx, applied, config, managers, { manager: 'other' }, false)).toThrow(
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using example.com/v1: .spec.image',
    );
    const taken = recordApply(ctx, applied, config, managers, { manager: 'kubectl' }, false);
    expect(taken.object).toMatchObject({ spec: { image: 'b' } });
    const annotation = (taken.object as typeof applied).metadata.annotations[LAST_APPLIED];
    expect(JSON.parse(annotation)).toEqual(config);
  });
});
