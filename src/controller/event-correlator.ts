/** Options of an EventCorrelator (defaults are client-go's `tools/record` correlator's). */
export interface EventCorrelatorOptions {
  /** Distinct notes of one (object, type, reason, action) before new ones combine. Default 10. */
  similarThreshold?: number;
  /** Similar events further apart than this start counting afresh. Default 10 minutes. */
  similarWindowMs?: number;
  /** Repeat writes about one object allowed in a burst. Default 25. */
  spamBurst?: number;
  /** One more repeat write about an object is allowed this often. Default 5 minutes. */
  spamRefillMs?: number;
  /** Groups and buckets remembered at most; the least recently used are forgotten. Default 4096. */
  maxEntries?: number;
}

/** Where one occurrence goes: the series it joins, and the note that series shows. */
export interface Correlation {
  /** Exact-duplicate key: the same key means the same Event (its series counts repeats). */
  key: string;
  note: string;
  /** The note was folded into the "(combined from similar events)" Event of its group. */
  combined: boolean;
}

/** The note prefix of an Event that stands for several similar events. */
export const COMBINED_PREFIX = '(combined from similar events): ';

interface Group {
  notes: Set<string>;
  last: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Decides how Events correlate, as client-go's EventCorrelator does, without I/O: an occurrence
 * whose whole key (note included) was seen is a repeat of that Event; a new note about the same
 * object, type, reason and action gets its own Event until `similarThreshold` distinct notes
 * were seen within `similarWindowMs` of each other, and from then on joins one combined Event.
 * A token bucket per object bounds how often repeats may be written.
 */
export class EventCorrelator {
  private readonly groups = new Map<string, Group>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly maxEntries: number;

  constructor(options: EventCorrelatorOptions = {}) {
    this.threshold = options.similarThreshold ?? 10;
    this.windowMs = options.similarWindowMs ?? 600_000;
    this.burst = options.spamBurst ?? 25;
    this.refillMs = options.spamRefillMs ?? 300_000;
    this.maxEntries = options.maxEntries ?? 4096;
  }

  /** The series that an occurrence of `note` in group `similarKey` at `now` belongs to. */
  correlate(similarKey: string, note: string, now: number): Correlation {
    let group = this.groups.get(similarKey);
    if (!group || now - group.last > this.windowMs) group = { notes: new Set(), last: now };
    group.last = now;
    remember(this.groups, similarKey, group, this.maxEntries);
    const own = { key: JSON.stringify([similarKey, note]), note, combined: false };
    if (group.notes.has(note)) return own;
    if (group.notes.size + 1 < this.threshold) {
      group.notes.add(note);
      return own;
    }
    return { key: JSON.stringify([similarKey]), note: COMBINED_PREFIX + note, combined: true };
  }

  /**
   * Takes a write token of `objectKey` at `now`: 0 when one was available (and is now spent),
   * else the milliseconds until the next one refills.
   */
  takeToken(objectKey: string, now: number): number {
    const bucket = this.buckets.get(objectKey) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) / this.refillMs);
    bucket.at = now;
    remember(this.buckets, objectKey, bucket, this.maxEntries);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) * this.refillMs);
  }
}

/** Sets `key` as most recently used and forgets the least recently used beyond `limit`. */
export function remember<V>(map: Map<string, V>, key: string, value: V, limit: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= limit) break;
    map.delete(oldest);
  }
}
