import { V1MicroTime } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../src/controller/leader-election.js';
import { ManualClock } from '../support/manual-clock.js';
import { type MemoryLeaseClient, MemoryLeaseStore } from '../support/memory-leases.js';

const LEASE = { namespace: 'fleet-system', name: 'fleet-rollout-controller' };

interface Candidate {
  elector: LeaderElector;
  leases: MemoryLeaseClient;
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

  function candidate(store: MemoryLeaseStore, clock: ManualClock, identity: string): Candidate {
    const leases = store.client();
    const result: Candidate = {
      elector: undefined!,
      leases,
      started: [],
      stopped: [],
      signals: [],
    };
    result.elector = new LeaderElector({
      ...LEASE,
      leases,
      identity,
      clock,
      random: () => 0,
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

  /** `a` leads, then `b` starts as a standby. */
  async function leaderAndStandby() {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    return { clock, store, a, b };
  }

  /** `a` alone, leading. */
  async function soleLeader() {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    const a = candidate(store, clock, 'a');
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

  it('fails over after a leader is cut off: it stops at the renew deadline, before the standby takes over within the lease duration', async () => {
    const { clock, store, a, b } = await leaderAndStandby();
    await clock.advance(3_000);
    const lastRenew = store.read(LEASE.namespace, LEASE.name)?.spec?.renewTime?.getTime() ?? 0;
    a.leases.hanging = true;
    await clock.advance(30_000);
    expect(a.signals[0]?.aborted).toBe(true);
    expect(a.stopped).toEqual([lastRenew + 10_000]);
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
    const store = new MemoryLeaseStore();
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
