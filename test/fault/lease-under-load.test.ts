import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import { type Simulator, startSimulator } from '../../src/simulator/simulator.js';
import { eventually } from '../support/eventually.js';
import { type HttpsTarget, httpsRequest } from '../support/https-request.js';
import { type RoleProcess, startRole } from '../support/role-process.js';
import { freePort } from './postgres-server.js';

/*
 * `npm start` as one process (embedded database, local API server, one controller with the
 * default lease timings) through a 300-device rollout while busy loops keep every core and more
 * busy: the controller must hold its Lease the whole time. Its share of time holding the lease
 * is printed (docs/fault-suite.md).
 */

const DEVICES = 300;
const IDENTITY = 'only-controller';
const ROLLOUTS = '/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagerollouts';
/** The load average the operator saw; busy loops make up what the machine lacks. */
const TARGET_LOAD = 8;

const busy: ChildProcess[] = [];
let product: RoleProcess | undefined;
let simulator: Simulator | undefined;
let dir: string | undefined;
let passed = false;

afterAll(async () => {
  for (const loop of busy) loop.kill('SIGKILL');
  await simulator?.stop();
  await product?.stop();
  // a failed run keeps the product's log
  if (dir && passed) rmSync(dir, { recursive: true, force: true });
}, 60_000);

it(`one process keeps its lease through a ${DEVICES}-device rollout on an overloaded machine`, async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-lease-load-'));
  const token = randomBytes(24).toString('hex');
  const adminToken = randomBytes(24).toString('hex');
  product = await startRole({
    role: 'start',
    name: 'start',
    logDir: dir,
    timeoutMs: 180_000,
    env: {
      FLEET_ROLLOUT_DATA_DIR: dir,
      FLEET_ROLLOUT_APISERVER_PORT: String(await freePort()),
      FLEET_ROLLOUT_APISERVER_TOKEN: token,
      FLEET_ROLLOUT_ADMIN_TOKEN: adminToken,
      FLEET_ROLLOUT_LEADER_IDENTITY: IDENTITY,
      FLEET_ROLLOUT_LOG_LEVEL: 'info',
    },
  });
  const apiserverUrl = product
    .logs()
    .find((line) => line.msg === 'local Kubernetes API server listening')?.url;
  const kube: HttpsTarget = {
    url: String(apiserverUrl),
    certificate: readFileSync(join(dir, 'apiserver', 'tls.crt'), 'utf8'),
    token,
  };
  const post = async (path: string, object: object) => {
    const answer = await httpsRequest(kube, 'POST', path, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(object),
    });
    expect(answer.status, answer.text).toBe(201);
  };
  const image = 'ghcr.io/acme/loaded';
  await post('/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagepolicies', {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImagePolicy',
    metadata: { name: 'loaded' },
    spec: {
      image,
      selector: { fleets: ['loaded'] },
      strategy: { type: 'Staged', batches: [10, 50, 100], interval: '0s' },
      health: { soakTime: '1s', offlineAfter: '2m', progressDeadline: '10m' },
    },
  });
  simulator = await startSimulator({
    apiUrl: product.url,
    register: {
      count: DEVICES,
      adminToken,
      fleet: 'loaded',
      apps: { edge: { services: { app: { image: `${image}:1` } } } },
    },
    longPollSeconds: 20,
    pollIntervalMs: 5_000,
    reportIntervalMs: 10_000,
    pullDelayMs: 500,
    healthyAfterMs: 500,
    startSpreadMs: 2_000,
    concurrency: 8,
    // one process does everything on an embedded database, on a busy machine
    requestTimeoutMs: 120_000,
    seed: 'lease-under-load',
  });
  await eventually(
    () => expect(simulator?.devices().filter((device) => device.reports > 0)).toHaveLength(DEVICES),
    120_000,
  );

  // The load: busy loops, as many as it takes (at least one per core) to reach TARGET_LOAD.
  const loops = Math.max(cpus().length, Math.round(TARGET_LOAD - (loadavg()[0] ?? 0)));
  for (let i = 0; i < loops; i++) {
    busy.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  }
  const lease = new LeaseWatch(kube);
  lease.start();
  const from = Date.now();
  await post(ROLLOUTS, {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImageRollout',
    metadata: { name: 'loaded-2' },
    spec: { policyRef: { name: 'loaded' }, image, tag: '2' },
  });
  const done = await eventually(async () => {
    const answer = await httpsRequest(kube, 'GET', `${ROLLOUTS}/loaded-2`);
    const rollout = JSON.parse(answer.text) as ImageRollout;
    expect(rollout.status?.phase, rollout.status?.message).toBe('Succeeded');
    return rollout;
  }, 400_000);
  const until = Date.now();
  const load = loadavg()[0] ?? 0;
  lease.stop();
  for (const loop of busy) loop.kill('SIGKILL');

  expect(done.status).toMatchObject({ devices: DEVICES, healthy: DEVICES, failed: 0 });
  const shed = await requestsShed(product.url);
  const logged = product.logs().filter((line) => line.time >= from && line.time <= until);
  const { share, known, unknown } = lease.share(from, until, IDENTITY);
  console.log(
    `lease held ${(share * 100).toFixed(1)} % of ${((until - from) / 1000).toFixed(1)} s ` +
      `(${known} samples, ${unknown} unanswered) with load average ${load.toFixed(1)} ` +
      `(${loops} busy loops on ${cpus().length} cores); ${shed} device requests shed`,
  );
  expect(logged.filter((line) => line.msg === 'stopped leading')).toEqual([]);
  expect(product.logs().filter((line) => line.msg === 'started leading')).toHaveLength(1);
  expect(share).toBe(1);
  expect(product.exit()).toBeUndefined();
  passed = true;
}, 600_000);

/** Device requests the product answered 503 because its event loop ran late, from /metrics. */
async function requestsShed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^fleet_rollout_device_requests_shed_total\{[^}]*\} (\d+)$/gm)]
    .map((match) => Number(match[1]))
    .reduce((sum, count) => sum + count, 0);
}

/**
 * Samples the Lease every 250 ms: held by `identity` when its renewTime was less than
 * leaseDurationSeconds old as the read was sent (a standby would not have taken it over then).
 * A read the API server did not answer (it shares the loaded process) tells nothing: `unknown`.
 */
class LeaseWatch {
  readonly samples: Array<{ at: number; held: string | undefined; unknown: boolean }> = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly kube: HttpsTarget) {}

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      const at = Date.now();
      const answer = await httpsRequest(
        this.kube,
        'GET',
        '/apis/coordination.k8s.io/v1/namespaces/default/leases/fleet-rollout-controller',
      ).catch(() => undefined);
      if (answer?.status === 200) {
        const { spec } = JSON.parse(answer.text) as {
          spec: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
        };
        const fresh =
          spec.renewTime !== undefined &&
          at - Date.parse(spec.renewTime) < (spec.leaseDurationSeconds ?? 0) * 1000;
        this.samples.push({ at, held: fresh ? spec.holderIdentity : undefined, unknown: false });
      } else {
        this.samples.push({ at, held: undefined, unknown: true });
      }
      this.timer = setTimeout(tick, 250);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The fraction of known samples in [from, until] at which `identity` held a live lease. */
  share(
    from: number,
    until: number,
    identity: string,
  ): { share: number; known: number; unknown: number } {
    const inside = this.samples.filter((s) => s.at >= from && s.at <= until);
    const known = inside.filter((s) => !s.unknown);
    expect(known.length).toBeGreaterThan(10);
    return {
      share: known.filter((s) => s.held === identity).length / known.length,
      known: known.length,
      unknown: inside.length - known.length,
    };
  }
}
