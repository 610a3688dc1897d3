import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceApiClient, DeviceApiError } from '../src/simulator/device-api-client.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { appsWith, register, startDeviceApi, type TestDeviceApi } from './support/device-api.js';
import { eventually } from './support/eventually.js';

/** Keeps the event loop `blockMs` behind, over and over, until the returned function is called. */
function lagTheEventLoop(blockMs: number): () => void {
  const timer = setInterval(() => {
    const until = performance.now() + blockMs;
    while (performance.now() < until) {
      // a synchronous stretch, as a CPU-starved or overloaded process has
    }
  }, 0);
  return () => clearInterval(timer);
}

describe('a device API whose event loop runs late', () => {
  let test: TestDatabase;
  let server: TestDeviceApi & { url: string };
  let client: DeviceApiClient;
  let device: { uuid: string; apiKey: string };

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    server = await startDeviceApi(test.database, { listen: true, shedLagMs: 100 });
    client = new DeviceApiClient({ apiUrl: server.url, concurrency: 4, timeoutMs: 30_000 });
    device = await register(server.app, { apps: appsWith('nginx:1.27') });
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await test?.drop();
  });

  const report = () =>
    client.report(device, {
      app: { services: { main: { image: 'nginx:1.27', status: 'running', health: 'healthy' } } },
    });

  /** Requests shed so far, by route, from /metrics. */
  const shed = async () => {
    const text = (await server.app.inject({ url: '/metrics' })).body;
    const count = (route: string) =>
      Number(
        new RegExp(
          `^fleet_rollout_device_requests_shed_total\\{route="${route}"\\} (\\d+)$`,
          'm',
        ).exec(text)?.[1] ?? 0,
      );
    return { poll: count('/api/v1/device/:uuid/state'), report: count('/api/v1/device/state') };
  };

  it('refuses device requests with 503 and Retry-After while it lags, and serves them after', async () => {
    // the start-up itself (migrations, cache load) may leave the loop behind for a moment
    await eventually(async () =>
      expect((await client.poll(device, undefined, 0)).status).toBe(200),
    );

    const before = await shed();
    const stopLagging = lagTheEventLoop(300);
    const refused = await Promise.allSettled([client.poll(device, undefined, 0), report()]);
    stopLagging();

    for (const outcome of refused) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as DeviceApiError;
      expect(error).toBeInstanceOf(DeviceApiError);
      expect(error.status).toBe(503);
      expect(error.message).toContain('the device API is overloaded; retry later');
      expect(error.retryAfterMs).toBeGreaterThanOrEqual(5_000);
      expect(error.retryAfterMs).toBeLessThanOrEqual(10_000);
    }
    expect(await shed()).toEqual({ poll: before.poll + 1, report: before.report + 1 });

    // caught up: served again, and the report refused before was not stored half-way
    await eventually(async () =>
      expect((await client.poll(device, undefined, 0)).status).toBe(200),
    );
    await report();
  });
});

describe('a device API with load shedding off (the default for embedders)', () => {
  let test: TestDatabase;
  let server: TestDeviceApi & { url: string };
  let client: DeviceApiClient;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    server = await startDeviceApi(test.database, { listen: true });
    client = new DeviceApiClient({ apiUrl: server.url, concurrency: 4, timeoutMs: 30_000 });
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await test?.drop();
  });

  it('answers however late its event loop runs', async () => {
    const device = await register(server.app, { apps: appsWith('nginx:1.27') });
    const stopLagging = lagTheEventLoop(300);
    const answer = await client.poll(device, undefined, 0).finally(stopLagging);
    expect(answer.status).toBe(200);
  });
});
