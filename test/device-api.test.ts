import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { asc, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/db/rows.js';
import { events } from '../src/db/schema/index.js';
import { apiKeyDigest } from '../src/devices/credentials.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from './support/database.js';
import {
  ADMIN,
  appsWith,
  poll,
  register,
  startDeviceApi,
  type TestDeviceApi,
} from './support/device-api.js';

type Device = { uuid: string; apiKey: string };

describe.each(databaseBackends)('device API on %s', (backend) => {
  let test: TestDatabase;
  let server: TestDeviceApi;
  /** Every line the API and the HTTP server log, at every level. */
  const logged: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => logged.push(line) });
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    server = await startDeviceApi(test.database, { maxLongPollSeconds: 5, logger });
  });
  afterAll(async () => {
    await server?.close();
    await test?.drop();
  });

  const setTarget = (uuid: string, apps: unknown) =>
    server.app.inject({
      method: 'PUT',
      url: `/api/v1/devices/${uuid}/target`,
      headers: ADMIN,
      payload: { apps },
    });

  it('serves 200 with a strong ETag, 304 while it matches, and 200 after a change', async () => {
    const device = await register(server.app, { apps: appsWith('nginx:1.27') });
    const first = await poll(server.app, device);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ [device.uuid]: { apps: appsWith('nginx:1.27') } });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    expect(first.headers['x-poll-interval']).toBe('30');

    const again = await poll(server.app, device, etag);
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['x-poll-interval']).toBe('30');
    expect((await poll(server.app, device, `"other", W/${etag}`)).statusCode).toBe(304);

    const changed = await setTarget(device.uuid, appsWith('nginx:1.28'));
    expect(changed.statusCode).toBe(200);
    const next = await poll(server.app, device, etag);
    expect(next.statusCode).toBe(200);
    expect(next.headers.etag).not.toBe(etag);
    expect(next.headers.etag).toBe(`"${changed.json().target.etag}"`);
    expect(next.json()[device.uuid].apps).toEqual(appsWith('nginx:1.28'));

    // Setting the same content again keeps the ETag: it follows content, not writes.
    await setTarget(device.uuid, appsWith('nginx:1.28'));
    expect((await poll(server.app, device, next.headers.etag as string)).statusCode).toBe(304);
  });

  it('stores reports and shows them with the target to admins', async () => {
    const device = await register(server.app, { labels: { site: 'north' }, apps: appsWith('a:1') });
    const report = {
      [device.uuid]: {
        apps: {
          app: { services: { main: { image: 'a:1', status: 'running', health: 'healthy' } } },
        },
      },
    };
    const patched = await server.app.inject({
      method: 'PATCH',
      url: '/api/v1/device/state',
      headers: { authorization: `Bearer ${device.apiKey}` },
      payload: report,
    });
    expect(patched.statusCode).toBe(204);
    const shown = await server.app.inject({
      url: `/api/v1/devices/${device.uuid}`,
      headers: ADMIN,
    });
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({
      uuid: device.uuid,
      fleet: 'lab',
      labels: { site: 'north' },
      lastSeenAt: expect.any(String),
      target: { apps: appsWith('a:1'), etag: expect.any(String), rollouts: [] },
      reported: { apps: report[device.uuid]?.apps, reportedAt: expect.any(String) },
    });
    expect(shown.body).not.toContain(device.apiKey);
  });

  it('registers with a chosen uuid once, and lists by fleet and label selector with pagination', async () => {
    const uuid = randomUUID().toUpperCase();
    const created = await register(server.app, { uuid, fleet: 'list', labels: { tier: 'edge' } });
    expect(created.uuid).toBe(uuid.toLowerCase());
    const duplicate = await server.app.inject({
      method: 'POST',
      url: '/api/v1/devices',
      headers: ADMIN,
      payload: { uuid, fleet: 'list' },
    });
    expect(duplicate.statusCode).toBe(409);
    for (const tier of ['edge', 'core', 'edge'])
      await register(server.app, { fleet: 'list', labels: { tier } });
    await register(server.app, { fleet: 'list' });

    const list = (query: string) =>
      server.app.inject({ url: `/api/v1/devices?${query}`, headers: ADMIN }).then((r) => r.json());
    expect((await list('fleet=list')).items).toHaveLength(5);
    expect((await list('fleet=list&labelSelector=tier%3Dedge')).items).toHaveLength(3);
    expect((await list('fleet=list&labelSelector=tier%21%3Dedge')).items).toHaveLength(2);
    expect((await list('fleet=list&labelSelector=tier')).items).toHaveLength(4);
    expect((await list('fleet=list&labelSelector=tier%20in%20(core,edge)')).items).toHaveLength(4);

    const seen: string[] = [];
    let page = await list('fleet=list&limit=2');
    for (;;) {
      seen.push(...page.items.map((item: { uuid: string }) => item.uuid));
      if (!page.continue) break;
      page = await list(`fleet=list&limit=2&continue=${page.continue}`);
    }
    expect(seen).toHaveLength(5);
    expect([...seen].sort()).toEqual(seen);
  });

  const report = (key: string, body: unknown) =>
    server.app.inject({
      method: 'PATCH',
      url: '/api/v1/device/state',
      headers: { authorization: `Bearer ${key}` },
      payload: body as object,
    });
  const admin = (method: 'POST' | 'PUT' | 'GET' | 'DELETE', url: string, payload?: unknown) =>
    server.app.inject({
      method,
      url,
      headers: ADMIN,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const devices = '/api/v1/devices';
  type Pair = { device: Device; other: Device };

  it.each<[string, number, (pair: Pair) => ReturnType<typeof admin>]>([
    ['poll without key', 401, ({ device }) => poll(server.app, { ...device, apiKey: '' })],
    [
      'poll with an unknown key',
      401,
      ({ device }) => poll(server.app, { ...device, apiKey: 'x'.repeat(43) }),
    ],
    [
      'poll with another device key',
      403,
      ({ device, other }) => poll(server.app, { ...device, apiKey: other.apiKey }),
    ],
    [
      'poll an unregistered uuid',
      404,
      ({ device }) => poll(server.app, { ...device, uuid: randomUUID() }),
    ],
    [
      'poll a malformed uuid',
      400,
      ({ device }) => poll(server.app, { ...device, uuid: 'not-a-uuid' }),
    ],
    [
      'poll with a bad wait',
      400,
      ({ device }) => poll(server.app, device, undefined, '?wait=soon'),
    ],
    ['admin call without token', 401, () => server.app.inject({ url: devices })],
    [
      'admin call with a device key',
      401,
      ({ device }) =>
        server.app.inject({ url: devices, headers: { authorization: `Bearer ${device.apiKey}` } }),
    ],
    ['register without fleet', 400, () => admin('POST', devices, { labels: {} })],
    ['register with a numeric fleet', 400, () => admin('POST', devices, { fleet: 7 })],
    [
      'register with an unknown field',
      400,
      () => admin('POST', devices, { fleet: 'a', color: 'red' }),
    ],
    ['register with a bad uuid', 400, () => admin('POST', devices, { fleet: 'a', uuid: 'x' })],
    [
      'register with a bad label',
      400,
      () => admin('POST', devices, { fleet: 'a', labels: { 'a b': 'c' } }),
    ],
    [
      'register with a non-string label',
      400,
      () => admin('POST', devices, { fleet: 'a', labels: { a: 1 } }),
    ],
    [
      'register a service without image',
      400,
      () => admin('POST', devices, { fleet: 'a', apps: { x: { services: { y: {} } } } }),
    ],
    [
      'register with a bad image',
      400,
      () => admin('POST', devices, { fleet: 'a', apps: appsWith('UPPER/Case') }),
    ],
    [
      'register a slash in a service name',
      400,
      () =>
        admin('POST', devices, {
          fleet: 'a',
          apps: { x: { services: { 'y/z': { image: 'a' } } } },
        }),
    ],
    [
      'register too many apps',
      400,
      () =>
        admin('POST', devices, {
          fleet: 'a',
          apps: Object.fromEntries(
            Array.from({ length: 40 }, (_, i) => [`a${i}`, { services: {} }]),
          ),
        }),
    ],
    [
      'set a target without apps',
      400,
      ({ device }) => admin('PUT', `${devices}/${device.uuid}/target`, {}),
    ],
    [
      'set a target of an unknown device',
      404,
      () => admin('PUT', `${devices}/${randomUUID()}/target`, { apps: {} }),
    ],
    ['read an unknown device', 404, () => admin('GET', `${devices}/${randomUUID()}`)],
    ['read a malformed uuid', 400, () => admin('GET', `${devices}/nope`)],
    ['delete an unknown device', 404, () => admin('DELETE', `${devices}/${randomUUID()}`)],
    ['delete a malformed uuid', 400, () => admin('DELETE', `${devices}/nope`)],
    [
      'delete without admin token',
      401,
      ({ device }) => server.app.inject({ method: 'DELETE', url: `${devices}/${device.uuid}` }),
    ],
    [
      'delete with the device key',
      401,
      ({ device }) =>
        server.app.inject({
          method: 'DELETE',
          url: `${devices}/${device.uuid}`,
          headers: { authorization: `Bearer ${device.apiKey}` },
        }),
    ],
    [
      'rotate the key of an unknown device',
      404,
      () => admin('POST', `${devices}/${randomUUID()}/key`),
    ],
    ['rotate the key of a malformed uuid', 400, () => admin('POST', `${devices}/nope/key`)],
    [
      'rotate a key without admin token',
      401,
      ({ device }) => server.app.inject({ method: 'POST', url: `${devices}/${device.uuid}/key` }),
    ],
    [
      'rotate a key with the device key',
      401,
      ({ device }) =>
        server.app.inject({
          method: 'POST',
          url: `${devices}/${device.uuid}/key`,
          headers: { authorization: `Bearer ${device.apiKey}` },
        }),
    ],
    ['list with a bad selector', 400, () => admin('GET', `${devices}?labelSelector=a%20in%20(b`)],
    ['list with a bad limit', 400, () => admin('GET', `${devices}?limit=0`)],
    ['list with an unknown parameter', 400, () => admin('GET', `${devices}?sort=name`)],
    ['report without key', 401, ({ device }) => report('', { [device.uuid]: { apps: {} } })],
    [
      'report for another device',
      403,
      ({ device, other }) => report(device.apiKey, { [other.uuid]: { apps: {} } }),
    ],
    [
      'report for an unknown device',
      404,
      ({ device }) => report(device.apiKey, { [randomUUID()]: { apps: {} } }),
    ],
    [
      'report two devices',
      400,
      ({ device, other }) =>
        report(device.apiKey, { [device.uuid]: { apps: {} }, [other.uuid]: { apps: {} } }),
    ],
    [
      'report a bad health',
      400,
      ({ device }) =>
        report(device.apiKey, {
          [device.uuid]: { apps: { a: { services: { s: { health: 'meh' } } } } },
        }),
    ],
    ['report without apps', 400, ({ device }) => report(device.apiKey, { [device.uuid]: {} })],
    ['report an array', 400, ({ device }) => report(device.apiKey, [])],
    [
      'report malformed JSON',
      400,
      ({ device }) =>
        server.app.inject({
          method: 'PATCH',
          url: '/api/v1/device/state',
          headers: { authorization: `Bearer ${device.apiKey}`, 'content-type': 'application/json' },
          payload: '{"a":',
        }),
    ],
    [
      'report over 1 MiB',
      413,
      ({ device }) =>
        report(device.apiKey, { [device.uuid]: { apps: {}, pad: 'x'.repeat(1 << 20) } }),
    ],
  ])('%s → %d', async (_name, status, send) => {
    const pair = { device: await register(server.app), other: await register(server.app) };
    const response = await send(pair);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status, title: expect.any(String) });
    if (status === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  /** Event-log entries about a device, oldest first. */
  const logOf = (uuid: string) =>
    test.database.db.select().from(events).where(eq(events.subject, uuid)).orderBy(asc(events.id));
  const rowsOf = async (table: 'device_targets' | 'device_reports', uuid: string) =>
    (
      await queryRows<{ n: number }>(
        test.database.db,
        sql`select count(*)::int as n from ${sql.identifier(table)} where device_uuid = ${uuid}`,
      )
    )[0]?.n;

  it('deletes a device with its target and report: its key, reads and writes stop at once', async () => {
    const device = await register(server.app, { fleet: 'gone', apps: appsWith('a:1') });
    expect((await poll(server.app, device)).statusCode).toBe(200);
    expect((await report(device.apiKey, { [device.uuid]: { apps: {} } })).statusCode).toBe(204);
    expect(await rowsOf('device_reports', device.uuid)).toBe(1);

    const deleted = await admin('DELETE', `${devices}/${device.uuid.toUpperCase()}`);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect(server.api.cache.get(device.uuid)).toBeUndefined();
    const polled = await poll(server.app, device);
    expect(polled.statusCode).toBe(401);
    expect(polled.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await report(device.apiKey, { [device.uuid]: { apps: {} } })).statusCode).toBe(401);
    expect((await admin('GET', `${devices}/${device.uuid}`)).statusCode).toBe(404);
    expect((await admin('GET', `${devices}?fleet=gone`)).json().items).toEqual([]);
    expect((await admin('PUT', `${devices}/${device.uuid}/target`, { apps: {} })).statusCode).toBe(
      404,
    );
    expect((await admin('POST', `${devices}/${device.uuid}/key`)).statusCode).toBe(404);
    expect((await admin('DELETE', `${devices}/${device.uuid}`)).statusCode).toBe(404);
    expect(await rowsOf('device_targets', device.uuid)).toBe(0);
    expect(await rowsOf('device_reports', device.uuid)).toBe(0);
    expect((await logOf(device.uuid)).map(({ type, payload }) => ({ type, payload }))).toEqual([
      { type: 'device.deleted', payload: { uuid: device.uuid, fleet: 'gone', rollouts: [] } },
    ]);
    // The uuid is free again; the new registration has a key of its own.
    const again = await register(server.app, { uuid: device.uuid, fleet: 'gone' });
    expect(again.apiKey).not.toBe(device.apiKey);
    expect((await poll(server.app, device)).statusCode).toBe(401);
    expect((await poll(server.app, again)).statusCode).toBe(200);
  });

  it('rotates a key: the new one works at once, the old one never again, and neither is logged', async () => {
    const device = await register(server.app, { fleet: 'keys', apps: appsWith('a:1') });
    const etag = (await poll(server.app, device)).headers.etag as string;

    const rotated = await admin('POST', `${devices}/${device.uuid}/key`);
    expect(rotated.statusCode).toBe(200);
    const { uuid, apiKey } = rotated.json();
    expect(uuid).toBe(device.uuid);
    expect(apiKey).toMatch(/^[\w-]{43}$/);
    expect(apiKey).not.toBe(device.apiKey);
    const renewed = { uuid, apiKey };
    // The hot path already holds the new key: 304 from the cache, the same ETag as before.
    expect(server.api.cache.get(uuid)?.keyHash.equals(apiKeyDigest(apiKey))).toBe(true);
    const fresh = await poll(server.app, renewed, etag);
    expect(fresh.statusCode).toBe(304);
    expect(fresh.headers.etag).toBe(etag);
    expect((await poll(server.app, device, etag)).statusCode).toBe(401);
    expect((await report(apiKey, { [uuid]: { apps: {} } })).statusCode).toBe(204);
    expect((await report(device.apiKey, { [uuid]: { apps: {} } })).statusCode).toBe(401);

    const entries = await logOf(uuid);
    expect(entries.map(({ type, payload }) => ({ type, payload }))).toEqual([
      { type: 'device.key_rotated', payload: { uuid, fleet: 'keys' } },
    ]);
    expect(logged.some((line) => line.includes('"msg":"device key rotated"'))).toBe(true);
    const everything = [
      ...logged,
      JSON.stringify(await test.database.db.select().from(events)),
      (await admin('GET', `${devices}/${uuid}`)).body,
    ].join('\n');
    for (const secret of [device.apiKey, apiKey]) expect(everything).not.toContain(secret);
  });

  it('holds a long poll until the target changes, and answers 304 when the wait ends', async () => {
    const device = await register(server.app, { apps: appsWith('a:1') });
    const etag = (await poll(server.app, device)).headers.etag as string;
    const started = Date.now();
    const timedOut = await poll(server.app, device, etag, '?wait=1');
    expect(timedOut.statusCode).toBe(304);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    const waiting = poll(server.app, device, etag, '?wait=30');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const changedAt = Date.now();
    await setTarget(device.uuid, appsWith('a:2'));
    const woken = await waiting;
    expect(woken.statusCode).toBe(200);
    expect(woken.json()[device.uuid].apps).toEqual(appsWith('a:2'));
    expect(Date.now() - changedAt).toBeLessThan(1000);

    // Without a matching ETag there is nothing to wait for.
    expect((await poll(server.app, device, '"stale"', '?wait=30')).statusCode).toBe(200);
  });

  it('counts polls and registered devices in metrics, without device ids', async () => {
    const device = await register(server.app);
    const etag = (await poll(server.app, device)).headers.etag as string;
    await poll(server.app, device, etag);
    const metrics = (await server.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/fleet_rollout_device_polls_total\{outcome="200"\} [1-9]/);
    expect(metrics).toMatch(/fleet_rollout_device_polls_total\{outcome="304"\} [1-9]/);
    expect(metrics).toMatch(/fleet_rollout_devices_registered [1-9]/);
    expect(metrics).toMatch(
      /fleet_rollout_http_request_duration_seconds_count\{route="\/api\/v1\/device\/:uuid\/state",method="GET",status="304"\} [1-9]/,
    );
    expect(metrics).not.toContain(device.uuid);
  });
});

