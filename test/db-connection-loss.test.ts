import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/apiserver/index.js';
import { type Database, openDatabase } from '../src/db/client.js';
import { setBaseTarget } from '../src/db/target-store.js';
import { clientOf, startTestServer } from './support/apiserver.js';
import { closeInOrder } from './support/close-steps.js';
import { createTestDatabase, queryOnce, type TestDatabase } from './support/database.js';
import {
  ADMIN,
  ADMIN_TOKEN,
  appsWith,
  poll,
  register,
  startDeviceApi,
  type TestDeviceApi,
} from './support/device-api.js';
import { type DeviceApiChild, startDeviceApiChild } from './support/device-api-child.js';
import { eventually } from './support/eventually.js';
import { MemoryKube } from './support/memory-kube.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { BEARER, createTestReceiver } from './support/webhook-receiver.js';
import { DIGEST_A, testPolicy } from './webhooks/fixtures.js';

const serverUrl = process.env.TEST_DATABASE_URL as string;

/** A report of one running service with `image`. */
const reportOf = (uuid: string, image: string) => ({
  [uuid]: {
    apps: { app: { services: { main: { image, status: 'running', health: 'healthy' } } } },
  },
});

/** A fresh migrated database, opened through a TCP proxy that can cut it off. */
async function proxiedDatabase(logger: pino.Logger) {
  const test = await createTestDatabase('postgres');
  const direct = new URL(test.url as string);
  const proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
  const proxied = new URL(direct);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const database = await openDatabase({ url: proxied.toString(), logger, connectTimeoutMs: 5_000 });
  return { test, proxy, database };
}

