import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TargetApps } from '../../src/devices/target-document.js';
import { assignFates } from '../../src/simulator/fates.js';
import type { SimulatorOptions } from '../../src/simulator/options.js';
import { type Simulator, startSimulator } from '../../src/simulator/simulator.js';
import { databaseBackends } from '../support/database.js';
import { type ServedDeviceApi, serveDeviceApi } from '../support/device-api-server.js';

const OLD = 'docker.io/library/nginx:1.27';
const NEW = 'docker.io/library/nginx:1.28';
const AGENT = 'ghcr.io/acme/agent:1.0';

function appsWith(image: string): TargetApps {
  return { web: { services: { nginx: { image }, agent: { image: AGENT } } } };
}

const healthy = (image: string) => ({ image, status: 'running', health: 'healthy' });

describe.each(databaseBackends)('simulated devices against the device API on %s', (backend) => {
  let api: ServedDeviceApi;
  const running: Simulator[] = [];

  beforeAll(async () => {
    api = await serveDeviceApi(backend, { pollIntervalSeconds: 1 });
  });
  afterEach(async () => {
    for (const simulator of running.splice(0)) await simulator.stop();
  });
  afterAll(() => api?.stop());

  /** A fast fleet: 200 ms polls, 100 ms pulls and starts. */
  async function simulate(fleet: string, count: number, options: Partial<SimulatorOptions> = {}) {
    const simulator = await startSimulator({
      apiUrl: api.url,
      register: { count, adminToken: api.adminToken, fleet, apps: appsWith(OLD) },
      pollIntervalMs: 200,
      pullDelayMs: 100,
      healthyAfterMs: 100,
      startSpreadMs: 200,
      ...options,
    });
    running.push(simulator);
    return simulator;
  }

  const uuidsOf = (simulator: Simulator) => simulator.credentials().map((c) => c.uuid);

  /** Waits until the server holds, for every device, the reported services `expected` gives. */
  async function untilReported(uuids: string[], expected: (uuid: string) => object | null) {
    await vi.waitFor(
      async () => {
        const reports = await api.reported(uuids);
        for (const uuid of uuids) expect(reports.get(uuid)).toEqual(expected(uuid));
      },
      { timeout: 20_000, interval: 250 },
    );
  }

  it('registers devices with the label distribution; each reports its initial target healthy', async () => {
    const simulator = await startSimulator({
      apiUrl: api.url,
      register: {
        count: 12,
        adminToken: api.adminToken,
        fleet: 'labelled',
        labels: { site: ['a', 'b', 'c'], tier: ['edge', 'core'] },
        apps: appsWith(OLD),
      },
      pollIntervalMs: 200,
    });
    running.push(simulator);
    for (const [selector, count] of [
      ['site=a', 4],
      ['site=c,tier=core', 2],
      ['tier=edge', 6],
    ] as const) {
      const query = `fleet=labelled&labelSelector=${encodeURIComponent(selector)}`;
      const { body } = await api.admin<{ items: unknown[] }>('GET', `/api/v1/devices?${query}`);
      expect(body.items).toHaveLength(count);
    }
    await untilReported(uuidsOf(simulator), () => ({
      'web/nginx': healthy(OLD),
      'web/agent': healthy(AGENT),
    }));
    expect(simulator.stats()).toMatchObject({ devices: 12, registered: 12, errors: 0 });
  });

  it('pulls a changed target and reports the new image healthy, polling with ETags', async () => {
    const simulator = await simulate('update', 20);
    const uuids = uuidsOf(simulator);
    await untilReported(uuids, () => ({ 'web/nginx': healthy(OLD), 'web/agent': healthy(AGENT) }));
    await api.setTargets(uuids, appsWith(NEW));
    await untilReported(uuids, () => ({ 'web/nginx': healthy(NEW), 'web/agent': healthy(AGENT) }));
    const stats = simulator.stats();
    expect(stats).toMatchObject({ updates: 20, errors: 0 });
    expect(stats.ok).toBe(40);
    expect(stats.notModified).toBeGreaterThan(20);
    const device = simulator.device(uuids[0] as string);
    expect(device?.phase).toBe('running');
    expect(device?.services['web/nginx']).toEqual(healthy(NEW));
  });

  it('fails exactly the seeded fraction of devices, each in its mode', async () => {
    const rules = {
      seed: 'failing',
      failureRate: 0.25,
      failureMode: 'mixed',
      offlineFraction: 0,
    } as const;
    const simulator = await simulate('failing', 24, rules);
    const uuids = uuidsOf(simulator);
    const fates = assignFates(uuids, rules);
    expect(countBy([...fates.values()])).toEqual({
      healthy: 18,
      unhealthy: 2,
      exited: 2,
      stuck: 2,
    });
    for (const uuid of uuids) expect(simulator.device(uuid)?.fate).toBe(fates.get(uuid));
    await untilReported(uuids, () => ({ 'web/nginx': healthy(OLD), 'web/agent': healthy(AGENT) }));
    await api.setTargets(uuids, appsWith(NEW));
    const outcomes = {
      healthy: healthy(NEW),
      unhealthy: { image: NEW, status: 'running', health: 'unhealthy' },
      exited: { image: NEW, status: 'exited', health: 'unknown' },
      stuck: { image: NEW, status: 'running', health: 'unknown' },
    } as Record<string, object>;
    await untilReported(uuids, (uuid) => ({
      'web/nginx': outcomes[fates.get(uuid) as string],
      'web/agent': healthy(AGENT),
    }));
  });

  it('keeps offline devices silent: they never poll, report, or show as seen', async () => {
    const simulator = await simulate('offline', 20, { offlineFraction: 0.25 });
    const devices = simulator.devices();
    const offline = devices.filter((d) => d.fate === 'offline').map((d) => d.uuid);
    const online = devices.filter((d) => d.fate !== 'offline').map((d) => d.uuid);
    expect(offline).toHaveLength(5);
    await untilReported(online, () => ({ 'web/nginx': healthy(OLD), 'web/agent': healthy(AGENT) }));
    await vi.waitFor(() => expect(simulator.stats().reports).toBeGreaterThanOrEqual(15));
    for (const uuid of offline) {
      const { body } = await api.admin('GET', `/api/v1/devices/${uuid}`);
      expect(body).toMatchObject({ lastSeenAt: null, reported: null });
      expect(simulator.device(uuid)).toMatchObject({ phase: 'offline', polls: 0, reports: 0 });
    }
  });

  it('follows a target set back: failing devices run the previous image healthy again', async () => {
    const simulator = await simulate('rollback', 10, { failureRate: 0.5, seed: 'rollback' });
    const uuids = uuidsOf(simulator);
    const failing = new Set(
      simulator
        .devices()
        .filter((d) => d.fate === 'unhealthy')
        .map((d) => d.uuid),
    );
    expect(failing.size).toBe(5);
    await untilReported(uuids, () => ({ 'web/nginx': healthy(OLD), 'web/agent': healthy(AGENT) }));
    await api.setTargets(uuids, appsWith(NEW));
    await untilReported(uuids, (uuid) => ({
      'web/nginx': failing.has(uuid)
        ? { image: NEW, status: 'running', health: 'unhealthy' }
        : healthy(NEW),
      'web/agent': healthy(AGENT),
    }));
    await api.setTargets(uuids, appsWith(OLD));
    await untilReported(uuids, () => ({ 'web/nginx': healthy(OLD), 'web/agent': healthy(AGENT) }));
  });

  it('attaches to registered devices and fails only on images matching failingImages', async () => {
    const first = await simulate('attach', 6);
    const credentials = first.credentials();
    const uuids = credentials.map((c) => c.uuid);
    await untilReported(uuids, () => ({ 'web/nginx': healthy(OLD), 'web/agent': healthy(AGENT) }));
    await first.stop();
    const again = await startSimulator({
      apiUrl: api.url,
      attach: credentials,
      pollIntervalMs: 200,
      pullDelayMs: 50,
      healthyAfterMs: 50,
      startSpreadMs: 200,
      failureRate: 1,
      failingImages: ['*:1.28'],
    });
    running.push(again);
    expect(again.stats()).toMatchObject({ devices: 6, registered: 0 });
    // An attached device takes the first target it sees as what it already runs.
    await vi.waitFor(() => expect(again.summary().phases.running).toBe(6), { timeout: 5000 });
    const bad = { image: NEW, status: 'running', health: 'unhealthy' };
    await api.setTargets(uuids, {
      web: { services: { nginx: { image: NEW }, agent: { image: 'ghcr.io/acme/agent:2.0' } } },
    });
    await untilReported(uuids, () => ({
      'web/nginx': bad,
      'web/agent': healthy('ghcr.io/acme/agent:2.0'),
    }));
  });

  it.each([
    ['run', { health: 'unhealthy', healthReason: 'exited with code 4' }],
    ['pass', { health: 'healthy' }],
  ] as const)(
    'with scriptChecks %s, judges a Script check of the target',
    async (mode, verdict) => {
      const simulator = await simulate(`script-${mode}`, 2, { scriptChecks: mode });
      const uuids = uuidsOf(simulator);
      await vi.waitFor(() => expect(simulator.summary().phases.running).toBe(2), {
        timeout: 10_000,
      });
      const check = {
        type: 'Script',
        periodSeconds: 10,
        command: ['sh', '-c', 'exit 4'],
        timeoutSeconds: 5,
      };
      await api.setTargets(uuids, {
        web: {
          services: { nginx: { image: NEW, healthChecks: [check] }, agent: { image: AGENT } },
        },
      });
      await vi.waitFor(
        () => {
          for (const device of simulator.devices()) {
            expect(device.services['web/nginx']).toEqual({
              image: NEW,
              status: 'running',
              ...verdict,
            });
            expect(device.services['web/agent']).toEqual(healthy(AGENT));
          }
        },
        { timeout: 20_000, interval: 100 },
      );
    },
  );

  it.each([
    ['periodic polls', { pollIntervalMs: 30_000 }],
    ['long polls', { longPollSeconds: 5 }],
  ])('leaves no timer and no connection behind after stop(), with %s', async (_, polling) => {
    const before = activeResources();
    const simulator = await simulate('stopping', 20, { ...polling, reportIntervalMs: 60_000 });
    await vi.waitFor(() => expect(simulator.summary().phases.running).toBe(20), {
      timeout: 10_000,
    });
    // Every device holds a heartbeat timer, and a poll timer or a waiting connection.
    const during = activeResources();
    expect(during.Timeout ?? 0).toBeGreaterThanOrEqual((before.Timeout ?? 0) + 20);
    expect((during.Timeout ?? 0) + (during.TCPSocketWrap ?? 0)).toBeGreaterThanOrEqual(
      (before.Timeout ?? 0) + (before.TCPSocketWrap ?? 0) + 40,
    );
    await simulator.stop();
    // Measured between sleeps, so no timer of the test itself is active (vi.waitFor has some).
    let after = activeResources();
    for (let i = 0; i < 50 && !settledSince(before, after); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = activeResources();
    }
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
    const polls = simulator.stats().polls;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(simulator.stats().polls).toBe(polls);
  });
});

function countBy(items: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

function settledSince(before: Record<string, number>, after: Record<string, number>): boolean {
  return (
    (after.Timeout ?? 0) <= (before.Timeout ?? 0) &&
    (after.TCPSocketWrap ?? 0) <= (before.TCPSocketWrap ?? 0)
  );
}

function activeResources(): Record<string, number> {
  return countBy(process.getActiveResourcesInfo());
}