describe.each(databaseBackends)('device API over HTTP on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test?.drop());

  it('keeps connections open longer than the poll interval, and ends long polls at shutdown', async () => {
    const server = await startDeviceApi(test.database, { pollIntervalSeconds: 30, listen: true });
    const device = await register(server.app, { apps: appsWith('a:1') });
    const agent = new http.Agent({ keepAlive: true });
    const get = (etag?: string, query = '') =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const headers = {
          authorization: `Bearer ${device.apiKey}`,
          ...(etag ? { 'if-none-match': etag } : {}),
        };
        http
          .get(
            `${server.url}/api/v1/device/${device.uuid}/state${query}`,
            { agent, headers },
            (response) => {
              response.resume();
              response.on('end', () => resolve(response));
            },
          )
          .on('error', reject);
      });
    const first = await get();
    expect(first.headers['keep-alive']).toBe('timeout=45');
    expect(first.headers['x-poll-interval']).toBe('30');
    const again = await get(first.headers.etag);
    expect(again.statusCode).toBe(304);
    expect(again.socket).toBe(first.socket);

    const waiting = get(first.headers.etag, '?wait=30');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closingAt = Date.now();
    await server.close();
    expect((await waiting).statusCode).toBe(304);
    expect(Date.now() - closingAt).toBeLessThan(2000);
    agent.destroy();
  });
});
