import type { V1Lease } from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import { isAlreadyExists, isConflict, isNotFound, type LeaseClient } from '../kube/port.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { METRIC_PREFIX } from '../telemetry/metrics.js';
import { type Clock, sleep, systemClock } from './clock.js';
import { heldLease, newLease, releasedLease } from './lease-record.js';

/** Options of a LeaderElector; the durations default to client-go's (15 s, 10 s, 2 s). */
export interface LeaderElectionOptions {
  leases: LeaseClient;
  namespace: string;
  /** Lease name, shared by every replica of the controller. */
  name: string;
  /** Unique per process, e.g. `hostname_uuid`. */
  identity: string;
  /** How long others wait, after the lease last changed, before taking it over. */
  leaseDurationMs?: number;
  /**
   * How long a leader keeps retrying a renew (due `retryPeriod` after its last success) before it
   * stops leading. Must be below leaseDurationMs.
   */
  renewDeadlineMs?: number;
  /** Between renew attempts; acquisition waits this times a jitter of [1, 2.2). */
  retryPeriodMs?: number;
  /** Runs while leading; `signal` aborts the moment leadership is lost. Awaited before release. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Runs after leadership ended and onStartedLeading's work has returned. */
  onStoppedLeading?(): void;
  registry?: Registry;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

/** Outcome of one try: the lease is ours, someone else validly holds it, or the try failed. */
type Attempt = 'acquired' | 'held' | 'failed';

/** client-go's JitterFactor for acquisition retries: each wait is retryPeriod × [1, 2.2). */
export const RETRY_JITTER = 1.2;

/**
 * Lease-based leader election with client-go's semantics. A lease held by another is respected
 * until `leaseDuration` has passed since this process last saw it change. The leader renews
 * `retryPeriod` after its last successful renew; a renew tries every `retryPeriod` and the leader
 * steps down only when none succeeded within `renewDeadline` of the renew starting (a slow attempt
 * that succeeds in time keeps the lease), or when the lease shows another holder. A renew first
 * writes the lease it last saw (one round trip); a 409 means it changed, so it re-reads. After
 * losing, it waits a jittered retry period and campaigns again; `stop()` releases a held lease.
 */
export class LeaderElector {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly stopping = new AbortController();
  private readonly leaderGauge: Gauge<'lease'> | undefined;
  private leading: AbortController | undefined;
  private loop: Promise<void> | undefined;
  /** The lease as last read or written, and when (by this clock) its resourceVersion last changed. */
  private observed: { version: string; at: number; lease: V1Lease } | undefined;
  /** The latest tryAcquireOrRenew, which may outlive an abandoned attempt. */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LeaderElectionOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = (options.logger ?? silentLogger()).child({
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
    if (this.renewDeadlineMs >= this.leaseDurationMs) {
      throw new Error('leader election: renew deadline must be shorter than the lease duration');
    }
    this.leaderGauge = options.registry && leaderGauge(options.registry);
  }

  private get leaseDurationMs() {
    return this.options.leaseDurationMs ?? 15_000;
  }
  private get renewDeadlineMs() {
    return this.options.renewDeadlineMs ?? 10_000;
  }
  private get retryPeriodMs() {
    return this.options.retryPeriodMs ?? 2_000;
  }

  /** True while this process holds the lease and has not stepped down. */
  get isLeader(): boolean {
    return this.leading !== undefined && !this.leading.signal.aborted;
  }

  /** Starts campaigning in the background. */
  start(): void {
    if (this.loop || this.stopping.signal.aborted)
      throw new Error('leader elector already started');
    this.loop = this.run();
  }

  /** Steps down (waiting for onStartedLeading's work), releases a held lease, and stops for good. */
  async stop(): Promise<void> {
    const wasLeading = this.isLeader;
    this.stopping.abort();
    this.stepDown('shutting down');
    await this.loop;
    if (wasLeading) await this.release();
  }

  private async run(): Promise<void> {
    while (await this.acquire()) {
      await this.lead();
      await this.pause();
    }
  }

  /** Tries until the lease is ours (true) or the elector stops (false). */
  private async acquire(): Promise<boolean> {
    while (!this.stopping.signal.aborted) {
      if ((await this.attempt(this.stopping.signal)) === 'acquired') return true;
      await this.pause();
    }
    return false;
  }

  /** Waits a jittered retry period (client-go's JitterUntil), or until the elector stops. */
  private pause(): Promise<void> {
    const jittered = this.retryPeriodMs * (1 + RETRY_JITTER * this.random());
    return sleep(this.clock, jittered, this.stopping.signal);
  }

  /** Leads until the lease is lost or the elector stops; returns once the leader's work returned. */
  private async lead(): Promise<void> {
    const leading = new AbortController();
    this.leading = leading;
    this.leaderGauge?.set({ lease: this.options.name }, 1);
    this.logger.info('started leading');
    const work = Promise.resolve()
      .then(() => this.options.onStartedLeading(leading.signal))
      .catch((error: unknown) => this.logger.error({ err: error }, 'leader work failed'));
    while (!leading.signal.aborted) {
      await sleep(this.clock, this.retryPeriodMs, leading.signal);
      if (leading.signal.aborted) break;
      const outcome = await this.renew(leading.signal);
      if (outcome === 'held') this.stepDown('lease taken by another holder');
      else if (outcome === 'failed') this.stepDown('renew deadline passed');
    }
    await work;
    this.leading = undefined;
    this.options.onStoppedLeading?.();
  }

  /**
   * One renewal (client-go's renew loop): tries now and then every retry period until an attempt
   * succeeds or another holder shows up; 'failed' once `renewDeadline` has passed since it began,
   * abandoning an attempt still in flight then.
   */
  private async renew(leading: AbortSignal): Promise<Attempt> {
    const deadline = new AbortController();
    const timer = this.clock.setTimeout(() => deadline.abort(), this.renewDeadlineMs);
    const abort = () => deadline.abort();
    leading.addEventListener('abort', abort, { once: true });
    try {
      for (;;) {
        const outcome = await this.attempt(deadline.signal);
        if (outcome !== 'failed' || deadline.signal.aborted) return outcome;
        await sleep(this.clock, this.retryPeriodMs, deadline.signal);
        if (deadline.signal.aborted) return 'failed';
      }
    } finally {
      this.clock.clearTimeout(timer);
      leading.removeEventListener('abort', abort);
    }
  }

  private stepDown(reason: string): void {
    if (!this.isLeader) return;
    this.leading?.abort(new Error(`leadership lost: ${reason}`));
    this.leaderGauge?.set({ lease: this.options.name }, 0);
    this.logger.warn({ reason }, 'stopped leading');
  }

  /**
   * One tryAcquireOrRenew; abandoned (its result ignored) when `signal` aborts first. A 409 is an
   * expected race (the lease changed, or our own abandoned write landed): a debug line, and the
   * next attempt re-reads. Other errors: one warn line with the message.
   */
  private async attempt(signal: AbortSignal): Promise<Attempt> {
    let onAbort = () => {};
    const aborted = new Promise<Attempt>((resolve) => {
      onAbort = () => resolve('failed');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const tried = this.tryAcquireOrRenew().catch((error: unknown): Attempt => {
      const fields = { error: message(error) };
      if (isConflict(error)) this.logger.debug(fields, 'lease changed while writing; re-reading');
      else this.logger.warn(fields, 'lease update failed');
      return 'failed';
    });
    this.pending = tried;
    try {
      return await Promise.race([tried, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { leases, namespace, name, identity } = this.options;
    const last = this.observed;
    if (last?.lease.spec?.holderIdentity === identity && this.isValid(last.at)) {
      // fast path (client-go's optimistic update): write the lease we last saw, no read
      try {
        return await this.takeOver(last.lease);
      } catch (error) {
        if (!isConflict(error) && !isNotFound(error)) throw error;
        this.logger.debug({ error: message(error) }, 'lease changed since last seen; re-reading');
      }
    }
    const current = await leases.get(namespace, name);
    if (!current) return this.create();
    this.observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity;
    const validForMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity && this.observed!.at + validForMs > this.clock.now()) {
      return 'held';
    }
    return this.takeOver(current);
  }

  private isValid(observedAt: number): boolean {
    return observedAt + this.leaseDurationMs > this.clock.now();
  }

  /** Replaces `current` (a compare-and-swap on its resourceVersion) with this process as holder. */
  private async takeOver(current: V1Lease): Promise<Attempt> {
    const { leases, identity } = this.options;
    const now = this.clock.now();
    this.observe(await leases.replace(heldLease(current, identity, this.leaseDurationMs, now)));
    return 'acquired';
  }

  private async create(): Promise<Attempt> {
    const { leaseDurationMs } = this;
    const now = this.clock.now();
    try {
      this.observe(
        await this.options.leases.create(newLease({ ...this.options, leaseDurationMs, now })),
      );
      return 'acquired';
    } catch (error) {
      if (isAlreadyExists(error)) return 'held';
      throw error;
    }
  }

  /**
   * Remembers when the lease record last changed, by this process's clock, taken when the answer
   * arrived (client-go's observedTime): a slow read never makes the record look older than it is.
   */
  private observe(lease: V1Lease): void {
    const version = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.version !== version) {
      this.observed = { version, at: this.clock.now(), lease };
    }
  }

  /**
   * Gives the lease up so a standby takes over at its next retry instead of after expiry. Waits
   * (up to the renew deadline) for an abandoned renew first, and retries when one raced it.
   */
  private async release(): Promise<void> {
    const waited = new AbortController();
    const settled = this.pending.then(() => true);
    const timedOut = sleep(this.clock, this.renewDeadlineMs, waited.signal).then(() => false);
    const renewSettled = await Promise.race([settled, timedOut]);
    waited.abort();
    if (!renewSettled) return;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        if (await this.clearHolder()) this.logger.info('released lease');
        return;
      } catch (error) {
        if (!isConflict(error) || attempt === 3) {
          this.logger.warn({ error: message(error) }, 'lease release failed');
          return;
        }
      }
    }
  }

  /** Empties the holder when it is still this process; false when someone else holds it. */
  private async clearHolder(): Promise<boolean> {
    const { leases, namespace, name, identity } = this.options;
    const current = await leases.get(namespace, name);
    if (current?.spec?.holderIdentity !== identity) return false;
    await leases.replace(releasedLease(current, this.clock.now()));
    return true;
  }
}

function leaderGauge(registry: Registry): Gauge<'lease'> {
  const name = `${METRIC_PREFIX}leader_election_is_leader`;
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<'lease'>;
  return new Gauge({
    name,
    help: '1 while this process leads the lease, else 0.',
    labelNames: ['lease'],
    registers: [registry],
  });
}

/** An error's message, for one-line logs (a stack trace says nothing about a network failure). */
function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
