import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from '../db/client.js';
import { isConnectionError } from '../db/connection-errors.js';
import { loadCredentials, loadCredentialsInRange } from '../db/device-store.js';
import {
  countMembers,
  getRolloutTarget,
  listActiveRollouts,
  listStartedRollouts,
  type MemberEtags,
  pagesOfMembers,
} from '../db/rollout-target-store.js';
import { devices } from '../db/schema/index.js';
import {
  parseTargetNotification,
  TARGETS_CHANNEL,
  type TargetNotification,
} from '../db/target-notifications.js';
import { loadEffectiveTargets } from '../db/target-store.js';
import { uuidRanges } from '../db/uuid-ranges.js';
import type { Logger } from '../telemetry/logger.js';
import { storedHashBytes } from './credentials.js';
import {
  afterBatchStart,
  afterFold,
  afterRollback,
  type CachedDevice,
  type CacheEntries,
  type DeviceCache,
  NO_OVERLAYS,
  type PlannedEtags,
  quoteEtag,
} from './device-cache.js';
import type { DeviceMetrics } from './metrics.js';

/** A million devices load in ranges of about 16k. */
const LOAD_RANGES = 64;
const REFRESH_CHUNK = 2_000;
const RETRY_DELAY_MS = 1_000;
/**
 * At most this many members of next batches are held in memory, over all rollouts (about
 * 53 MiB); a batch that does not fit starts from the database.
 */
const PREPARE_BUDGET = 250_000;

type Rule = (entry: CachedDevice, uid: string, planned: PlannedEtags) => CachedDevice | undefined;

/** How each kind of rollout notification moves a member's cache entry. */
const RULES: Record<'batch' | 'rollback' | 'fold', Rule> = {
  batch: afterBatchStart,
  rollback: afterRollback,
  fold: afterFold,
};

/** The members of a rollout's next batch, read before it starts (pages as read). */
interface PreparedBatch {
  batch: number;
  pages: MemberEtags[][];
  devices: number;
}

/**
 * Keeps a DeviceCache coherent with the database: a full load at start and after the
 * notification connection reconnects, then one step per notification on `fleet_rollout_targets`.
 * Steps run one at a time in arrival (commit) order; a failed step schedules a full reload.
 *
 * Each active rollout's next batch is prepared: its members (with their planned ETags) are read
 * ahead, so that when the batch starts the cache flips from memory without reading anything. A
 * `members` notification (membership created, joined, rebatched) prepares it again; a start
 * whose batch or device count differs from what was prepared reads the database instead.
 */
