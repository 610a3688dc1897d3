import { describe, expect, it } from 'vitest';
import {
  batchEnds,
  batchOfRank,
  batchSizes,
  planBatches,
  rankDevices,
  rankKey,
} from '../../src/planner/membership.js';

describe('batchSizes', () => {
  it.each([
    [1000, [10, 50, 100], [100, 400, 500]],
    [10, [10, 50, 100], [1, 4, 5]],
    [3, [10, 50, 100], [1, 1, 1]],
    [2, [10, 50, 100], [1, 1]],
    [1, [10, 50, 100], [1]],
    [0, [10, 50, 100], []],
    [7, [100], [7]],
    [20, [10, 11, 12, 100], [2, 1, 17]],
    [101, [1, 2, 100], [2, 1, 98]],
    [100_000, [1, 5, 25, 100], [1000, 4000, 20000, 75000]],
  ])('splits %d members by %j into %j', (members, percentages, sizes) => {
    expect(batchSizes(members, percentages)).toEqual(sizes);
  });

  it.each([1, 2, 3, 7, 10, 99, 100, 101, 997, 12_345])(
    'gives %d members non-empty batches that reach every member',
    (members) => {
      for (const percentages of [[10, 50, 100], [1, 2, 3, 100], [33, 66, 100], [100]]) {
        const sizes = batchSizes(members, percentages);
        expect(sizes.every((size) => size > 0)).toBe(true);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(members);
      }
    },
  );
});

describe('batchEnds with started batches', () => {
  it.each([
    ['unchanged percentages keep the plan', 3, [10, 20, 30, 100], 1, [10, 20, 30, 100]],
    ['unchanged percentages keep the plan', 20, [10, 11, 12, 100], 2, [10, 11, 12, 100]],
    ['unchanged percentages keep the plan', 1000, [10, 50, 100], 2, [10, 50, 100]],
    ['finer steps after batch 2', 1000, [10, 50, 100], 2, [10, 20, 30, 60, 80, 100]],
    ['a percentage already reached is skipped', 1000, [10, 50, 100], 2, [25, 75, 100]],
    ['AllAtOnce finishes in one more batch', 1000, [10, 50, 100], 1, [100]],
  ])('%s (%d members, %j, %d started → %j)', (_, members, before, started, after) => {
    const original = batchEnds(members, before);
    const prefix = original.slice(0, started);
    const replanned = batchEnds(members, after, prefix);
    expect(replanned.slice(0, started)).toEqual(prefix);
    expect(replanned.at(-1)).toBe(members);
    if (JSON.stringify(before) === JSON.stringify(after)) expect(replanned).toEqual(original);
    for (let i = 1; i < replanned.length; i++) {
      expect(replanned[i]).toBeGreaterThan(replanned[i - 1] as number);
    }
  });

  it('labels replanned batches with the percentages they come from', () => {
    expect(planBatches(1000, [25, 75, 100], [100, 500])).toEqual([
      { end: 750, percent: 75 },
      { end: 1000, percent: 100 },
    ]);
  });
});

describe('batchOfRank', () => {
  it.each([
    [0, [100, 500, 1000], 1],
    [99, [100, 500, 1000], 1],
    [100, [100, 500, 1000], 2],
    [499, [100, 500, 1000], 2],
    [500, [100, 500, 1000], 3],
    [999, [100, 500, 1000], 3],
    [0, [1, 2], 1],
    [1, [1, 2], 2],
  ])('rank %d with ends %j is in batch %d', (rank, ends, expected) => {
    expect(batchOfRank(rank, ends)).toBe(expected);
  });

  it('makes batch k a prefix of batch k+1 by rank', () => {
    const ends = batchEnds(250, [10, 50, 100]);
    const batches = Array.from({ length: 250 }, (_, rank) => batchOfRank(rank, ends));
    expect(batches).toEqual([...batches].sort((a, b) => a - b));
    expect(batches.filter((b) => b === 1)).toHaveLength(25);
  });
});

describe('rankKey', () => {
  const uid = '0f9a3c52-1d2e-4b7a-9c3d-5e6f7a8b9c0d';
  const devices = Array.from(
    { length: 50 },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  );

  it('is the first 8 bytes of md5("uid:uuid") as a signed big-endian integer', () => {
    // md5('a:b') = d8160c9b3dc20d4e931aeb4f45262155; 0xd8160c9b3dc20d4e - 2^64 as signed
    expect(rankKey('a', 'b')).toBe(0xd8160c9b3dc20d4en - 2n ** 64n);
    expect(rankKey('A', 'B')).toBe(rankKey('a', 'b'));
  });

  it('orders the same devices the same way whatever their input order', () => {
    const ranked = rankDevices(uid, devices);
    expect(rankDevices(uid, [...devices].reverse())).toEqual(ranked);
    expect(ranked).not.toEqual(devices);
    expect(rankDevices('another-rollout', devices)).not.toEqual(ranked);
  });

  it('keeps the relative order of existing devices when one joins', () => {
    const ranked = rankDevices(uid, devices);
    const joined = rankDevices(uid, [...devices, 'ffffffff-0000-4000-8000-000000000000']);
    expect(joined.filter((d) => d.startsWith('0000'))).toEqual(ranked);
  });
});
