import { describe, expect, it } from 'vitest';
import { depthOf } from '../src/api/json-depth.js';
import { sameSecret } from '../src/api/same-secret.js';
import { parseTargetNotification } from '../src/db/target-notifications.js';
import {
  apiKeyDigest,
  bearerToken,
  generateApiKey,
  hashApiKey,
  sameDigest,
  storedHashBytes,
} from '../src/devices/credentials.js';
import { etagMatches } from '../src/devices/etag.js';

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer ', undefined],
    ['Bearerabc', undefined],
    [undefined, undefined],
    [`Bearer ${'x'.repeat(513)}`, undefined],
  ])('%j → %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('API keys', () => {
  it('are 32 random bytes in base64url, verified through their stored sha256', () => {
    const key = generateApiKey();
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    expect(key).not.toBe(generateApiKey());
    const stored = storedHashBytes(hashApiKey(key));
    expect(sameDigest(apiKeyDigest(key), stored)).toBe(true);
    expect(sameDigest(apiKeyDigest(generateApiKey()), stored)).toBe(false);
    expect(sameDigest(Buffer.alloc(3), stored)).toBe(false);
  });

  it.each([
    ['the same secret', 'a-secret', 'a-secret', true],
    ['a prefix', 'a-secre', 'a-secret', false],
    ['a longer secret', 'a-secret-and-more', 'a-secret', false],
    ['the same length', 'b-secret', 'a-secret', false],
    ['nothing', '', 'a-secret', false],
    ['non-ASCII', 'ä-secret', 'a-secret', false],
  ])('compares %s through fixed-length digests', (_name, presented, expected, same) => {
    expect(sameSecret(presented, expected)).toBe(same);
  });
});

describe('etagMatches', () => {
  it.each([
    ['"abc"', true],
    ['"abd"', false],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['"x",W/"abc"', true],
    ['*', true],
    ['abc', false],
    ['', false],
  ])('%j against "abc" → %s', (header, expected) => {
    expect(etagMatches(header, '"abc"')).toBe(expected);
  });
});

describe('parseTargetNotification', () => {
  it.each([
    ['{"type":"devices","uuids":["a","b"]}', { type: 'devices', uuids: ['a', 'b'] }],
    [
      '{"type":"batch","rollout":"r","after":1,"through":2}',
      { type: 'batch', rollout: 'r', after: 1, through: 2 },
    ],
    [
      '{"type":"batch","rollout":"r","after":1,"through":2,"devices":7}',
      { type: 'batch', rollout: 'r', after: 1, through: 2, devices: 7 },
    ],
    [
      '{"type":"members","rollout":"r","batches":[2,3]}',
      { type: 'members', rollout: 'r', batches: [2, 3] },
    ],
    ['{"type":"members","rollout":"r","batches":[-1]}', undefined],
    ['{"type":"members","rollout":"r"}', undefined],
    [
      '{"type":"rollback","rollout":"r","through":2}',
      { type: 'rollback', rollout: 'r', through: 2 },
    ],
    ['{"type":"fold","rollout":"r","through":3}', { type: 'fold', rollout: 'r', through: 3 }],
    ['{"type":"batch","rollout":"r","through":2}', undefined],
    ['{"type":"devices","uuids":[1]}', undefined],
    ['{"type":"rollback","rollout":"r","through":-1}', undefined],
    ['{"type":"other","rollout":"r","through":1}', undefined],
    ['null', undefined],
    ['not json', undefined],
  ])('%s', (payload, expected) => {
    expect(parseTargetNotification(payload)).toEqual(expected);
  });
});

describe('depthOf', () => {
  const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });
  it.each([
    [1, 0],
    [{}, 1],
    [[1, [2]], 2],
    [nested(10), 10],
    [{ a: [{ b: {} }] }, 4],
  ])('%j → %d', (value, depth) => {
    expect(depthOf(value)).toBe(depth);
  });

  it('stops counting soon after the limit', () => {
    expect(depthOf(nested(10_000))).toBe(33);
  });
});
