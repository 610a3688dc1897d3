import { describe, expect, it } from 'vitest';
import {
  applyJsonPatch,
  applyMergePatch,
  parseJsonPatch,
} from '../../src/apiserver/patch/json-patch.js';
import { applyStrategicMergePatch } from '../../src/apiserver/patch/strategic.js';

const doc = { a: 1, list: [1, 2, 3], nested: { x: 'y', z: [{ k: 1 }] } };

describe('JSON merge patch (RFC 7386)', () => {
  it.each([
    [{ a: 2 }, { ...doc, a: 2 }],
    [{ a: null }, { list: doc.list, nested: doc.nested }],
    [{ nested: { x: null, w: 1 } }, { ...doc, nested: { z: doc.nested.z, w: 1 } }],
    [{ list: [9] }, { ...doc, list: [9] }],
    [{ b: { c: null } }, { ...doc, b: {} }],
  ])('%j', (patch, expected) => {
    expect(applyMergePatch(doc, patch)).toEqual(expected);
  });
});

describe('JSON patch (RFC 6902)', () => {
  it.each([
    [[{ op: 'add', path: '/b', value: 2 }], { ...doc, b: 2 }],
    [[{ op: 'add', path: '/list/-', value: 4 }], { ...doc, list: [1, 2, 3, 4] }],
    [[{ op: 'add', path: '/list/0', value: 0 }], { ...doc, list: [0, 1, 2, 3] }],
    [[{ op: 'remove', path: '/list/1' }], { ...doc, list: [1, 3] }],
    [
      [{ op: 'replace', path: '/nested/x', value: 'w' }],
      { ...doc, nested: { ...doc.nested, x: 'w' } },
    ],
    [[{ op: 'move', from: '/a', path: '/b' }], { list: doc.list, nested: doc.nested, b: 1 }],
    [[{ op: 'copy', from: '/nested/z/0', path: '/c' }], { ...doc, c: { k: 1 } }],
    [
      [
        { op: 'test', path: '/a', value: 1 },
        { op: 'remove', path: '/a' },
      ],
      { list: doc.list, nested: doc.nested },
    ],
    [[{ op: 'add', path: '/a~1b', value: 1 }], { ...doc, 'a/b': 1 }],
  ])('%j', (operations, expected) => {
    expect(applyJsonPatch(doc, parseJsonPatch(operations))).toEqual(expected);
    expect(doc.list).toEqual([1, 2, 3]);
  });

  it.each([
    [[{ op: 'remove', path: '/missing' }], 422],
    [[{ op: 'replace', path: '/list/7', value: 1 }], 422],
    [[{ op: 'test', path: '/a', value: 2 }], 422],
    [[{ op: 'add', path: 'no-slash', value: 2 }], 422],
    [[{ op: 'jump', path: '/a' }], 400],
    [[{ op: 'add', path: '/a' }], 400],
    [{ op: 'add' }, 400],
  ])('%j fails with %i', (operations, code) => {
    expect(() => applyJsonPatch(doc, parseJsonPatch(operations))).toThrow(
      expect.objectContaining({ code }),
    );
  });
});

describe('strategic merge patch', () => {
  const lists = { 'metadata.finalizers': {}, 'metadata.ownerReferences': { mergeKey: 'uid' } };
  const object = {
    metadata: {
      labels: { a: '1', b: '2' },
      finalizers: ['x', 'y'],
      ownerReferences: [{ uid: 'u1', name: 'one' }],
    },
    spec: { list: [1, 2], keep: true },
  };

  it.each([
    [
      'merges maps and deletes null keys',
      { metadata: { labels: { a: null, c: '3' } } },
      { ...object, metadata: { ...object.metadata, labels: { b: '2', c: '3' } } },
    ],
    [
      'merges a primitive merge list as a set',
      { metadata: { finalizers: ['y', 'z'] } },
      { ...object, metadata: { ...object.metadata, finalizers: ['x', 'y', 'z'] } },
    ],
    [
      'deletes from a primitive list',
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } },
      { ...object, metadata: { ...object.metadata, finalizers: ['y'] } },
    ],
    [
      'merges keyed items and deletes by $patch',
      {
        metadata: {
          ownerReferences: [
            { uid: 'u1', name: 'renamed' },
            { uid: 'u2', name: 'two' },
          ],
        },
      },
      {
        ...object,
        metadata: {
          ...object.metadata,
          ownerReferences: [
            { uid: 'u1', name: 'renamed' },
            { uid: 'u2', name: 'two' },
          ],
        },
      },
    ],
    [
      'replaces lists without a strategy',
      { spec: { list: [3] } },
      { ...object, spec: { list: [3], keep: true } },
    ],
    [
      'replaces a map on $patch: replace',
      { spec: { $patch: 'replace', only: 1 } },
      { ...object, spec: { only: 1 } },
    ],
    [
      'keeps only $retainKeys',
      { spec: { $retainKeys: ['keep'] } },
      { ...object, spec: { keep: true } },
    ],
    [
      'orders by $setElementOrder',
      { metadata: { '$setElementOrder/finalizers': ['y', 'x'] } },
      { ...object, metadata: { ...object.metadata, finalizers: ['y', 'x'] } },
    ],
  ])('%s', (_name, patch, expected) => {
    expect(applyStrategicMergePatch(object, patch, lists)).toEqual(expected);
  });

  it('removes a keyed item with $patch: delete', () => {
    const patch = { metadata: { ownerReferences: [{ uid: 'u1', $patch: 'delete' }] } };
    expect(applyStrategicMergePatch(object, patch, lists)).toMatchObject({
      metadata: { ownerReferences: [] },
    });
  });
});
