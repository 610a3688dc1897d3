import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, databaseBackends, type TestDatabase } from './support/database.js';
import {
  ADMIN,
  appsWith,
  poll,
  register,
  startDeviceApi,
  type TestDeviceApi,
} from './support/device-api.js';

describe.each(databaseBackends)('device API on %s', (backend) => {
  let test: TestDatabase;
  let server: TestDeviceApi;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    server = await startDeviceApi(test.database, { maxLongPollSeconds: 5 });
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

  it.each([
    [
      'no key',
      (uuid: string, _own: string, _other: string) => poll(server.app, { uuid, apiKey: '' }),
      401,
    ],
    ['an unknown key', (uuid: string) => poll(server.app, { uuid, apiKey: 'x'.repeat(43) }), 401],
    [
      'another device key',
      (uuid: string, _own: string, other: string) => poll(server.app, { uuid, apiKey: other }),
      403,
    ],
    [
      'an unregistered uuid',
      (_uuid: string, own: string) => poll(server.app, { uuid: randomUUID(), apiKey: own }),
      404,
    ],
    [
      'a malformed uuid',
      (_uuid: string, own: string) => poll(server.app, { uuid: 'not-a-uuid', apiKey: own }),
      404,
    ],
    [
      'a bad wait',
      (uuid: string, own: string) =>
        poll(server.app, { uuid, apiKey: own }, undefined, '?wait=soon'),
      400,
    ],
    ['an admin call without token', () => server.app.inject({ url: '/api/v1/devices' }), 401],
    [
      'an admin call with a device key',
      (_uuid: string, own: string) =>
        server.app.inject({ url: '/api/v1/devices', headers: { authorization: `Bearer ${own}` } }),
      401,
    ],
  ])('a poll with %s is refused', async (_name, send, status) => {
    const device = await register(server.app);
    const other = await register(server.app);
    const response = await send(device.uuid, device.apiKey, other.apiKey);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (status === 401) expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  const report = (key: string, body: unknown) =>
    server.app.inject({
      method: 'PATCH',
      url: '/api/v1/device/state',
      headers: { authorization: `Bearer ${key}` },
      payload: body as object,
    });
  const admin = (method: 'POST' | 'PUT' | 'GET', url: string, payload?: unknown) =>
    server.app.inject({
      method,
      url,
      headers: ADMIN,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it.each([
    ['register without fleet', () => admin('POST', '/api/v1/devices', { labels: {} }), 400],
    ['register with a numeric fleet', () => admin('POST', '/api/v1/devices', { fleet: 7 }), 400],
    [
      'register with an unknown field',
      () => admin('POST', '/api/v1/devices', { fleet: 'a', color: 'red' }),
      400,
    ],
    [
      'register with a bad uuid',
      () => admin('POST', '/api/v1/devices', { fleet: 'a', uuid: 'x' }),
      400,
    ],
    [
      'register with a bad label',
      () => admin('POST', '/api/v1/devices', { fleet: 'a', labels: { 'a b': 'c' } }),
      400,
    ],
    [
      'register with a non-string label',
      () => admin('POST', '/api/v1/devices', { fleet: 'a', labels: { a: 1 } }),
      400,
    ],
    [
      'register with a service without image',
      () => admin('POST', '/api/v1/devices', { fleet: 'a', apps: { x: { services: { y: {} } } } }),
      400,
    ],
    [
      'register with a bad image',
      () => admin('POST', '/api/v1/devices', { fleet: 'a', apps: appsWith('UPPER/Case') }),
      400,
    ],
    [
      'register with a slash in a service name',
      () =>
        admin('POST', '/api/v1/devices', {
          fleet: 'a',
          apps: { x: { services: { 'y/z': { image: 'a' } } } },
        }),
      400,
    ],
    [
      'register with too many apps',
      () =>
        admin('POST', '/api/v1/devices', {
          fleet: 'a',
          apps: Object.fromEntries(
            Array.from({ length: 40 }, (_, i) => [`a${i}`, { services: {} }]),
          ),
        }),
      400,
    ],
    [
      'set a target without apps',
      (uuid: string) => admin('PUT', `/api/v1/devices/${uuid}/target`, {}),
      400,
    ],
    [
      'set a target of an unknown device',
      () => admin('PUT', `/api/v1/devices/${randomUUID()}/target`, { apps: {} }),
      404,
    ],
    ['read an unknown device', () => admin('GET', `/api/v1/devices/${randomUUID()}`), 404],
    ['read a malformed uuid', () => admin('GET', '/api/v1/devices/nope'), 400],
    [
      'list with a bad selector',
      () => admin('GET', '/api/v1/devices?labelSelector=a%20in%20(b'),
      400,
    ],
    ['list with a bad limit', () => admin('GET', '/api/v1/devices?limit=0'), 400],
    ['list with an unknown parameter', () => admin('GET', '/api/v1/devices?sort=name'), 400],
    ['report without key', (uuid: string) => report('', { [uuid]: { apps: {} } }), 401],
    [
      'report for another device',
      (_uuid: string, key: string, other: string) => report(key, { [other]: { apps: {} } }),
      403,
    ],
    [
      'report for an unknown device',
      (_uuid: string, key: string) => report(key, { [randomUUID()]: { apps: {} } }),
      404,
    ],
    [
      'report two devices',
      (uuid: string, key: string, other: string) =>
        report(key, { [uuid]: { apps: {} }, [other]: { apps: {} } }),
      400,
    ],
    [
      'report with a bad health',
      (uuid: string, key: string) =>
        report(key, { [uuid]: { apps: { a: { services: { s: { health: 'meh' } } } } } }),
      400,
    ],
    ['report without apps', (uuid: string, key: string) => report(key, { [uuid]: {} }), 400],
    ['report an array', (_uuid: string, key: string) => report(key, []), 400],
    [
      'report malformed JSON',
      (_uuid: string, key: string) =>
        server.app.inject({
          method: 'PATCH',
          url: '/api/v1/device/state',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          payload: '{"a":',
        }),
      400,
    ],
    [
      'report over 1 MiB',
      (uuid: string, key: string) =>
        report(key, { [uuid]: { apps: {}, pad: 'x'.repeat(1 << 20) } }),
      413,
    ],
  ])('%s → %d', async (_name, send, status) => {
    const device = await register(server.app);
    const other = await register(server.app);
    const response = await send(device.uuid, device.apiKey, other.uuid);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status, title: expect.any(String) });
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
