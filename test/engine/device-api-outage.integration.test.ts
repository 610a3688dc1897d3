import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import type { TargetApps } from '../../src/devices/target-document.js';
import { databaseBackends } from '../support/database.js';
import { type Engine, imagesOf, startEngine } from '../support/engine.js';

const NGINX = 'docker.io/library/nginx';
const OLD = `${NGINX}:1.27`;
const NEW = `${NGINX}:1.28`;
const apps = (image: string): TargetApps => ({ web: { services: { nginx: { image } } } });
const ready = (rollout: ImageRollout) =>
  rollout.status?.conditions?.find((condition) => condition.type === 'Ready');
/** offlineAfter of the policy (the least it may be), in ms: the outage outlasts it. */
const OFFLINE_AFTER_MS = 30_000;
const DEVICES = 10;

/** Every status the rollout shows, polled while the test runs; the worst counts it saw. */
function watchStatuses(engine: Engine, name: string) {
  const worst = { offline: 0, failed: 0, reasons: new Set<string>() };
  const timer = setInterval(async () => {
    const rollout = await engine.kube.imageRollouts.get('default', name).catch(() => undefined);
    for (const batch of rollout?.status?.batches ?? []) {
      worst.offline = Math.max(worst.offline, batch.offline);
      worst.failed = Math.max(worst.failed, batch.failed);
    }
    const reason = rollout && ready(rollout)?.reason;
    if (reason) worst.reasons.add(reason);
  }, 100);
  return { worst, stop: () => clearInterval(timer) };
}

/**
 * The whole product in one process (local API server, device API, controller, simulated devices)
 * with the device API taken away mid-batch for longer than offlineAfter and than the batch's
 * progress deadline: its silence is ours, not the devices', so nobody is offline or failed.
 */
describe.each(databaseBackends)('a device-API outage mid-batch on %s', (backend) => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });

  async function outageScenario(
    name: string,
    options: { proxyDatabase?: boolean },
    outage: { begin(): Promise<void> | void; end(): Promise<void> | void },
    waitingMessage: RegExp,
  ) {
    const running = await startEngine(backend, { heartbeatIntervalMs: 200, ...options });
    engine = running;
    const simulator = await running.simulate({
      register: { count: DEVICES, fleet: name, apps: apps(OLD) },
      seed: name,
      pollIntervalMs: 1_000,
    });
    await running.policy(name, {
      selector: { fleets: [name] },
      strategy: { batches: [50, 100], interval: '0s' },
      health: { soakTime: '3s', offlineAfter: '30s', progressDeadline: '1m' },
      failurePolicy: { maxFailurePercent: 0, minSample: 1, action: 'Pause' },
    });
    const statuses = watchStatuses(running, name);
    try {
      await running.rollout(name, { policy: name });
      // Batch 1 has devices on the new image, soaking: then the device API goes away.
      const started = await running.until(name, (r) =>
        expect(r.status?.batches?.[0]?.updated).toBeGreaterThan(0),
      );
      expect(started.status?.phase).toBe('Progressing');
      await outage.begin();
      const waiting = await running.until(name, (r) =>
        expect(ready(r)?.reason).toBe('DeviceAPIUnavailable'),
      );
      expect(ready(waiting)?.message).toMatch(waitingMessage);
      expect(waiting.status?.phase).toBe('Progressing');
      // Down for longer than offlineAfter (the progress deadline is checked in the planner's
      // tables: the least one allowed, 1m, would make this test take minutes).
      const downUntil = Date.now() + OFFLINE_AFTER_MS + 5_000;
      await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(downUntil), {
        timeout: OFFLINE_AFTER_MS + 30_000,
        interval: 200,
      });
      await outage.end();
      const done = await running.until(
        name,
        (r) => expect(r.status?.phase).toBe('Succeeded'),
        60_000,
      );
      expect(done.status).toMatchObject({ devices: DEVICES, healthy: DEVICES, failed: 0 });
      expect(statuses.worst).toMatchObject({ offline: 0, failed: 0 });
      expect(statuses.worst.reasons).toContain('DeviceAPIUnavailable');
      expect([...imagesOf(simulator).values()].flat()).toEqual(new Array(DEVICES).fill(NEW));
      const reasons = (await running.events(name)).map((event) => event.reason);
      expect(reasons).toEqual(
        expect.arrayContaining(['DeviceAPIUnavailable', 'DeviceAPIAvailable']),
      );
      expect(reasons).not.toContain('FailureBudgetExceeded');
    } finally {
      statuses.stop();
    }
  }

  it('every device-API replica stopped', async () => {
    await outageScenario(
      'replicas-down',
      {},
      {
        begin: () => engine?.stopDeviceApi(),
        end: () => engine?.startDeviceApi(),
      },
      /no replica has taken reports since/,
    );
  }, 180_000);

  // PGlite runs in the process: there is no network to cut.
  if (backend === 'postgres')
    it('Postgres cut off from the device API and the controller', async () => {
      await outageScenario(
        'database-cut',
        { proxyDatabase: true },
        {
          begin() {
            const proxy = engine?.databaseProxy;
            if (!proxy) throw new Error('no database proxy');
            proxy.refusing = true;
            proxy.dropAll();
          },
          end() {
            if (engine?.databaseProxy) engine.databaseProxy.refusing = false;
          },
        },
        /Postgres is unreachable|no replica has taken reports/,
      );
    }, 180_000);
});
