/** Thrown for text that is not a Go-style duration; the message says why. */
export class InvalidDuration extends Error {}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
const MAX_LENGTH = 64;

/**
 * Parses a duration the way Go's `time.ParseDuration` does (`300ms`, `1h30m`, `1.5h`, `-2m`, `0`)
 * into milliseconds; throws InvalidDuration.
 */
export function parseDuration(text: string): number {
  if (text.length === 0 || text.length > MAX_LENGTH) {
    throw new InvalidDuration(`invalid duration "${text.slice(0, MAX_LENGTH)}"`);
  }
  const sign = text[0] === '-' ? -1 : 1;
  const body = text[0] === '-' || text[0] === '+' ? text.slice(1) : text;
  if (body === '0') return 0;
  if (body === '') throw new InvalidDuration(`invalid duration "${text}"`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < body.length) {
    const start = PART.lastIndex;
    const match = PART.exec(body);
    if (!match) {
      const reason = /^[\d.]+$/.test(body.slice(start)) ? 'missing unit in' : 'invalid';
      throw new InvalidDuration(`${reason} duration "${text}"`);
    }
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  if (!Number.isFinite(total)) throw new InvalidDuration(`duration "${text}" is out of range`);
  return total === 0 ? 0 : sign * total;
}

/** Parses a duration that must not be negative; throws InvalidDuration. */
export function parseNonNegativeDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms < 0) throw new InvalidDuration(`duration "${text}" must not be negative`);
  return ms;
}
