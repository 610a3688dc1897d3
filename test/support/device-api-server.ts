import type { DeviceApi } from '../../src/devices/device-api.js';
import type { TargetApps } from '../../src/devices/target-document.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { ADMIN, ADMIN_TOKEN, startDeviceApi } from './device-api.js';

/** A real device API on a fresh test database of its own, served over loopback HTTP. */
export interface ServedDeviceApi {
  url: string;
  adminToken: string;
  test: TestDatabase;
  /** The device API itself: its cache and the sync that keeps it fresh. */
  deviceApi: DeviceApi;
  /** Calls the admin API over HTTP; answers the status and the parsed JSON body (if any). */
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

/** Starts the device API in-process on a new database of `backend`, listening on port 0. */
export async function serveDeviceApi(
  backend: 'pglite' | 'postgres',
  settings: { pollIntervalSeconds?: number; maxLongPollSeconds?: number } = {},
): Promise<ServedDeviceApi> {
  const test = await createTestDatabase(backend);
  const server = await startDeviceApi(test.database, {
    pollIntervalSeconds: settings.pollIntervalSeconds ?? 1,
    maxLongPollSeconds: settings.maxLongPollSeconds ?? 30,
    listen: true,
  });
  const admin = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    url: server.url,
    adminToken: ADMIN_TOKEN,
    test,
    deviceApi: server.api,
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
