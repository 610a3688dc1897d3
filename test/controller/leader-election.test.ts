import { V1MicroTime } from '@kubernetes/client-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaderElector, RETRY_JITTER } from '../../src/controller/leader-election.js';
import { ManualClock } from '../support/manual-clock.js';
import { type MemoryLeaseClient, MemoryLeaseStore } from '../support/memory-leases.js';

const LEASE = { namespace: 'fleet-system', name: 'fleet-rollout-controller' };
/** The defaults, which the tests below rely on. */
const RETRY = 2_000;
const RENEW_DEADLINE = 10_000;

interface Candidate {
  elector: LeaderElector;
  leases: MemoryLeaseClient;
  /** Every line the elector logged, parsed. */
  logged: Array<Record<string, unknown>>;
  /** Times (manual clock) at which leading started and stopped, and the signal of each term. */
  started: number[];
  stopped: number[];
  signals: AbortSignal[];
}

describe('LeaderElector (client-go semantics on a manual clock)', () => {
  const electors: LeaderElector[] = [];
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((elector) => elector.stop()));
  });

  function candidate(
    store: MemoryLeaseStore,
    clock: ManualClock,
    identity: string,
    random = () => 0,
  ): Candidate {
    const leases = store.client();
    const result: Candidate = {
      elector: undefined!,
      leases,
      logged: [],
      started: [],
      stopped: [],
      signals: [],
    };
    const write = (line: string) => result.logged.push(JSON.parse(line));
    result.elector = new LeaderElector({
      ...LEASE,
      leases,
      identity,
      clock,
      random,
      logger: pino({ level: 'trace' }, { write }),
      registry: new Registry(),
      onStartedLeading: (signal) => {
        result.started.push(clock.now());
        result.signals.push(signal);
      },
      onStoppedLeading: () => result.stopped.push(clock.now()),
    });
    electors.push(result.elector);
    return result;
  }

  /** Stops the candidates while moving the clock, which their slow calls wait for. */
  async function stopAll(clock: ManualClock, ...stopping: Candidate[]) {
    const stopped = Promise.all(stopping.map((each) => each.elector.stop()));
    await clock.advance(2 * RENEW_DEADLINE);
    await stopped;
  }

  /** `a` leads, then `b` starts as a standby. */
  async function leaderAndStandby() {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    return { clock, store, a, b };
  }

  /** `a` alone, leading. */
  async function soleLeader(random?: () => number) {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = candidate(store, clock, 'a', random);
    a.elector.start();
    await clock.advance(0);
    return { clock, store, a };
  }

  it('creates the lease with MicroTime times and renews it every retry period', async () => {
    const { clock, store, a } = await soleLeader();
    expect(a.elector.isLeader).toBe(true);
    const created = a.leases.written[0]!;
    expect(created.spec?.acquireTime).toBeInstanceOf(V1MicroTime);
    expect(created.spec?.renewTime?.toISOString()).toMatch(/\.\d{6}Z$/);
    expect(store.read(LEASE.namespace, LEASE.name)?.spec).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });
    await clock.advance(6_000);
    const renewTimes = a.leases.written.map((lease) => lease.spec?.renewTime?.getTime());
    expect(renewTimes.map((time) => time! - renewTimes[0]!)).toEqual([0, 2000, 4000, 6000]);
    expect(a.leases.written.at(-1)?.spec?.acquireTime?.getTime()).toBe(renewTimes[0]);
  });

  it('keeps a standby waiting while the leader renews', async () => {
    const { clock, a, b } = await leaderAndStandby();
    await clock.advance(60_000);
    expect(a.elector.isLeader).toBe(true);
    expect(b.started).toEqual([]);
  });

  it('fails over after a leader is cut off: it stops when the renew due a retry period after its last one has not succeeded within the renew deadline, before the standby takes over within the lease duration', async () => {
    const { clock, store, a, b } = await leaderAndStandby();
    await clock.advance(3_000);
    const lastRenew = store.read(LEASE.namespace, LEASE.name)?.spec?.renewTime?.getTime() ?? 0;
    a.leases.hanging = true;
    await clock.advance(30_000);
    expect(a.signals[0]?.aborted).toBe(true);
    expect(a.stopped).toEqual([lastRenew + RETRY + RENEW_DEADLINE]);
    expect(b.started).toHaveLength(1);
    expect(b.started[0]!).toBeGreaterThan(a.stopped[0]!);
    expect(b.started[0]! - lastRenew).toBeLessThanOrEqual(15_000 + 2_000);
    expect(store.read(LEASE.namespace, LEASE.name)?.spec).toMatchObject({
      holderIdentity: 'b',
      leaseTransitions: 1,
    });
  });

  it('stops leading at the next renew when another holder took the lease', async () => {
    const { clock, store, a } = await soleLeader();
    const lease = store.read(LEASE.namespace, LEASE.name)!;
    store.write({ ...lease, spec: { ...lease.spec, holderIdentity: 'intruder' } }, false);
    const takenAt = clock.now();
    await clock.advance(2_000);
    expect(a.signals[0]?.aborted).toBe(true);
    expect(a.stopped).toEqual([takenAt + 2_000]);
    expect(a.elector.isLeader).toBe(false);
  });

  it('rides out renew failures shorter than the renew deadline', async () => {
    const { clock, a } = await soleLeader();
    a.leases.failing = true;
    await clock.advance(7_000);
    a.leases.failing = false;
    await clock.advance(30_000);
    expect(a.signals[0]?.aborted).toBe(false);
    expect(a.stopped).toEqual([]);
  });

  it('keeps the lease when a renew outlasts the renew deadline counted from the last success, but succeeds within the deadline of its own', async () => {
    const { clock, store, a } = await soleLeader();
    const releaseWrites = a.leases.holdWrites();
    await clock.advance(RETRY);
    // the renew began at 2 s; its write is acknowledged at 11 s, past 10 s after the last renew
    await clock.advance(RENEW_DEADLINE - RETRY + 1_000);
    const written = a.leases.written.length;
    releaseWrites();
    await clock.advance(0);
    expect(a.leases.written.length).toBe(written + 1);
    expect(store.read(LEASE.namespace, LEASE.name)?.spec?.renewTime?.getTime()).toBe(
      a.started[0]! + RETRY,
    );
    expect(a.elector.isLeader).toBe(true);
    await clock.advance(30_000);
    expect(a.stopped).toEqual([]);
    expect(a.signals[0]?.aborted).toBe(false);
  });

  it('steps down when no renew succeeded within the renew deadline, logging each failure as one warn line without a stack', async () => {
    const { clock, a } = await soleLeader();
    const lastRenew = clock.now();
    a.leases.failing = true;
    await clock.advance(30_000);
    expect(a.stopped).toEqual([lastRenew + RETRY + RENEW_DEADLINE]);
    const failures = a.logged.filter((line) => line.msg === 'lease update failed');
    // the renew tried every retry period (2, 4, 6, 8, 10 s), then campaigning went on failing
    expect(failures.length).toBeGreaterThanOrEqual(5);
    for (const line of failures) {
      expect(line).toMatchObject({ level: 40, error: 'connect ECONNREFUSED' });
      expect(JSON.stringify(line)).not.toMatch(/stack|\\n\s+at /);
    }
    expect(a.logged.filter((line) => line.msg === 'stopped leading')).toEqual([
      expect.objectContaining({ level: 40, reason: 'renew deadline passed' }),
    ]);
  });

  it('keeps leading over many periods when every API call takes 60 % of the renew deadline', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    a.leases.latencyMs = 0.6 * RENEW_DEADLINE;
    b.leases.latencyMs = 0.6 * RENEW_DEADLINE;
    a.elector.start();
    await clock.advance(2 * a.leases.latencyMs);
    expect(a.started).toHaveLength(1);
    b.elector.start();
    await clock.advance(50 * RETRY);
    const renewed = a.leases.written.length;
    await clock.advance(100 * RETRY);
    // a renew takes one write: 8 s from one to the next
    expect(a.leases.written.length - renewed).toBeGreaterThanOrEqual(20);
    expect(a.stopped).toEqual([]);
    expect(a.signals[0]?.aborted).toBe(false);
    expect(b.started).toEqual([]);
    expect(store.read(LEASE.namespace, LEASE.name)?.spec?.holderIdentity).toBe('a');
    await stopAll(clock, a, b);
  });

  it('re-reads and renews at once on a 409 for its own lease, logging it at debug', async () => {
    const { clock, store, a } = await soleLeader();
    const releaseWrites = a.leases.holdWrites();
    await clock.advance(RETRY);
    // the lease changes under the renew's write (another writer, or this process's own late write)
    const lease = store.read(LEASE.namespace, LEASE.name)!;
    store.write({ ...lease, metadata: { ...lease.metadata, labels: { touched: 'yes' } } }, false);
    releaseWrites();
    await clock.advance(0);
    const stored = store.read(LEASE.namespace, LEASE.name);
    expect(stored?.metadata?.labels).toEqual({ touched: 'yes' });
    expect(stored?.spec).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });
    expect(stored?.spec?.renewTime?.getTime()).toBe(clock.now());
    const conflicts = a.logged.filter((line) => JSON.stringify(line).includes('conflict'));
    expect(conflicts).toEqual([expect.objectContaining({ level: 20, error: 'conflict' })]);
    expect(a.logged.filter((line) => (line.level as number) >= 40)).toEqual([]);
    expect(a.elector.isLeader).toBe(true);
  });

  it.each([0, 0.5, 0.999])(
    'waits retryPeriod × (1 + 1.2 × %s) between acquire attempts, after losing the lease too',
    async (random) => {
      const { clock, store, a } = await soleLeader(() => random);
      const lease = store.read(LEASE.namespace, LEASE.name)!;
      store.write({ ...lease, spec: { ...lease.spec, holderIdentity: 'intruder' } }, false);
      const jittered = RETRY * (1 + RETRY_JITTER * random);
      await clock.advance(RETRY + 3.5 * jittered);
      expect(a.stopped).toEqual([a.started[0]! + RETRY]);
      // the renew at 2 s read the intruder's lease; each attempt after it reads once
      const reads = a.leases.calls
        .filter((call) => call.method === 'get' && call.at >= a.stopped[0]!)
        .map((call) => call.at);
      const gaps = reads.slice(1).map((at, i) => at - reads[i]!);
      expect(gaps).toHaveLength(3);
      for (const gap of gaps) {
        expect(gap).toBeCloseTo(jittered, 0);
        expect(gap).toBeGreaterThanOrEqual(RETRY);
        expect(gap).toBeLessThan(RETRY * (1 + RETRY_JITTER));
      }
    },
  );

  it('releases the lease on stop so a standby takes over at its next retry', async () => {
    const { clock, store, a, b } = await leaderAndStandby();
    await clock.advance(1_000);
    await a.elector.stop();
    expect(a.signals[0]?.aborted).toBe(true);
    expect(store.read(LEASE.namespace, LEASE.name)?.spec?.holderIdentity).toBe('');
    const releasedAt = clock.now();
    await clock.advance(2_000);
    expect(b.started).toEqual([releasedAt + 1_000]);
    expect(store.read(LEASE.namespace, LEASE.name)?.spec?.leaseTransitions).toBe(1);
  });

  it('releases the lease even when a slow renew lands during shutdown', async () => {
    const { clock, store, a } = await soleLeader();
    const releaseWrites = a.leases.holdWrites();
    await clock.advance(2_000);
    const stopping = a.elector.stop();
    await clock.advance(0);
    releaseWrites();
    await stopping;
    expect(store.read(LEASE.namespace, LEASE.name)?.spec?.holderIdentity).toBe('');
  });

  it('waits for the leader work to return before onStoppedLeading and the release', async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore(clock);
    const order: string[] = [];
    const leases = store.client();
    const elector = new LeaderElector({
      ...LEASE,
      leases,
      identity: 'a',
      clock,
      onStartedLeading: async (signal) => {
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        await clock.advance(0);
        order.push(
          `work returned, holder ${store.read(LEASE.namespace, LEASE.name)?.spec?.holderIdentity}`,
        );
      },
      onStoppedLeading: () => order.push('stopped leading'),
    });
    elector.start();
    await clock.advance(0);
    await elector.stop();
    expect(order).toEqual(['work returned, holder a', 'stopped leading']);
    expect(store.read(LEASE.namespace, LEASE.name)?.spec?.holderIdentity).toBe('');
  });

  it('stops campaigning without leaving a timer behind', async () => {
    const { clock, a, b } = await leaderAndStandby();
    await clock.advance(5_000);
    await b.elector.stop();
    await a.elector.stop();
    expect(clock.pendingTimers).toBe(0);
    expect(b.started).toEqual([]);
  });

  it('rejects a renew deadline not shorter than the lease duration', () => {
    expect(
      () =>
        new LeaderElector({
          ...LEASE,
          leases: new MemoryLeaseStore().client(),
          identity: 'a',
          leaseDurationMs: 5_000,
          renewDeadlineMs: 5_000,
          onStartedLeading: () => {},
        }),
    ).toThrow(/renew deadline/);
  });
});
