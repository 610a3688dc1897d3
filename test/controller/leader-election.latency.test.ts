import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LeaderElector } from '../../src/controller/leader-election.js';
import type { LeaseClient } from '../../src/kube/port.js';
import { eventually } from '../support/fixtures.js';
import { type KubeServerHarness, startKubeServer } from '../support/kube-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** Short timings, as in the failover tests; a round trip costs a good part of the renew deadline. */
const TIMINGS = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };
/**
 * Each way, on every chunk: a round trip of 300 ± 100 ms. client-node opens a TLS connection per
 * request, so a request takes two (about 600 ms), and a read and a write more than half the deadline.
 */
const LATENCY = { latencyMs: 150, latencyJitterMs: 50 };
const RENEWALS = 20;

let server: KubeServerHarness;
let proxy: TcpProxy;

beforeAll(async () => {
  server = await startKubeServer('pglite');
  await server.namespace('latency');
  proxy = await TcpProxy.start(server.address);
});
afterAll(() => server?.stop());

it(`keeps leading through ${RENEWALS} renewals when every request to the API server is slow`, async () => {
  Object.assign(proxy, LATENCY);
  const kube = server.connect(proxy);
  /** How long each successful lease write took, end to end. */
  const writes: number[] = [];
  const leases: LeaseClient = {
    get: (namespace, name) => kube.leases.get(namespace, name),
    create: (lease) => kube.leases.create(lease),
    async replace(lease) {
      const sentAt = performance.now();
      const replaced = await kube.leases.replace(lease);
      writes.push(performance.now() - sentAt);
      return replaced;
    },
  };
  const logged: Array<{ msg: string; level: number }> = [];
  const signals: AbortSignal[] = [];
  const elector = new LeaderElector({
    ...TIMINGS,
    leases,
    namespace: 'latency',
    name: 'controller',
    identity: 'slow',
    logger: pino({ level: 'debug' }, { write: (line: string) => logged.push(JSON.parse(line)) }),
    onStartedLeading: (signal) => {
      signals.push(signal);
    },
  });
  elector.start();
  try {
    await eventually('it leads', () => elector.isLeader, 30_000);
    await eventually(`${RENEWALS} renewals`, () => writes.length >= RENEWALS, 120_000);
    // the latency was there: no write came back faster than the proxy's minimum round trip
    expect(Math.min(...writes)).toBeGreaterThanOrEqual(
      2 * (LATENCY.latencyMs - LATENCY.latencyJitterMs),
    );
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
    expect(logged.filter((line) => line.msg === 'stopped leading')).toEqual([]);
    const lease = await server.direct.leases.get('latency', 'controller');
    expect(lease?.spec).toMatchObject({ holderIdentity: 'slow', leaseTransitions: 0 });
  } finally {
    proxy.latencyMs = 0;
    proxy.latencyJitterMs = 0;
    await elector.stop();
  }
}, 180_000);