export class DeviceCacheSync {
  private chain: Promise<void> = Promise.resolve();
  private readonly prepared = new Map<string, PreparedBatch>();
  /** Devices announced since the queued reload of announced devices started (see onDevices). */
  private announced = new Set<string>();
  private announcedQueued = false;
  private unlisten: (() => Promise<void>) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly database: Database,
    private readonly cache: DeviceCache,
    private readonly logger: Logger,
    private readonly metrics: DeviceMetrics,
    private readonly prepareBudget = PREPARE_BUDGET,
  ) {}

  /** Subscribes, then loads everything; notifications arriving meanwhile are applied after. */
  async start(): Promise<void> {
    this.unlisten = await this.database.listen(TARGETS_CHANNEL, {
      onNotification: (payload) => this.onNotification(payload),
      onReconnect: () => void this.enqueue(() => this.loadAll()).catch(() => {}),
    });
    await this.enqueue(() => this.loadAll());
  }

  /** Stops listening and waits for the step in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.unlisten?.();
    await this.chain;
  }

  /**
   * Reloads these devices now, behind the steps already queued, and resolves when done (never
   * rejects: a failure is logged and triggers a full reload). Writers call it so that a change
   * made through this process is served by it at once; other processes follow the notification.
   */
  refreshDevices(uuids: string[]): Promise<void> {
    return this.enqueue(() => this.refresh(this.cache, uuids)).catch(() => {});
  }

  /** Resolves when every step queued so far has run (for tests and benchmarks). */
  idle(): Promise<void> {
    return this.chain;
  }

  private onNotification(payload: string): void {
    const notification = parseTargetNotification(payload);
    if (!notification) {
      this.logger.warn({ payload: payload.slice(0, 200) }, 'ignored malformed target notification');
      return;
    }
    this.metrics.notifications.inc({ type: notification.type });
    if (notification.type === 'devices') this.onDevices(notification.uuids);
    else void this.enqueue(() => this.apply(notification)).catch(() => {});
  }

  /**
   * Devices announced one by one (a burst of registrations is a notification each) are reloaded
   * together: they join the reload already queued, if any, else queue one. Reloading a device
   * earlier than its notification's turn is safe, since a reload reads what the database holds
   * now and every later step accepts an entry that is already up to date.
   */
  private onDevices(uuids: readonly string[]): void {
    for (const uuid of uuids) this.announced.add(uuid);
    if (this.announcedQueued) return;
    this.announcedQueued = true;
    void this.enqueue(() => {
      const pending = [...this.announced];
      this.announced = new Set();
      this.announcedQueued = false;
      return this.refresh(this.cache, pending);
    }).catch(() => {});
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => (this.stopped ? undefined : step()));
    this.chain = run.catch((error: unknown) => {
      // an unreachable database is logged once, by the connection state; retry quietly
      if (isConnectionError(error)) {
        this.logger.debug({ err: error }, 'device cache update failed; reloading');
      } else {
        this.logger.error({ err: error }, 'device cache update failed; reloading');
      }
      this.scheduleReload();
    });
    return run;
  }

  private scheduleReload(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.enqueue(() => this.loadAll()).catch(() => {});
    }, RETRY_DELAY_MS);
    this.retryTimer.unref();
  }

  private async apply(
    notification: Exclude<TargetNotification, { type: 'devices' }>,
  ): Promise<void> {
    switch (notification.type) {
      case 'members': {
        const prepared = this.prepared.get(notification.rollout);
        if (!prepared || notification.batches.includes(prepared.batch)) {
          await this.prepare(notification.rollout);
        }
        return;
      }
      case 'batch':
        return this.startBatch(notification);
      default:
        this.prepared.delete(notification.rollout);
        return this.applyRule(
          this.cache,
          notification.rollout,
          0,
          notification.through,
          RULES[notification.type],
        );
    }
  }

  /** Flips the started batch's members, from memory when prepared; then prepares the next. */
  private async startBatch(notification: Extract<TargetNotification, { type: 'batch' }>) {
    const { rollout, after, through, devices } = notification;
    const prepared = this.prepared.get(rollout);
    this.prepared.delete(rollout);
    const usable =
      prepared !== undefined &&
      prepared.batch === after + 1 &&
      through === after + 1 &&
      prepared.devices === devices;
    this.metrics.batchStarts.inc({ source: usable ? 'memory' : 'database' });
    if (usable) {
      for (const page of prepared.pages) {
        await this.applyToMembers(this.cache, rollout, page, afterBatchStart);
        await nextTurn(); // let polls in between pages
      }
    } else {
      await this.applyRule(this.cache, rollout, after, through, afterBatchStart);
    }
    await this.prepare(rollout);
  }

  /** Reads the members of the rollout's next batch into memory (active, and within budget). */
  private async prepare(uid: string): Promise<void> {
    this.prepared.delete(uid);
    const rollout = await getRolloutTarget(this.database.db, uid);
    if (rollout?.state !== 'active') return;
    const after = rollout.startedBatches;
    const devices = await countMembers(this.database.db, uid, after, after + 1);
    let held = 0;
    for (const batch of this.prepared.values()) held += batch.devices;
    if (devices === 0 || held + devices > this.prepareBudget) return;
    const pages: MemberEtags[][] = [];
    for await (const page of pagesOfMembers(this.database.db, uid, after, after + 1)) {
      pages.push(page);
    }
    this.prepared.set(uid, { batch: after + 1, pages, devices });
  }

  /**
   * Builds a fresh map from the base ETags, replays the started batches of active rollouts in the
   * order their overlays apply, and swaps it in; the old map serves until then.
   */
  private async loadAll(): Promise<void> {
    const started = performance.now();
    const entries = new Map<string, CachedDevice>();
    for (const range of uuidRanges(devices.uuid, LOAD_RANGES)) {
      const rows = await loadCredentialsInRange(this.database.db, range);
      for (const row of rows) entries.set(row.uuid, entryOf(row.keyHash, row.baseEtag));
    }
    for (const rollout of await listStartedRollouts(this.database.db)) {
      await this.applyRule(entries, rollout.uid, 0, rollout.startedBatches, afterBatchStart);
    }
    this.cache.replaceAll(entries);
    this.prepared.clear();
    for (const rollout of await listActiveRollouts(this.database.db)) {
      await this.prepare(rollout.uid);
    }
    this.metrics.reloads.inc();
    const seconds = (performance.now() - started) / 1000;
    this.logger.info({ devices: entries.size, seconds }, 'device cache loaded');
  }

  /** Applies a rule to the members of batches after+1 … through; recomputes where it cannot. */
  private async applyRule(
    entries: CacheEntries,
    uid: string,
    after: number,
    through: number,
    rule: Rule,
  ): Promise<void> {
    for await (const page of pagesOfMembers(this.database.db, uid, after, through)) {
      await this.applyToMembers(entries, uid, page, rule);
    }
  }

  /** Applies a rule to these members; recomputes those it cannot move. */
  private async applyToMembers(
    entries: CacheEntries,
    uid: string,
    members: readonly MemberEtags[],
    rule: Rule,
  ): Promise<void> {
    const recompute: string[] = [];
    for (const member of members) {
      const entry = entries.get(member.uuid);
      if (!entry) continue;
      const next = rule(entry, uid, member);
      if (next === undefined) recompute.push(member.uuid);
      else if (next !== entry) entries.set(member.uuid, next);
    }
    await this.refresh(entries, recompute);
  }

  /** Reloads devices from the database in bulk; devices that no longer exist are dropped. */
  private async refresh(entries: CacheEntries, uuids: readonly string[]): Promise<void> {
    this.metrics.recomputed.inc(uuids.length);
    for (let i = 0; i < uuids.length; i += REFRESH_CHUNK) {
      const chunk = uuids.slice(i, i + REFRESH_CHUNK);
      const credentials = await loadCredentials(this.database.db, chunk);
      const targets = await loadEffectiveTargets(this.database.db, chunk);
      const keys = new Map(credentials.map((row) => [row.uuid, row.keyHash]));
      for (const uuid of chunk) {
        const key = keys.get(uuid);
        const target = targets.get(uuid);
        if (key === undefined || target === undefined) {
          entries.delete(uuid);
          continue;
        }
        const overlays = target.overlays.map((overlay) => overlay.uid);
        entries.set(uuid, {
          ...entryOf(key, target.baseEtag),
          etag: quoteEtag(target.etag),
          overlays: overlays.length === 0 ? NO_OVERLAYS : overlays,
        });
      }
    }
  }
}

function entryOf(keyHash: string, baseEtag: string): CachedDevice {
  const quoted = quoteEtag(baseEtag);
  return {
    etag: quoted,
    baseEtag: quoted,
    keyHash: storedHashBytes(keyHash),
    overlays: NO_OVERLAYS,
  };
}
