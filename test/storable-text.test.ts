import { describe, expect, it } from 'vitest';
import {
  clipWhole,
  findUnstorable,
  printable,
  unstorableReason,
} from '../src/api/storable-text.js';

describe('text Postgres can store', () => {
  it.each([
    ['plain text', 'nginx:1.27', undefined],
    ['a surrogate pair (an emoji)', 'ok 😀', undefined],
    ['a NUL', 'a\u0000b', 'a NUL character'],
    ['a lone high surrogate', 'a\ud800', 'an unpaired surrogate'],
    ['a lone low surrogate', '\udc00a', 'an unpaired surrogate'],
    ['a pair in the wrong order', '\ude00\ud83d', 'an unpaired surrogate'],
  ])('%s → %s', (_case, text, reason) => {
    expect(unstorableReason(text)).toBe(reason);
  });

  it.each([
    [{ a: ['x', { b: 'ok', c: 'y\u0000' }] }, { path: ['a', 1, 'c'], key: false }],
    [{ a: { 'k\ud800': 1 } }, { path: ['a', 'k\ud800'], key: true }],
    [
      { first: '\udc00', second: '\u0000' },
      { path: ['first'], key: false },
    ],
    ['\u0000', { path: [], key: false }],
  ])('finds the first unstorable string of %j in document order', (value, want) => {
    expect(findUnstorable(value)).toMatchObject(want);
  });

  it('finds nothing in a storable document', () => {
    expect(findUnstorable({ a: [1, null, true, 'é😀'], b: { c: '' } })).toBeUndefined();
  });

  it('prints control characters and lone surrogates as escapes, keeping pairs', () => {
    expect(printable('a\u0000b\ud800c😀\u001f')).toBe('a\\u0000b\\ud800c😀\\u001f');
  });

  it.each([
    ['abc', 5, 'abc'],
    ['abcdef', 3, 'abc'],
    ['ab😀', 3, 'ab'],
    ['ab😀', 4, 'ab😀'],
  ])('clips %j to %i units without halving a pair', (text, max, want) => {
    expect(clipWhole(text, max)).toBe(want);
  });
});
