import { createHash } from 'node:crypto';
import type { DeviceFate, FailureMode } from './options.js';

/*
 * Pure, seeded decisions of the simulator: which devices fail or stay offline, how labels are
 * spread, and each device's random source for timing jitter. Same seed and uuids, same answers.
 */

/** What decides the fates of a fleet. */
export interface FateRules {
  seed: string;
  offlineFraction: number;
  failureRate: number;
  failureMode: FailureMode | 'mixed';
}

const MIXED: readonly FailureMode[] = ['unhealthy', 'exited', 'stuck'];

/**
 * Each device's fate. Devices are ranked by a hash of (seed, uuid); the first
 * round(n × offlineFraction) are offline, the next round(n × failureRate) fail, so the counts are
 * exact and a test can compute the same map from the uuids and the seed.
 */
export function assignFates(uuids: readonly string[], rules: FateRules): Map<string, DeviceFate> {
  const ranked = uuids
    .map((uuid) => ({ uuid, key: digest(`${rules.seed}\0fate\0${uuid}`).toString('hex') }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const offline = Math.round(uuids.length * rules.offlineFraction);
  const failing = Math.min(Math.round(uuids.length * rules.failureRate), ranked.length - offline);
  const fates = new Map<string, DeviceFate>();
  ranked.forEach(({ uuid }, rank) => {
    if (rank < offline) fates.set(uuid, 'offline');
    else if (rank < offline + failing)
      fates.set(uuid, failureOf(rules.failureMode, rank - offline));
    else fates.set(uuid, 'healthy');
  });
  return fates;
}

function failureOf(mode: FailureMode | 'mixed', index: number): FailureMode {
  return mode === 'mixed' ? (MIXED[index % MIXED.length] as FailureMode) : mode;
}

/** A label distribution: each key's values, spread evenly over the devices. */
export type LabelDistribution = Record<string, string | readonly string[]>;

/**
 * The labels of the device at `index`: counting in mixed radix over the keys, so with
 * `{ site: [a, b], tier: [x, y] }` devices 0…3 get every combination once, in equal shares.
 */
export function labelsFor(index: number, distribution: LabelDistribution): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = index;
  for (const [key, value] of Object.entries(distribution)) {
    const values = typeof value === 'string' ? [value] : value;
    if (values.length === 0) continue;
    labels[key] = values[rest % values.length] as string;
    rest = Math.floor(rest / values.length);
  }
  return labels;
}

/** A seeded source of uniform numbers in [0, 1) for one device (mulberry32). */
export function randomSource(seed: string, uuid: string): () => number {
  let state = digest(`${seed}\0timing\0${uuid}`).readUInt32BE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `period` varied by up to ±`jitter` of itself, so devices drift apart instead of in step. */
export function jittered(period: number, jitter: number, random: () => number): number {
  return Math.max(0, period * (1 + jitter * (2 * random() - 1)));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
