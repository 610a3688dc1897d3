import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import { isAlreadyExists, isConflict, type LeaseClient } from '../kube/port.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { METRIC_PREFIX } from '../telemetry/metrics.js';
import { type Clock, sleep, systemClock, type TimerHandle } from './clock.js';

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
  /** A leader that has not renewed for this long stops leading. Must be below leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Between attempts to acquire or renew. */
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

/**
 * Lease-based leader election with client-go's semantics: a lease held by another is respected
 * until `leaseDuration` has passed since this process last saw it change; the leader renews every
 * `retryPeriod` and steps down when a renew has not succeeded within `renewDeadline` or the lease
 * shows another holder. After losing, it campaigns again; `stop()` releases a held lease.
 */
export class LeaderElector {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly stopping = new AbortController();
  private readonly leaderGauge: Gauge<'lease'> | undefined;
  private leading: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private observed: { version: string; at: number; lease: V1Lease } | undefined;
  private deadline: TimerHandle | undefined;
  /** When the last successful acquire or renew was started. */
  private renewedAt = 0;
  /** The latest tryAcquireOrRenew, which may outlive an abandoned attempt. */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LeaderElectionOptions) {
    this.clock = options.clock ?? systemClock;
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
    while (!this.stopping.signal.aborted) {
      if (!(await this.acquire())) return;
      await this.lead();
    }
  }

  /** Tries until the lease is ours (true) or the elector stops (false). */
  private async acquire(): Promise<boolean> {
    const random = this.options.random ?? Math.random;
    while (!this.stopping.signal.aborted) {
      if ((await this.attempt(this.stopping.signal)) === 'acquired') return true;
      const jittered = this.retryPeriodMs * (1 + 1.2 * random());
      await sleep(this.clock, jittered, this.stopping.signal);
    }
    return false;
  }

  /** Leads until the lease is lost or the elector stops; returns once the leader's work returned. */
  private async lead(): Promise<void> {
    const leading = new AbortController();
    this.leading = leading;
    this.leaderGauge?.set({ lease: this.options.name }, 1);
    this.logger.info('started leading');
    this.armDeadline();
    const work = Promise.resolve()
      .then(() => this.options.onStartedLeading(leading.signal))
      .catch((error: unknown) => this.logger.error({ err: error }, 'leader work failed'));
    while (!leading.signal.aborted) {
      await sleep(this.clock, this.retryPeriodMs, leading.signal);
      if (leading.signal.aborted) break;
      const outcome = await this.attempt(leading.signal);
      if (outcome === 'acquired') this.armDeadline();
      else if (outcome === 'held') this.stepDown('lease taken by another holder');
    }
    await work;
    this.leading = undefined;
    this.options.onStoppedLeading?.();
  }

  /** Steps down `renewDeadline` after the last successful renew was started. */
  private armDeadline(): void {
    if (this.deadline !== undefined) this.clock.clearTimeout(this.deadline);
    const wait = this.renewedAt + this.renewDeadlineMs - this.clock.now();
    this.deadline = this.clock.setTimeout(() => this.stepDown('renew deadline passed'), wait);
  }

  private stepDown(reason: string): void {
    if (this.deadline !== undefined) this.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
    if (!this.isLeader) return;
    this.leading?.abort(new Error(`leadership lost: ${reason}`));
    this.leaderGauge?.set({ lease: this.options.name }, 0);
    this.logger.warn({ reason }, 'stopped leading');
  }

  /** One tryAcquireOrRenew; abandoned (its result ignored) when `signal` aborts first. */
  private async attempt(signal: AbortSignal): Promise<Attempt> {
    let onAbort = () => {};
    const aborted = new Promise<Attempt>((resolve) => {
      onAbort = () => resolve('failed');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const tried = this.tryAcquireOrRenew().catch((error: unknown): Attempt => {
      this.logger.warn({ err: error }, 'lease update failed');
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
    const now = this.clock.now();
    const current = await leases.get(namespace, name);
    if (!current) return this.create(now);
    this.observe(current, now);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity;
    const validForMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity && this.observed!.at + validForMs > now) return 'held';
    const renewing = holder === identity;
    const updated = await leases.replace({
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        acquireTime: renewing && spec.acquireTime ? spec.acquireTime : new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
      },
    });
    this.observe(updated, now);
    this.renewedAt = now;
    return 'acquired';
  }

  private async create(now: number): Promise<Attempt> {
    const { leases, namespace, name, identity } = this.options;
    try {
      const created = await leases.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { namespace, name },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
          acquireTime: new V1MicroTime(now),
          renewTime: new V1MicroTime(now),
          leaseTransitions: 0,
        },
      });
      this.observe(created, now);
      this.renewedAt = now;
      return 'acquired';
    } catch (error) {
      if (isAlreadyExists(error)) return 'held';
      throw error;
    }
  }

  /** Remembers when the lease record last changed, by this process's clock (as client-go does). */
  private observe(lease: V1Lease, now: number): void {
    const version = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.version !== version) this.observed = { version, at: now, lease };
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
          this.logger.warn({ err: error }, 'lease release failed');
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
    const now = new V1MicroTime(this.clock.now());
    await leases.replace({
      ...current,
      spec: {
        ...current.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
      },
    });
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
