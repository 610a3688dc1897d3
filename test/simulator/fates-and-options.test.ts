import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { assignFates, jittered, labelsFor, randomSource } from '../../src/simulator/fates.js';
import { resolveOptions } from '../../src/simulator/options.js';

const uuids = Array.from(
  { length: 200 },
  (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
);

function countFates(fates: Map<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const fate of fates.values()) counts[fate] = (counts[fate] ?? 0) + 1;
  return counts;
}

describe('assignFates', () => {
  it.each([
    [{ offlineFraction: 0, failureRate: 0, failureMode: 'unhealthy' }, { healthy: 200 }],
    [
      { offlineFraction: 0.1, failureRate: 0, failureMode: 'unhealthy' },
      { healthy: 180, offline: 20 },
    ],
    [
      { offlineFraction: 0, failureRate: 0.25, failureMode: 'exited' },
      { healthy: 150, exited: 50 },
    ],
    [
      { offlineFraction: 0.05, failureRate: 0.15, failureMode: 'stuck' },
      { healthy: 160, offline: 10, stuck: 30 },
    ],
    [
      { offlineFraction: 0, failureRate: 0.3, failureMode: 'mixed' },
      { healthy: 140, unhealthy: 20, exited: 20, stuck: 20 },
    ],
    [
      { offlineFraction: 0.5, failureRate: 0.5, failureMode: 'unhealthy' },
      { offline: 100, unhealthy: 100 },
    ],
    [
      { offlineFraction: 0.004, failureRate: 0, failureMode: 'unhealthy' },
      { healthy: 199, offline: 1 },
    ],
  ] as const)('gives exact counts for %j', (rules, expected) => {
    expect(countFates(assignFates(uuids, { seed: 's', ...rules }))).toEqual(expected);
  });

  it('depends only on the seed and the uuids, not on their order', () => {
    const rules = {
      seed: 'a',
      offlineFraction: 0.1,
      failureRate: 0.2,
      failureMode: 'mixed',
    } as const;
    const forward = assignFates(uuids, rules);
    const backward = assignFates([...uuids].reverse(), rules);
    expect(new Map([...backward].sort())).toEqual(new Map([...forward].sort()));
    const other = assignFates(uuids, { ...rules, seed: 'b' });
    expect([...other].filter(([uuid, fate]) => forward.get(uuid) !== fate).length).toBeGreaterThan(
      10,
    );
  });

  it('handles an empty fleet', () => {
    expect(
      assignFates([], { seed: 's', offlineFraction: 0.5, failureRate: 0.5, failureMode: 'stuck' }),
    ).toEqual(new Map());
  });
});

describe('labelsFor', () => {
  it.each([
    [0, { site: ['a', 'b', 'c'] }, { site: 'a' }],
    [4, { site: ['a', 'b', 'c'] }, { site: 'b' }],
    [0, { site: ['a', 'b'], tier: ['x', 'y'] }, { site: 'a', tier: 'x' }],
    [1, { site: ['a', 'b'], tier: ['x', 'y'] }, { site: 'b', tier: 'x' }],
    [2, { site: ['a', 'b'], tier: ['x', 'y'] }, { site: 'a', tier: 'y' }],
    [3, { site: ['a', 'b'], tier: ['x', 'y'] }, { site: 'b', tier: 'y' }],
    [7, { hw: 'pi4', site: ['a', 'b'] }, { hw: 'pi4', site: 'b' }],
    [5, { none: [] as string[] }, {}],
  ])('device %i of %j gets %j', (index, distribution, expected) => {
    expect(labelsFor(index, distribution)).toEqual(expected);
  });

  it('spreads every value of every key evenly', () => {
    const distribution = { site: ['a', 'b', 'c'], tier: ['x', 'y'] };
    const counts: Record<string, number> = {};
    for (let i = 0; i < 600; i++) {
      for (const [key, value] of Object.entries(labelsFor(i, distribution))) {
        counts[`${key}=${value}`] = (counts[`${key}=${value}`] ?? 0) + 1;
      }
    }
    expect(counts).toEqual({
      'site=a': 200,
      'site=b': 200,
      'site=c': 200,
      'tier=x': 300,
      'tier=y': 300,
    });
  });
});

describe('randomSource and jittered', () => {
  it('repeats for the same seed and uuid, and differs for another uuid', () => {
    const draw = (uuid: string) => {
      const random = randomSource('seed', uuid);
      return Array.from({ length: 5 }, random);
    };
    expect(draw(uuids[0] as string)).toEqual(draw(uuids[0] as string));
    expect(draw(uuids[0] as string)).not.toEqual(draw(uuids[1] as string));
  });

  it('stays within [0, 1) and within ±jitter of the period', () => {
    const random = randomSource('seed', 'x');
    for (let i = 0; i < 10_000; i++) {
      const value = random();
      expect(value >= 0 && value < 1).toBe(true);
      const delay = jittered(1000, 0.1, random);
      expect(delay >= 900 && delay <= 1100).toBe(true);
    }
  });
});

describe('resolveOptions', () => {
  const device = { uuid: 'u', apiKey: 'k' };
  const base = { apiUrl: 'http://127.0.0.1:8080', attach: [device] };

  it('fills in the defaults', () => {
    expect(resolveOptions(base)).toMatchObject({
      seed: 'fleet-rollout',
      pollIntervalMs: undefined,
      longPollSeconds: 0,
      reportIntervalMs: 30_000,
      failureRate: 0,
      failureMode: 'unhealthy',
      offlineFraction: 0,
      concurrency: 64,
    });
  });

  it.each([
    [{ apiUrl: 'not a url' }, 'apiUrl "not a url" is not a URL'],
    [{ apiUrl: 'ftp://host' }, 'apiUrl must be http or https'],
    [{ attach: [] }, 'no devices to simulate'],
    [{ attach: [device, device] }, 'attach lists a device twice'],
    [{ register: { count: 1.5, adminToken: 't' } }, 'devices must be an integer'],
    [{ failureRate: -0.1 }, 'failureRate must be a fraction from 0 to 1'],
    [{ offlineFraction: Number.NaN }, 'offlineFraction must be a fraction'],
    [{ failureRate: 0.6, offlineFraction: 0.5 }, 'add up to more than 1'],
    [{ failureMode: 'flaky' as never }, 'failureMode must be'],
    [{ pollIntervalMs: 0 }, 'pollInterval must be from 1 ms to 24 h'],
    [{ longPollSeconds: 2.5 }, 'longPollSeconds must be an integer'],
    [{ pullDelayMs: -1 }, 'pullDelay must be from 0 ms'],
    [{ concurrency: 0 }, 'concurrency must be an integer from 1'],
  ])('rejects %j', (options, message) => {
    expect(() => resolveOptions({ ...base, ...options })).toThrow(ConfigError);
    expect(() => resolveOptions({ ...base, ...options })).toThrow(message);
  });
});
