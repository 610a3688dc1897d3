import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../src/controller/leader-election.js';
import { Controller } from '../../src/controller/runtime.js';
import { databaseBackends } from '../support/database.js';
import { eventually, rollout } from '../support/fixtures.js';
import { type KubeServerHarness, startKubeServer } from '../support/kube-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** Short client-go-style timings so failover happens within seconds. */
const TIMINGS = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 250 };

interface Candidate {
  identity: string;
  elector: LeaderElector;
  proxy: TcpProxy;
  /** Wall-clock times leading started and stopped. */
  startedAt: number[];
  stoppedAt: number[];
  /** Reconciles this candidate's controller ran, with their start and end. */
  reconciles: Array<{ key: string; at: number }>;
  lostAt: number[];
}

describe.each(databaseBackends)('LeaderElector through client-node (%s)', (backend) => {
  let server: KubeServerHarness;
  const candidates: Candidate[] = [];

  beforeAll(async () => {
    server = await startKubeServer(backend);
    for (const name of ['failover', 'handover', 'micro']) await server.namespace(name);
  });
  afterEach(async () => {
    for (const candidate of candidates.splice(0)) {
      candidate.proxy.refusing = false;
      await candidate.elector.stop();
      await candidate.proxy.stop();
    }
  });
  afterAll(() => server?.stop());

  /** A candidate with its own network path to the server, running a controller while leading. */
  async function candidate(identity: string, lease: string): Promise<Candidate> {
    const proxy = await TcpProxy.start(server.address);
    const kube = server.connect(proxy);
    const result: Candidate = {
      identity,
      proxy,
      elector: undefined!,
      startedAt: [],
      stoppedAt: [],
      reconciles: [],
      lostAt: [],
    };
    const controller = new Controller({
      name: 'rollouts',
      sources: [{ name: 'rollouts', resource: kube.imageRollouts, namespace: lease }],
      informerBackoff: { baseMs: 50, maxMs: 200, jitter: 0.2 },
      reconcile: async (key, signal) => {
        result.reconciles.push({ key, at: Date.now() });
        signal.throwIfAborted();
        return { requeueAfter: 50 };
      },
    });
    result.elector = new LeaderElector({
      ...TIMINGS,
      leases: kube.leases,
      namespace: lease,
      name: 'controller',
      identity,
      onStartedLeading: async (signal) => {
        result.startedAt.push(Date.now());
        signal.addEventListener('abort', () => result.lostAt.push(Date.now()));
        await controller.run(signal);
      },
      onStoppedLeading: () => result.stoppedAt.push(Date.now()),
    });
    candidates.push(result);
    return result;
  }

  it('fails over to the standby when the leader is cut off, the old leader stopping first', async () => {
    await server.direct.imageRollouts.create(rollout('work', 'failover'));
    const a = await candidate('a', 'failover');
    const b = await candidate('b', 'failover');
    a.elector.start();
    await eventually('a leads and reconciles', () => a.reconciles.length > 0);
    b.elector.start();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(b.startedAt).toEqual([]);

    a.proxy.refusing = true;
    a.proxy.dropAll();
    const cutAt = Date.now();
    const lease = await server.direct.leases.get('failover', 'controller');
    const lastRenew = lease?.spec?.renewTime?.getTime() ?? 0;
    await eventually('b leads', () => b.startedAt.length > 0, 10_000);
    await eventually('b reconciles', () => b.reconciles.length > 0);

    expect(a.lostAt).toHaveLength(1);
    // the renew due a retry period after the last one gave up a renew deadline later
    expect(a.lostAt[0]! - lastRenew).toBeLessThanOrEqual(
      TIMINGS.retryPeriodMs + TIMINGS.renewDeadlineMs + 500,
    );
    expect(a.lostAt[0]!).toBeLessThan(b.startedAt[0]!);
    // b saw the last renew within one jittered retry period (≤ 2.2×), waited the lease
    // duration from then, and took over at its next retry
    expect(b.startedAt[0]! - cutAt).toBeLessThanOrEqual(
      TIMINGS.leaseDurationMs + 2 * 2.2 * TIMINGS.retryPeriodMs + 500,
    );
    expect(a.reconciles.filter((r) => r.at > a.lostAt[0]!)).toEqual([]);
    expect((await server.direct.leases.get('failover', 'controller'))?.spec).toMatchObject({
      holderIdentity: 'b',
      leaseDurationSeconds: 2,
      leaseTransitions: 1,
    });
  });

  it('hands over within a retry period when the leader shuts down cleanly', async () => {
    const a = await candidate('a', 'handover');
    const b = await candidate('b', 'handover');
    a.elector.start();
    await eventually('a leads', () => a.elector.isLeader);
    b.elector.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stoppedAt = Date.now();
    await a.elector.stop();
    expect(a.stoppedAt).toHaveLength(1);
    await eventually('b leads', () => b.elector.isLeader, 5_000);
    // one jittered retry period (up to 2.2×) plus request time; expiry would take the lease duration
    expect(b.startedAt[0]! - stoppedAt).toBeLessThan(2.2 * TIMINGS.retryPeriodMs + 500);
  });

  it('stores acquireTime and renewTime as MicroTime', async () => {
    const a = await candidate('a', 'micro');
    a.elector.start();
    await eventually('a leads', () => a.elector.isLeader);
    const raw = (await server.getJson(
      '/apis/coordination.k8s.io/v1/namespaces/micro/leases/controller',
    )) as {
      spec: { acquireTime: string; renewTime: string; holderIdentity: string };
    };
    expect(raw.spec.holderIdentity).toBe('a');
    expect(raw.spec.acquireTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(raw.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});
