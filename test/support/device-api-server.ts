import { randomBytes } from 'node:crypto';
import { createDeviceApi, type DeviceApi } from '../../src/devices/device-api.js';
import type { TargetApps } from '../../src/devices/target-document.js';
import { createHttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/** A real device API on a fresh test database, listening on an ephemeral loopback port. */
export interface TestDeviceApi {
  url: string;
  adminToken: string;
  test: TestDatabase;
  /** The device API itself: its cache and the sync that keeps it fresh. */
  deviceApi: DeviceApi;
  /** Calls the admin API; answers the status and the parsed JSON body (if any). */
  admin<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  /** `PUT /api/v1/devices/:uuid/target` for each device; throws unless every answer is 200. */
  setTargets(uuids: readonly string[], apps: TargetApps): Promise<void>;
  /** What each device last reported (`app/service` → service), or null when it never did. */
  reported(uuids: readonly string[]): Promise<Map<string, Record<string, unknown> | null>>;
  stop(): Promise<void>;
}

/** Starts the device API in-process against a new database of `backend`. */
export async function startTestDeviceApi(
  backend: 'pglite' | 'postgres',
  settings: { pollIntervalSeconds?: number; maxLongPollSeconds?: number } = {},
): Promise<TestDeviceApi> {
  const test = await createTestDatabase(backend);
  const logger = silentLogger();
  const metrics = createMetricsRegistry({ processMetrics: false });
  const adminToken = randomBytes(24).toString('base64url');
  const api = createDeviceApi({
    database: test.database,
    logger,
    metrics,
    adminToken,
    pollIntervalSeconds: settings.pollIntervalSeconds ?? 1,
    maxLongPollSeconds: settings.maxLongPollSeconds ?? 30,
  });
  await api.start();
  const server = await createHttpServer({
    logger,
    metrics,
    database: test.database,
    plugins: [api.plugin],
    keepAliveTimeoutMs: api.keepAliveTimeoutMs,
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  const admin = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    url,
    adminToken,
    test,
    deviceApi: api,
    admin,
    async setTargets(uuids, apps) {
      await inParallel(uuids, async (uuid) => {
        const { status, body } = await admin('PUT', `/api/v1/devices/${uuid}/target`, { apps });
        if (status !== 200)
          throw new Error(`set target of ${uuid}: ${status} ${JSON.stringify(body)}`);
      });
    },
    async reported(uuids) {
      const reports = new Map<string, Record<string, unknown> | null>();
      await inParallel(uuids, async (uuid) => {
        const { status, body } = await admin<{ reported: { apps: ReportedApps } | null }>(
          'GET',
          `/api/v1/devices/${uuid}`,
        );
        if (status !== 200)
          throw new Error(`read device ${uuid}: ${status} ${JSON.stringify(body)}`);
        reports.set(uuid, body.reported === null ? null : flatten(body.reported.apps));
      });
      return reports;
    },
    async stop() {
      await server.close();
      await api.stop();
      await test.drop();
    },
  };
}

/** Runs `task` over `items`, 16 at a time. */
async function inParallel<T>(items: readonly T[], task: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(task));
}

type ReportedApps = Record<string, { services: Record<string, unknown> }>;

/** `{ app: { services: { svc: x } } }` → `{ 'app/svc': x }`. */
function flatten(apps: ReportedApps) {
  const services: Record<string, unknown> = {};
  for (const [app, { services: byName }] of Object.entries(apps)) {
    for (const [name, service] of Object.entries(byName)) services[`${app}/${name}`] = service;
  }
  return services;
}
