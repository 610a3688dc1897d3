/** What the poll hot path needs of a device; replaced whole, never mutated. */
export interface CachedDevice {
  /** Strong ETag of the effective target, quoted as sent in headers. */
  readonly etag: string;
  /** sha256 of the device's API key. */
  readonly keyHash: Buffer;
  /** Quoted ETag of the base target (the same string as `etag` when there is no overlay). */
  readonly baseEtag: string;
  /** uids of the rollouts applied on top of the base, oldest first; usually empty. */
  readonly overlays: readonly string[];
}

/** Where the sync writes entries: the live cache, or the map a full reload builds. */
export interface CacheEntries {
  get(uuid: string): CachedDevice | undefined;
  set(uuid: string, entry: CachedDevice): unknown;
  delete(uuid: string): unknown;
}

/** A member's planned ETags (unquoted, as stored). */
export interface PlannedEtags {
  fromEtag: string;
  toEtag: string;
}

/** The overlay list of a device without rollouts, shared by every such entry. */
export const NO_OVERLAYS: readonly string[] = Object.freeze([]);

/** Quotes an ETag value for headers: `"abc"`. */
export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/**
 * In-memory map uuid → CachedDevice, with long-poll waiters woken whenever a device's ETag
 * changes. Only the sync writes it; handlers read it without touching the database.
 */
export class DeviceCache implements CacheEntries {
  private entries = new Map<string, CachedDevice>();
  private readonly waiters = new Map<string, Set<() => void>>();

  get(uuid: string): CachedDevice | undefined {
    return this.entries.get(uuid);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Number of long polls waiting for a change. */
  get waiting(): number {
    let count = 0;
    for (const set of this.waiters.values()) count += set.size;
    return count;
  }

  set(uuid: string, entry: CachedDevice): void {
    // Only long polls care what changed, and most devices have none waiting: a batch of 100k
    // flips without the extra lookups.
    const waiting = this.waiters.size > 0 && this.waiters.has(uuid);
    const previousEtag = waiting ? this.entries.get(uuid)?.etag : undefined;
    this.entries.set(uuid, entry);
    if (waiting && previousEtag !== entry.etag) this.wake(uuid);
  }

  delete(uuid: string): void {
    if (this.entries.delete(uuid)) this.wake(uuid);
  }

  /** Swaps in a freshly loaded map, waking the waiters whose device changed. */
  replaceAll(next: Map<string, CachedDevice>): void {
    const previous = this.entries;
    this.entries = next;
    for (const uuid of [...this.waiters.keys()]) {
      if (previous.get(uuid)?.etag !== next.get(uuid)?.etag) this.wake(uuid);
    }
  }

  /**
   * Resolves true as soon as the device's ETag differs from `etag`, false after `timeoutMs` or
   * when `signal` aborts (the client went away) or the cache is released for shutdown.
   */
  waitForChange(uuid: string, etag: string, timeoutMs: number, signal: AbortSignal) {
    return new Promise<boolean>((resolve) => {
      if (this.entries.get(uuid)?.etag !== etag) return resolve(true);
      const waiters = this.waiters.get(uuid) ?? new Set<() => void>();
      this.waiters.set(uuid, waiters);
      const finish = (changed: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        waiters.delete(onChange);
        if (waiters.size === 0 && this.waiters.get(uuid) === waiters) this.waiters.delete(uuid);
        resolve(changed);
      };
      const onChange = () => finish(this.entries.get(uuid)?.etag !== etag);
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      waiters.add(onChange);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends every long poll now (they answer as if their wait ran out); used at shutdown. */
  releaseAll(): void {
    for (const set of [...this.waiters.values()]) for (const wake of [...set]) wake();
  }

  private wake(uuid: string): void {
    const set = this.waiters.get(uuid);
    if (set) for (const wake of [...set]) wake();
  }
}

/*
 * How the cache follows rollouts without reading documents. Each rule returns the device's new
 * entry, the same entry when nothing changes, or undefined when it must be recomputed from the
 * database. The planned ETags were computed when the membership was created, so they only hold
 * when the device is still in the state they were computed from. Comparing the cached ETag with
 * `from_etag` alone is not enough: a base target edited after planning can keep the effective
 * document (and so its ETag) while changing what a rollback must restore, and an older rollout
 * of the same repository applied later can win over this one. So the fast path also requires
 * that no other overlay is involved and that the base is exactly what was planned from; any
 * other case (edited base, overlapping rollouts) is recomputed, which is always correct.
 */

/** A batch of rollout `uid` started and includes the device. */
export function afterBatchStart(entry: CachedDevice, uid: string, planned: PlannedEtags) {
  if (entry.overlays.includes(uid)) return entry;
  if (entry.overlays.length === 0 && isQuoted(entry.baseEtag, planned.fromEtag)) {
    return { ...entry, etag: quoteEtag(planned.toEtag), overlays: onlyOverlay(uid) };
  }
  return undefined;
}

/** Rollout `uid`, which had reached the device, was rolled back. */
export function afterRollback(entry: CachedDevice, uid: string, planned: PlannedEtags) {
  const only = entry.overlays.length === 1 && entry.overlays[0] === uid;
  if (only && isQuoted(entry.baseEtag, planned.fromEtag)) {
    return { ...entry, etag: entry.baseEtag, overlays: NO_OVERLAYS };
  }
  return undefined;
}

/** Rollout `uid`, which had reached the device, was folded into its base target. */
export function afterFold(entry: CachedDevice, uid: string) {
  const only = entry.overlays.length === 1 && entry.overlays[0] === uid;
  return only ? { ...entry, baseEtag: entry.etag, overlays: NO_OVERLAYS } : undefined;
}

/** `quoted` is `etag` in quotes (compared without building the quoted string). */
function isQuoted(quoted: string, etag: string): boolean {
  return quoted.length === etag.length + 2 && quoted.startsWith(etag, 1);
}

/** The overlay list `[uid]`, shared by every device of the rollout flipped last. */
let lastOverlay: readonly string[] = NO_OVERLAYS;
function onlyOverlay(uid: string): readonly string[] {
  if (lastOverlay[0] !== uid) lastOverlay = Object.freeze([uid]);
  return lastOverlay;
}
