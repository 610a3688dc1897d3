import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMembership } from '../../src/db/rollout-members-store.js';
import { createRolloutTarget, rollBack, startBatch } from '../../src/db/rollout-target-store.js';
import { type Simulator, startSimulator } from '../../src/simulator/simulator.js';
import { databaseBackends } from '../support/database.js';
import { type ServedDeviceApi, serveDeviceApi } from '../support/device-api-server.js';

const OLD = 'docker.io/library/nginx:1.27';
const NEW = 'docker.io/library/nginx:1.28';
const DEVICES = 1000;

/**
 * A thousand simulated devices in this process, long polling, follow a rollout the way the
 * controller writes it (membership, batch starts, rollback) through the real device API.
 */
describe.each(databaseBackends)('1,000 simulated devices on %s', (backend) => {
  let api: ServedDeviceApi;
  let simulator: Simulator;

  beforeAll(async () => {
    api = await serveDeviceApi(backend, { maxLongPollSeconds: 30 });
    simulator = await startSimulator({
      apiUrl: api.url,
      register: {
        count: DEVICES,
        adminToken: api.adminToken,
        fleet: 'scale',
        apps: { web: { services: { nginx: { image: OLD } } } },
      },
      longPollSeconds: 25,
      pullDelayMs: 200,
      healthyAfterMs: 200,
      reportIntervalMs: 60_000,
      failureRate: 0.1,
      seed: 'scale',
    });
  }, 120_000);
  afterAll(async () => {
    await simulator?.stop();
    await api?.stop();
  });

  /** Services by image and state, as the simulator reports them. */
  async function untilImages(expected: Record<string, Record<string, number>>) {
    await vi.waitFor(() => expect(simulator.summary().images).toEqual(expected), {
      timeout: 60_000,
      interval: 200,
    });
  }

  it('follows two batches of a rollout, then its rollback', { timeout: 180_000 }, async () => {
    await untilImages({ [OLD]: { healthy: DEVICES } });
    // The device API's cache handles each registration on its own; let it catch up first.
    await api.deviceApi.sync.idle();
    const { db } = api.test.database;
    const uid = randomUUID();
    await createRolloutTarget(db, {
      uid,
      namespace: 'default',
      name: 'nginx-1-28',
      repository: 'docker.io/library/nginx',
      image: NEW,
    });
    const uuids = simulator.credentials().map((c) => c.uuid);
    await createMembership(
      db,
      uid,
      uuids.map((uuid, rank) => ({ uuid, rank, batch: rank < 100 ? 1 : 2 })),
    );
    const failing = new Set(
      simulator
        .devices()
        .filter((d) => d.fate !== 'healthy')
        .map((d) => d.uuid),
    );
    expect(failing.size).toBe(100);
    const failingIn = (from: number, to: number) =>
      uuids.slice(from, to).filter((u) => failing.has(u)).length;

    await startBatch(db, uid, 1);
    const firstFailed = failingIn(0, 100);
    await untilImages({
      [OLD]: { healthy: DEVICES - 100 },
      [NEW]: { healthy: 100 - firstFailed, ...(firstFailed ? { unhealthy: firstFailed } : {}) },
    });

    await startBatch(db, uid, 2);
    await untilImages({ [NEW]: { healthy: DEVICES - 100, unhealthy: 100 } });
    // The server holds what the simulator shows (reports may still be on their way).
    await vi.waitFor(
      async () => {
        for (const [uuid, services] of await api.reported(uuids.slice(0, 50))) {
          const health = failing.has(uuid) ? 'unhealthy' : 'healthy';
          expect(services).toEqual({ 'web/nginx': { image: NEW, status: 'running', health } });
        }
      },
      { timeout: 20_000, interval: 250 },
    );

    await rollBack(db, uid);
    await untilImages({ [OLD]: { healthy: DEVICES } });
    const stats = simulator.stats();
    expect(stats).toMatchObject({ devices: DEVICES, updates: 2 * DEVICES, errors: 0 });
    expect(stats.ok).toBe(3 * DEVICES);
  });
});
