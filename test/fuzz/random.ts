/** A seeded random source (mulberry32): the same seed gives the same requests. */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  /** `length` random bytes. */
  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.int(0, 255)));
  }
}

/** The seed of this run: FUZZ_SEED when set (to replay a failure), else a fresh one. */
export function fuzzSeed(): number {
  const given = process.env.FUZZ_SEED;
  return given ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32);
}

/** Strings that have broken parsers, databases, headers and templates somewhere. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d',
  '日本語',
  '🚀',
  'ü',
  '\u0085\u2028\u2029',
  '\r\n',
  'line\nbreak',
  '\t',
  '\u001b[31m',
  '"',
  "'",
  '\\',
  '\\u0000',
  '%00',
  '%ff',
  '%',
  '../../etc/passwd',
  '..',
  '/',
  '//',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '$' + '{7*7}',
  '{{7*7}}',
  '<script>',
  "'; drop table events; --",
  '$where',
  'NaN',
  'Infinity',
  '-0',
  '1e400',
  '9007199254740993',
  '-1',
  '0x10',
  'true',
  'null',
  '[]',
  '{}',
  '!!binary aGk=',
  '*alias',
  '&anchor',
  '<<',
  '---',
  '...',
  'a'.repeat(300),
  'x'.repeat(70_000),
  'Ω'.repeat(2000),
  'sha256:',
  `sha256:${'f'.repeat(64)}`,
  'docker.io/library/nginx:latest',
  'ghcr.io/acme/app@sha256:xyz',
  'a/b/c/d/e/f/g/h/i/j/k',
  'UPPER-case',
  '-leading-dash',
  'trailing.',
  'ends-with-dash-',
  'name with spaces',
];

/** A hostile string, sometimes two glued together. */
export function hostileString(random: Random): string {
  const one = random.pick(HOSTILE_STRINGS);
  return random.chance(0.2) ? `${one}${random.pick(HOSTILE_STRINGS)}` : one;
}

/** Values of every JSON type, and some JavaScript cannot round-trip. */
export function hostileValue(random: Random, depth = 0): unknown {
  switch (random.int(0, 11)) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -1, 1.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, Number.MIN_VALUE]);
    case 3:
      return [];
    case 4:
      return {};
    case 5:
      return depth < 3 ? [hostileValue(random, depth + 1), hostileValue(random, depth + 1)] : [];
    case 6:
      return depth < 3 ? { [hostileString(random)]: hostileValue(random, depth + 1) } : {};
    case 7:
      return nested(random.int(20, 200));
    default:
      return hostileString(random);
  }
}

/** `depth` nested objects. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}