describe('a device API process whose database backends are terminated', () => {
  let test: TestDatabase;
  let child: DeviceApiChild;
  let locker: pg.Client | undefined;
  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    child = await startDeviceApiChild({ databaseUrl: test.url as string, adminToken: ADMIN_TOKEN });
  });
  afterAll(async () => {
    await locker?.end().catch(() => {});
    await child?.stop();
    await test?.drop();
  });

  const call = (method: string, path: string, key: string, body?: unknown, etag?: string) =>
    fetch(`${child.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(etag ? { 'if-none-match': etag } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('stays alive when busy connections die (57P01), then serves and stores reports again', async () => {
    const registered = await call('POST', '/api/v1/devices', ADMIN_TOKEN, {
      fleet: 'lab',
      apps: appsWith('nginx:1.27'),
    });
    expect(registered.status).toBe(201);
    const device = (await registered.json()) as { uuid: string; apiKey: string };
    const state = `/api/v1/device/${device.uuid}/state`;
    const etag = (await call('GET', state, device.apiKey)).headers.get('etag') as string;
    expect(etag).toBeTruthy();

    // Hold a lock the reports need, so that their transactions wait with a client checked out.
    const name = new URL(test.url as string).pathname.slice(1);
    locker = new pg.Client({ connectionString: test.url });
    locker.on('error', () => {});
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table device_reports in access exclusive mode');
    const longPoll = call('GET', `${state}?wait=1`, device.apiKey, undefined, etag);
    const reports = Array.from({ length: 3 }, () =>
      call('PATCH', '/api/v1/device/state', device.apiKey, reportOf(device.uuid, 'nginx:before')),
    );
    await eventually(async () => {
      const [row] = await queryOnce<{ waiting: number }>(
        serverUrl,
        `select count(*)::int as waiting from pg_stat_activity
          where datname = $1 and wait_event_type = 'Lock'`,
        [name],
      );
      expect(row?.waiting).toBe(3);
    }, 10_000);

    await queryOnce(
      serverUrl,
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );

    for (const answer of await Promise.all(reports)) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await longPoll).status).toBe(304);
    await eventually(async () => {
      const answer = await call(
        'PATCH',
        '/api/v1/device/state',
        device.apiKey,
        reportOf(device.uuid, 'nginx:after'),
      );
      expect(answer.status).toBe(204);
    }, 10_000);
    expect((await fetch(`${child.url}/readyz`)).status).toBe(200);
    const shown = await call('GET', `/api/v1/devices/${device.uuid}`, ADMIN_TOKEN);
    expect(shown.status).toBe(200);
    const body = (await shown.json()) as {
      reported: { apps: { app: { services: { main: { image: string } } } } };
    };
    expect(body.reported.apps.app.services.main.image).toBe('nginx:after');
    expect(child.alive()).toBe(true);
    expect(child.stderr()).toBe('');

    // One line when the database was lost and one when it came back; no stack per request.
    const messages = child.logs().map((line) => line.msg);
    const lost = messages.filter((msg) => msg === 'database connection lost').length;
    expect(lost).toBeGreaterThanOrEqual(1);
    expect(messages.filter((msg) => msg === 'database connection restored').length).toBe(lost);
    expect(messages).not.toContain('request failed');
  });
});

describe('a device API whose database is unreachable', () => {
  let test: TestDatabase;
  let proxy: TcpProxy;
  let database: Database;
  let server: TestDeviceApi;
  const logged: Array<{ level: number; msg: string }> = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => logged.push(JSON.parse(line)) },
  );
  beforeAll(async () => {
    ({ test, proxy, database } = await proxiedDatabase(logger));
    server = await startDeviceApi(database, { logger, maxLongPollSeconds: 5 });
  });
  afterEach(() => {
    proxy.refusing = false;
  });
  afterAll(() =>
    closeInOrder([
      ['server.close()', server && (() => server.close())],
      // the proxy first: no pool waits on a connection the cut left half-open
      ['proxy.stop()', proxy && (() => proxy.stop())],
      ['database.close()', database && (() => database.close())],
      ['test.drop()', test && (() => test.drop())],
    ]),
  );

  const report = (device: { uuid: string; apiKey: string }, image: string) =>
    server.app.inject({
      method: 'PATCH',
      url: '/api/v1/device/state',
      headers: { authorization: `Bearer ${device.apiKey}` },
      payload: reportOf(device.uuid, image),
    });
  const readyz = () => server.app.inject({ url: '/readyz' });

  it('answers 503 with Retry-After (cached polls still 304), then 200/204 once it is back', async () => {
    const cached = await register(server.app, { apps: appsWith('nginx:1.27') });
    const other = await register(server.app, { apps: appsWith('nginx:1.27') });
    const etag = (await poll(server.app, cached)).headers.etag as string;
    expect((await poll(server.app, cached, etag)).statusCode).toBe(304);

    proxy.refusing = true;
    proxy.dropAll();

    const unavailable = [
      await report(cached, 'nginx:during'),
      await poll(server.app, other),
      await poll(server.app, { ...other, apiKey: 'x'.repeat(43) }),
      await server.app.inject({ url: `/api/v1/devices/${other.uuid}`, headers: ADMIN }),
      await readyz(),
    ];
    for (const answer of unavailable) {
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });
    }
    expect((await poll(server.app, cached, etag)).statusCode).toBe(304);
    expect(database.connection.available).toBe(false);
    // A change made meanwhile by another process: its notification never reaches this one.
    expect(await setBaseTarget(test.database.db, cached.uuid, appsWith('nginx:1.28'))).toBe(true);

    proxy.refusing = false;
    await eventually(
      async () => expect((await report(cached, 'nginx:after')).statusCode).toBe(204),
      10_000,
    );
    expect((await poll(server.app, other)).statusCode).toBe(200);
    // the cache reloads after the notification connection is back, and catches the change up
    await eventually(async () => {
      const caught = await poll(server.app, cached, etag);
      expect(caught.statusCode).toBe(200);
      expect(caught.json()[cached.uuid].apps).toEqual(appsWith('nginx:1.28'));
    }, 10_000);
    expect((await readyz()).statusCode).toBe(200);
    const shown = await server.app.inject({
      url: `/api/v1/devices/${cached.uuid}`,
      headers: ADMIN,
    });
    expect(shown.json().reported.apps.app.services.main.image).toBe('nginx:after');
    expect(database.connection.available).toBe(true);

    const messages = logged.map((line) => line.msg);
    expect(messages.filter((msg) => msg === 'database connection lost')).toHaveLength(1);
    expect(messages.filter((msg) => msg === 'database connection restored')).toHaveLength(1);
    expect(logged.filter((line) => line.level >= 50)).toEqual([]);
  });
});

describe('a webhook receiver whose database is unreachable', () => {
  let test: TestDatabase;
  let proxy: TcpProxy;
  let database: Database;
  beforeAll(async () => {
    ({ test, proxy, database } = await proxiedDatabase(pino({ level: 'silent' })));
  });
  afterAll(() =>
    closeInOrder([
      // the proxy first: no pool waits on a connection the cut left half-open
      ['proxy.stop()', proxy && (() => proxy.stop())],
      ['database.close()', database && (() => database.close())],
      ['test.drop()', test && (() => test.drop())],
    ]),
  );

  it('answers a delivery 503 with Retry-After during the outage and processes it after', async () => {
    const kube = new MemoryKube();
    kube.policies = [testPolicy('everything', { image: '**' })];
    const receiver = await createTestReceiver({ database, kube });
    const deliver = () =>
      receiver.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/generic',
        headers: { 'content-type': 'application/json', ...BEARER },
        payload: { image: 'registry.example.com/acme/app', tag: '2.0.0', digest: DIGEST_A },
      });
    proxy.refusing = true;
    proxy.dropAll();
    const during = await deliver();
    expect(during.statusCode).toBe(503);
    expect(during.headers['retry-after']).toBe('5');
    expect(during.json()).toMatchObject({ status: 503 });
    expect(kube.rollouts.size).toBe(0);
    const failures = receiver.logs.map((line) => JSON.parse(line)).filter((l) => l.level >= 50);
    expect(failures).toEqual([]);

    proxy.refusing = false;
    await eventually(async () => expect((await deliver()).statusCode).toBe(200), 10_000);
    expect([...kube.rollouts.values()].map((r) => r.spec.tag)).toEqual(['2.0.0']);
    await receiver.app.close();
  });
});

describe('a local API server whose database is unreachable', () => {
  let test: TestDatabase;
  let proxy: TcpProxy;
  let database: Database;
  let server: ApiServer;
  const logged: Array<{ level: number; msg: string }> = [];
  beforeAll(async () => {
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => logged.push(JSON.parse(line)) },
    );
    ({ test, proxy, database } = await proxiedDatabase(logger));
    server = await startTestServer(database, { logger });
  });
  afterAll(() =>
    closeInOrder([
      ['server.close()', server && (() => server.close())],
      // the proxy first: no pool waits on a connection the cut left half-open
      ['proxy.stop()', proxy && (() => proxy.stop())],
      ['database.close()', database && (() => database.close())],
      ['test.drop()', test && (() => test.drop())],
    ]),
  );

  it('answers 503 ServiceUnavailable with Retry-After during the outage, then serves again', async () => {
    const api = clientOf(server);
    const policies = '/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagepolicies';
    expect((await api.get(policies)).status).toBe(200);

    proxy.refusing = true;
    proxy.dropAll();
    const during = await api.get(policies);
    expect(during.status).toBe(503);
    expect(during.headers['retry-after']).toBe('5');
    expect(during.body).toMatchObject({
      kind: 'Status',
      reason: 'ServiceUnavailable',
      details: { retryAfterSeconds: 5 },
    });
    expect(logged.filter((line) => line.level >= 50)).toEqual([]);

    proxy.refusing = false;
    await eventually(async () => expect((await api.get(policies)).status).toBe(200), 15_000);
  });
});
