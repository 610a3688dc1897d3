import { setTimeout as sleep } from 'node:timers/promises';
import type { NotificationChannel } from '../api/types.js';
import type { Db } from '../db/client.js';
import {
  claimDue,
  type DueDelivery,
  fanOut,
  markDelivered,
  markFailed,
  pendingCounts,
  releaseClaim,
} from '../db/notification-store.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { channelTakes, DeliveryError, deliver, type SecretLookup } from './channels.js';
import type { NotificationMetrics } from './metrics.js';

/** How the dispatcher paces itself; every field has a default. */
export interface DispatchSettings {
  /** How often to look for new notifications and due retries (default 1 s). */
  pollMs?: number;
  /** First retry delay; doubles per failed attempt (default 2 s). */
  backoffBaseMs?: number;
  /** Longest retry delay (default 10 min). */
  backoffMaxMs?: number;
  /** Attempts before a delivery is given up (default 20: about 2.5 hours at the defaults). */
  maxAttempts?: number;
  /** How long a claim holds before another dispatcher may retry it (default 2 min). */
  claimMs?: number;
  /** Timeout of one send (default 10 s for HTTP, 30 s for SMTP). */
  sendTimeoutMs?: number;
}

/** What the dispatcher works with. */
export interface DispatcherDeps extends DispatchSettings {
  db: Db;
  /** The channels, e.g. from the controller's informer cache. */
  channels(): readonly NotificationChannel[];
  secret: SecretLookup;
  metrics?: NotificationMetrics;
  logger?: Logger;
  now?(): Date;
  /** Told after every attempt (failed ones with the error; `abandoned` when given up). */
  onAttempt?(channel: NotificationChannel, failure?: DeliveryError, abandoned?: boolean): void;
}

/**
 * Delivers the outbox at least once: fans new notifications out to the channels that take them,
 * claims due deliveries (`SKIP LOCKED`, so replicas never send one at the same time), sends them
 * within each channel's rate limit, and retries failures with exponential backoff.
 */
export class NotificationDispatcher {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly logger: Logger;

  constructor(private readonly deps: DispatcherDeps) {
    this.logger = (deps.logger ?? silentLogger()).child({ component: 'notifications' });
  }

  /** Dispatches until `signal` aborts; a failed pass is logged and the next one follows. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        while ((await this.pass(signal)) > 0 && !signal.aborted) {}
      } catch (error) {
        if (!signal.aborted) this.logger.warn({ err: error }, 'notification pass failed');
      }
      await sleep(this.deps.pollMs ?? 1000, undefined, { signal }).catch(() => {});
    }
  }

  /** One pass: fan out, claim, send. Returns how much it did (0 when idle). */
  async pass(signal?: AbortSignal): Promise<number> {
    const channels = this.deps.channels();
    const byUid = new Map(channels.map((channel) => [channel.metadata.uid ?? '', channel]));
    const fanned = await fanOut(this.deps.db, (n) =>
      channels
        .filter((channel) => channelTakes(channel, n))
        .map((channel) => ({
          uid: channel.metadata.uid ?? '',
          namespace: channel.metadata.namespace ?? '',
          name: channel.metadata.name ?? '',
        })),
    );
    const limited = channels.filter((c) => this.tokens(c) < 1).map((c) => c.metadata.uid ?? '');
    const due = await claimDue(this.deps.db, {
      limit: 20,
      claimMs: this.deps.claimMs ?? 120_000,
      skip: limited,
    });
    await Promise.all(
      groupBy(due, (d) => d.channelUid).map((batch) => this.sendAll(batch, byUid, signal)),
    );
    const pending = await pendingCounts(this.deps.db);
    this.deps.metrics?.setPending(pending.outbox, pending.deliveries);
    return fanned + due.length;
  }

  /** Sends one channel's claimed deliveries in order, within its rate limit. */
  private async sendAll(
    deliveries: DueDelivery[],
    byUid: Map<string, NotificationChannel>,
    signal?: AbortSignal,
  ) {
    for (const delivery of deliveries) {
      const channel = byUid.get(delivery.channelUid);
      if (!channel) {
        await markFailed(this.deps.db, delivery.id, 'the channel was deleted', undefined);
        continue;
      }
      if (signal?.aborted || this.tokens(channel) < 1 || channel.spec.suspend) {
        await releaseClaim(this.deps.db, delivery.id, signal?.aborted ? 0 : this.refillMs(channel));
        continue;
      }
      this.take(channel);
      await this.attempt(channel, delivery);
    }
  }

  private async attempt(channel: NotificationChannel, delivery: DueDelivery) {
    const now = () => this.deps.now?.() ?? new Date();
    const ref = {
      namespace: channel.metadata.namespace ?? '',
      name: channel.metadata.name ?? '',
      type: channel.spec.type,
    };
    const log = { ...ref, key: delivery.notification.key, attempt: delivery.attempts };
    try {
      await deliver(channel, delivery.notification, {
        secret: this.deps.secret,
        now,
        ...(this.deps.sendTimeoutMs ? { timeoutMs: this.deps.sendTimeoutMs } : {}),
      });
      await markDelivered(this.deps.db, delivery.id);
      this.logger.info(log, 'notification delivered');
      this.deps.onAttempt?.(channel);
      return;
    } catch (caught) {
      const error =
        caught instanceof DeliveryError
          ? caught
          : new DeliveryError('unexpected error', 'DeliveryFailed', { cause: caught });
      const giveUp = delivery.attempts >= (this.deps.maxAttempts ?? 20);
      const retryMs = giveUp ? undefined : this.backoff(delivery.attempts);
      await markFailed(this.deps.db, delivery.id, error.message, retryMs);
      this.logger.warn({ ...log, error: error.message, retryMs }, 'notification not delivered');
      this.deps.onAttempt?.(channel, error, giveUp);
    }
  }

  /** base · 2^(attempts−1), capped, with up to 10 % jitter so retries of many rows spread. */
  backoff(attempts: number): number {
    const base = this.deps.backoffBaseMs ?? 2000;
    const delay = Math.min(
      this.deps.backoffMaxMs ?? 600_000,
      base * 2 ** Math.max(0, attempts - 1),
    );
    return Math.round(delay * (1 + Math.random() * 0.1));
  }

  /** Tokens of the channel's bucket now (capacity and refill: spec.rateLimit.perMinute). */
  private tokens(channel: NotificationChannel): number {
    const perMinute = channel.spec.rateLimit?.perMinute ?? 20;
    const key = channel.metadata.uid ?? '';
    const now = Date.now();
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((now - bucket.at) * perMinute) / 60_000);
    bucket.at = now;
    this.buckets.set(key, bucket);
    return bucket.tokens;
  }

  private take(channel: NotificationChannel) {
    const bucket = this.buckets.get(channel.metadata.uid ?? '');
    if (bucket) bucket.tokens -= 1;
  }

  /** How long until the channel's bucket holds a token again. */
  private refillMs(channel: NotificationChannel): number {
    const perMinute = channel.spec.rateLimit?.perMinute ?? 20;
    return Math.ceil(((1 - this.tokens(channel)) * 60_000) / perMinute);
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}
