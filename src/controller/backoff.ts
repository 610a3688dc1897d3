/** Exponential backoff: `baseMs · 2^attempt`, capped at `maxMs`, minus up to `jitter` of itself. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Fraction in [0, 1] of the delay taken off at random, so retries of many keys spread out. */
  jitter: number;
}

/** Delay before retry number `attempt` (0 for the first retry); never above `maxMs`. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponential = options.baseMs * 2 ** Math.min(attempt, 52);
  const capped = Math.min(options.maxMs, exponential);
  return Math.round(capped * (1 - options.jitter * random()));
}
