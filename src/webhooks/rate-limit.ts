/** The outcome of taking a token: allowed, or how long to wait. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * A token bucket per key (registry and client address): `burst` requests at once, refilled at
 * `perMinute`. In memory, per replica; the least recently used keys are forgotten past `maxKeys`.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    private readonly options: {
      perMinute: number;
      burst: number;
      now: () => number;
      maxKeys?: number;
    },
  ) {
    this.perMs = options.perMinute / 60_000;
  }

  /** Takes one token from `key`'s bucket. */
  take(key: string): RateDecision {
    const now = this.options.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: now };
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    this.forgetOldest();
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.ceil((1 - bucket.tokens) / this.perMs / 1000),
    };
  }

  private forgetOldest(): void {
    const maxKeys = this.options.maxKeys ?? 10_000;
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= maxKeys) return;
      this.buckets.delete(key);
    }
  }
}
