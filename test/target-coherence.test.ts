import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/client.js';
import { registerDevice } from '../src/db/device-store.js';
import { rebatch } from '../src/db/membership-store.js';
import { createMembership, fold } from '../src/db/rollout-members-store.js';
import { createRolloutTarget, rollBack, startBatch } from '../src/db/rollout-target-store.js';
import { getBaseTarget } from '../src/db/target-store.js';
import { DeviceCacheSync } from '../src/devices/cache-sync.js';
import { apiKeyDigest } from '../src/devices/credentials.js';
import { DeviceCache } from '../src/devices/device-cache.js';
import { createDeviceMetrics } from '../src/devices/metrics.js';
import type { TargetApps } from '../src/devices/target-document.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { createMetricsRegistry } from '../src/telemetry/metrics.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from './support/database.js';
import {
  ADMIN,
  appsWith,
  poll,
  register,
  startDeviceApi,
  type TestDeviceApi,
} from './support/device-api.js';
import { eventually } from './support/eventually.js';

const NGINX = 'docker.io/library/nginx';
type Device = { uuid: string; apiKey: string };

describe.each(databaseBackends)('device cache coherence on %s', (backend) => {
  let test: TestDatabase;
  let second: Database;
  let a: TestDeviceApi;
  let b: TestDeviceApi;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    // Two instances, as two processes would run them: on Postgres each has its own pool and
    // listener connection; PGlite is single-process, so they share it.
    second = test.url
      ? await openDatabase({ url: test.url, logger: silentLogger() })
      : test.database;
    a = await startDeviceApi(test.database);
    b = await startDeviceApi(second);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    if (second !== test.database) await second?.close();
    await test?.drop();
  });

  const db = () => test.database.db;
  /** What instance `server` serves the device now, given the ETag the device holds. */
  const served = async (server: TestDeviceApi, device: Device, etag: string) => {
    const response = await poll(server.app, device, etag);
    return {
      status: response.statusCode,
      etag: response.headers.etag as string,
      apps:
        response.statusCode === 200 ? (response.json()[device.uuid].apps as TargetApps) : undefined,
    };
  };
  /** Waits until `server` answers 200 to a device holding `etag`; what it then serves. */
  const changedOn = (server: TestDeviceApi, device: Device, etag: string) =>
    eventually(async () => {
      const seen = await served(server, device, etag);
      expect(seen.status).toBe(200);
      return seen;
    });
  /** A counter of the instance's /metrics with these labels (0 when not counted yet). */
  const counter = async (server: TestDeviceApi, name: string, labels: string) => {
    const text = (await server.app.inject({ url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return Number(line?.split(' ')[1] ?? 0);
  };
  /** Batch starts the instance applied, by where the members came from. */
  const batchStarts = async (server: TestDeviceApi) => {
    const starts = (source: string) =>
      counter(server, 'fleet_rollout_device_cache_batch_starts_total', `source="${source}"`);
    return { memory: await starts('memory'), database: await starts('database') };
  };
  /** Runs a membership change that sends `notifications` `members` notifications, and waits
   * until both instances applied them (prepared the batches again). */
  const membersApplied = async (notifications: number, change: () => Promise<unknown>) => {
    const name = 'fleet_rollout_device_cache_notifications_total';
    const seen = (server: TestDeviceApi) => counter(server, name, 'type="members"');
    const before = [await seen(a), await seen(b)];
    await change();
    for (const [i, server] of [a, b].entries()) {
      await eventually(async () =>
        expect(await seen(server)).toBeGreaterThanOrEqual((before[i] as number) + notifications),
      );
      await server.api.sync.idle();
    }
  };
  const etagOn = async (server: TestDeviceApi, device: Device) =>
    (await poll(server.app, device)).headers.etag as string;
  const newRollout = (image: string) =>
    createRolloutTarget(db(), {
      uid: randomUUID(),
      namespace: 'ns',
      name: 'r',
      repository: NGINX,
      image,
    });
  /** The device's ETag, once both instances hold it in their caches (the 304 path). */
  const serveSame = async (device: Device) => {
    const etag = await etagOn(a, device);
    await eventually(() => {
      for (const server of [a, b]) expect(server.api.cache.get(device.uuid)?.etag).toBe(etag);
    });
    expect((await served(b, device, etag)).status).toBe(304);
    return etag;
  };

  it('serves a change made through one instance from the other within a second', async () => {
    const device = await register(a.app, { apps: appsWith('nginx:1.0') });
    const etag = await eventually(() => serveSame(device));
    await a.app.inject({
      method: 'PUT',
      url: `/api/v1/devices/${device.uuid}/target`,
      headers: ADMIN,
      payload: { apps: appsWith('nginx:1.1') },
    });
    const changedAt = Date.now();
    const seen = await changedOn(b, device, etag);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect(seen.apps).toEqual(appsWith('nginx:1.1'));
    expect(await served(b, device, seen.etag)).toMatchObject({ status: 304 });
  });

  it('keeps up with a burst of registrations made elsewhere: every one served within a second', async () => {
    // Another process registers 3,000 devices, 16 at a time: a notification each.
    const registered: Device[] = [];
    for (let i = 0; i < 3000; i += 16) {
      const group = Array.from({ length: 16 }, () =>
        registerDevice(db(), { fleet: 'burst', labels: {}, apps: appsWith('nginx:1.0') }),
      );
      registered.push(...(await Promise.all(group)));
    }
    await eventually(() => {
      for (const device of registered) expect(b.api.cache.get(device.uuid)).toBeDefined();
    });
    const last = registered.at(-1) as Device;
    expect((await served(b, last, await etagOn(a, last))).status).toBe(304);
  });

  it('flips a started batch on every instance, recomputes a device edited after planning, and rolls back exactly', async () => {
    const [one, two, later, edited] = [
      await register(a.app, { apps: appsWith('nginx:1.0') }),
      await register(a.app, { apps: appsWith('nginx:1.2', 'proxy') }),
      await register(a.app, { apps: appsWith('nginx:1.0') }),
      await register(a.app, { apps: appsWith('nginx:1.0') }),
    ];
    const before = new Map<string, string>();
    for (const device of [one, two, later, edited])
      before.set(device.uuid, await serveSame(device));
    const r = await newRollout(`${NGINX}:2.0`);
    await createMembership(db(), r.uid, [
      { uuid: one.uuid, rank: 1, batch: 1 },
      { uuid: two.uuid, rank: 2, batch: 1 },
      { uuid: edited.uuid, rank: 3, batch: 1 },
      { uuid: later.uuid, rank: 4, batch: 2 },
    ]);
    // An admin edits a planned device before its batch starts: the planned ETags no longer hold.
    const editedBase: TargetApps = {
      ...appsWith('nginx:1.1'),
      tools: { services: { shell: { image: 'busybox:1' } } },
    };
    await a.app.inject({
      method: 'PUT',
      url: `/api/v1/devices/${edited.uuid}/target`,
      headers: ADMIN,
      payload: { apps: editedBase },
    });
    const editedEtag = await serveSame(edited);

    await startBatch(db(), r.uid, 1);
    const flipped = new Map<string, string>();
    for (const server of [a, b]) {
      for (const device of [one, two]) {
        const now = await changedOn(server, device, before.get(device.uuid) as string);
        expect(Object.values(now.apps?.app?.services ?? {})[0]?.image).toBe(`${NGINX}:2.0`);
        flipped.set(device.uuid, now.etag);
      }
      const editedNow = await changedOn(server, edited, editedEtag);
      expect(editedNow.apps).toEqual({
        ...editedBase,
        app: { services: { main: { image: `${NGINX}:2.0` } } },
      });
      expect(await served(server, edited, editedNow.etag)).toMatchObject({ status: 304 });
      expect(await served(server, later, before.get(later.uuid) as string)).toMatchObject({
        status: 304,
      });
    }

    await rollBack(db(), r.uid);
    for (const server of [a, b]) {
      for (const device of [one, two]) {
        const back = await changedOn(server, device, flipped.get(device.uuid) as string);
        expect(back.etag).toBe(before.get(device.uuid));
      }
      await eventually(async () =>
        expect((await served(server, edited, editedEtag)).status).toBe(304),
      );
    }
  });

  it('keeps every ETag when a rollout is folded, and a restarted instance serves the same', async () => {
    const device = await register(a.app, { apps: appsWith('nginx:1.0') });
    const first = await serveSame(device);
    const r = await newRollout(`${NGINX}:3.0`);
    await createMembership(db(), r.uid, [{ uuid: device.uuid, rank: 1, batch: 1 }]);
    await startBatch(db(), r.uid, 1);
    const rolled = (await changedOn(b, device, first)).etag;
    const restarted = await startDeviceApi(second);
    try {
      expect(await served(restarted, device, rolled)).toMatchObject({ status: 304 });
      await fold(db(), r.uid);
      expect((await getBaseTarget(db(), device.uuid))?.app?.services.main?.image).toBe(
        `${NGINX}:3.0`,
      );
      await eventually(() => expect(b.api.cache.get(device.uuid)?.overlays).toEqual([]));
      for (const server of [a, b, restarted])
        expect(await served(server, device, rolled)).toMatchObject({ status: 304 });
    } finally {
      await restarted.close();
    }
  });

  it('starts a batch from the members it prepared, prepared again when devices join or move', async () => {
    const [first, second, joiner, moved] = [
      await register(a.app, { apps: appsWith('nginx:1.0') }),
      await register(a.app, { apps: appsWith('nginx:1.0') }),
      await register(a.app, { apps: appsWith('nginx:1.0') }),
      await register(a.app, { apps: appsWith('nginx:1.0') }),
    ];
    const before = new Map<string, string>();
    for (const device of [first, second, joiner, moved])
      before.set(device.uuid, await serveSame(device));
    const startsBefore = { a: await batchStarts(a), b: await batchStarts(b) };
    const r = await newRollout(`${NGINX}:5.0`);
    await membersApplied(1, () =>
      createMembership(db(), r.uid, [
        { uuid: first.uuid, rank: 1, batch: 1 },
        { uuid: second.uuid, rank: 2, batch: 2 },
        { uuid: moved.uuid, rank: 4, batch: 2 },
      ]),
    );
    await startBatch(db(), r.uid, 1);
    // After batch 1 started, one device joins batch 2 and another moves on to batch 3.
    await membersApplied(2, async () => {
      await createMembership(db(), r.uid, [{ uuid: joiner.uuid, rank: 3, batch: 2 }]);
      await rebatch(db(), r.uid, 1, [1, 3, 4], []);
    });
    await startBatch(db(), r.uid, 2);
    for (const server of [a, b]) {
      for (const device of [first, second, joiner]) {
        const now = await changedOn(server, device, before.get(device.uuid) as string);
        expect(now.apps).toEqual(appsWith(`${NGINX}:5.0`));
      }
      expect(await served(server, moved, before.get(moved.uuid) as string)).toMatchObject({
        status: 304,
      });
    }
    // Both batches started from memory: batch 2 as prepared again after the join and the move.
    for (const [server, was] of [
      [a, startsBefore.a],
      [b, startsBefore.b],
    ] as const) {
      const now = await batchStarts(server);
      expect({ memory: now.memory - was.memory, database: now.database - was.database }).toEqual({
        memory: 2,
        database: 0,
      });
    }
  });

  it('reads a start of several batches at once from the database', async () => {
    const devices = [
      await register(a.app, { apps: appsWith('nginx:1.0') }),
      await register(a.app, { apps: appsWith('nginx:1.0') }),
    ];
    const before = await Promise.all(devices.map((device) => serveSame(device)));
    const was = await batchStarts(b);
    const r = await newRollout(`${NGINX}:6.0`);
    await createMembership(
      db(),
      r.uid,
      devices.map((device, i) => ({ uuid: device.uuid, rank: i, batch: i + 1 })),
    );
    await startBatch(db(), r.uid, 2);
    for (const [i, device] of devices.entries()) {
      expect((await changedOn(b, device, before[i] as string)).apps).toEqual(
        appsWith(`${NGINX}:6.0`),
      );
    }
    expect((await batchStarts(b)).database - was.database).toBe(1);
  });

  const deleteDevice = (server: TestDeviceApi, device: Device) =>
    server.app.inject({ method: 'DELETE', url: `/api/v1/devices/${device.uuid}`, headers: ADMIN });
  /** Cache reloads the instance ran (a failed step triggers one), from its /metrics. */
  const reloads = async (server: TestDeviceApi) =>
    Number(
      (await server.app.inject({ url: '/metrics' })).body.match(
        /^fleet_rollout_device_cache_reloads_total (\d+)/m,
      )?.[1],
    );

  it('drops a deleted device on every instance within a second, ending its long poll', async () => {
    const device = await register(a.app, { apps: appsWith('nginx:1.0') });
    const etag = await serveSame(device);
    const waiting = poll(b.app, device, etag, '?wait=10');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await deleteDevice(a, device)).statusCode).toBe(204);
    const deletedAt = Date.now();
    expect((await served(a, device, etag)).status).toBe(401);
    // The poll already waiting was let in with a valid key: it learns the device is gone.
    expect((await waiting).statusCode).toBe(404);
    await eventually(async () => expect((await served(b, device, etag)).status).toBe(401));
    expect(Date.now() - deletedAt).toBeLessThan(1000);
    for (const server of [a, b]) expect(server.api.cache.get(device.uuid)).toBeUndefined();
  });

  it('rotates a key on every instance within a second: the old one stops, the new one works', async () => {
    const device = await register(a.app, { apps: appsWith('nginx:1.0') });
    const etag = await serveSame(device);
    const rotated = await a.app.inject({
      method: 'POST',
      url: `/api/v1/devices/${device.uuid}/key`,
      headers: ADMIN,
    });
    const rotatedAt = Date.now();
    const renewed: Device = rotated.json();
    expect(await served(a, renewed, etag)).toMatchObject({ status: 304, etag });
    expect((await served(a, device, etag)).status).toBe(401);
    // b answers the new key from the database until its cache follows; the old one stops there too.
    expect((await served(b, renewed, etag)).status).toBe(304);
    await eventually(async () => expect((await served(b, device, etag)).status).toBe(401));
    expect(Date.now() - rotatedAt).toBeLessThan(1000);
    await eventually(() =>
      expect(b.api.cache.get(device.uuid)?.keyHash.equals(apiKeyDigest(renewed.apiKey))).toBe(true),
    );
    expect(await served(b, renewed, etag)).toMatchObject({ status: 304, etag });
  });

  it('starts, rolls back and folds rollouts whose members were deleted, on every instance', async () => {
    const [kept, early, late] = [
      await register(a.app, { apps: appsWith('nginx:1.0') }),
      await register(a.app, { apps: appsWith('nginx:1.0') }),
      await register(a.app, { apps: appsWith('nginx:1.0') }),
    ];
    const before = await serveSame(kept);
    await serveSame(early);
    await serveSame(late);
    const reloadsBefore = { a: await reloads(a), b: await reloads(b) };
    const folded = await newRollout(`${NGINX}:7.0`);
    const rolledBack = await newRollout(`${NGINX}:7.1`);
    for (const r of [folded, rolledBack]) {
      await createMembership(db(), r.uid, [
        { uuid: kept.uuid, rank: 1, batch: 1 },
        { uuid: early.uuid, rank: 2, batch: 1 },
        { uuid: late.uuid, rank: 3, batch: 2 },
      ]);
    }
    // One member goes before its batch starts (the instances prepared it), one after.
    await deleteDevice(a, early);
    await startBatch(db(), folded.uid, 1);
    const rolled = await changedOn(b, kept, before);
    expect(rolled.apps).toEqual(appsWith(`${NGINX}:7.0`));
    await startBatch(db(), folded.uid, 2);
    await deleteDevice(b, late);
    await startBatch(db(), rolledBack.uid, 2);
    const both = await changedOn(b, kept, rolled.etag);
    await rollBack(db(), rolledBack.uid);
    expect((await changedOn(b, kept, both.etag)).etag).toBe(rolled.etag);
    expect(await fold(db(), folded.uid)).toEqual({ folded: true, devices: 3 });
    expect((await getBaseTarget(db(), kept.uuid))?.app?.services.main?.image).toBe(`${NGINX}:7.0`);
    const restarted = await startDeviceApi(second);
    try {
      for (const server of [a, b, restarted]) {
        await eventually(async () =>
          expect(await served(server, kept, rolled.etag)).toMatchObject({ status: 304 }),
        );
        for (const gone of [early, late]) {
          expect((await served(server, gone, before)).status).toBe(401);
          expect(server.api.cache.get(gone.uuid)).toBeUndefined();
        }
      }
    } finally {
      await restarted.close();
    }
    // No step failed (a failed step reloads the whole cache).
    expect({ a: await reloads(a), b: await reloads(b) }).toEqual(reloadsBefore);
  });

  it('prepares next batches only within its memory budget; a batch outside it starts from the database', async () => {
    // Its own database: the budget counts every active rollout's next batch.
    const own = await createTestDatabase(backend);
    const cache = new DeviceCache();
    const registry = createMetricsRegistry({ processMetrics: false });
    const metrics = createDeviceMetrics(registry, cache);
    const sync = new DeviceCacheSync(own.database, cache, silentLogger(), metrics, 2);
    try {
      const ownDb = own.database.db;
      const devices: Device[] = [];
      for (let i = 0; i < 4; i++) {
        devices.push(
          await registerDevice(ownDb, { fleet: 'lab', labels: {}, apps: appsWith('nginx:1.0') }),
        );
      }
      await sync.start();
      const rollout = (image: string) =>
        createRolloutTarget(ownDb, {
          uid: randomUUID(),
          namespace: 'ns',
          name: 'r',
          repository: NGINX,
          image,
        });
      const [older, newer] = [await rollout(`${NGINX}:7.0`), await rollout(`${NGINX}:7.1`)];
      for (const [r, pair] of [
        [older, devices.slice(0, 2)],
        [newer, devices.slice(2)],
      ] as const) {
        await createMembership(
          ownDb,
          r.uid,
          pair.map((device, rank) => ({ uuid: device.uuid, rank, batch: 1 })),
        );
      }
      // Both memberships announced and taken in (prepared, or not for lack of room).
      await eventually(async () => {
        const notifications = await registry
          .getSingleMetric('fleet_rollout_device_cache_notifications_total')
          ?.get();
        const members = notifications?.values.find((value) => value.labels.type === 'members');
        expect(members?.value).toBe(2);
      });
      await sync.idle();
      await startBatch(ownDb, older.uid, 1);
      await startBatch(ownDb, newer.uid, 1);
      await eventually(() => {
        for (const device of devices) expect(cache.get(device.uuid)?.overlays).toHaveLength(1);
      });
      const starts = await registry
        .getSingleMetric('fleet_rollout_device_cache_batch_starts_total')
        ?.get();
      const bySource = Object.fromEntries(
        (starts?.values ?? []).map((value) => [value.labels.source, value.value]),
      );
      expect(bySource).toEqual({ memory: 1, database: 1 });
    } finally {
      await sync.stop();
      await own.drop();
    }
  });

  it('wakes a long poll on another instance when the batch starts', async () => {
    const device = await register(a.app, { apps: appsWith('nginx:1.0') });
    const etag = await serveSame(device);
    const r = await newRollout(`${NGINX}:4.0`);
    await createMembership(db(), r.uid, [{ uuid: device.uuid, rank: 1, batch: 1 }]);
    const waiting = poll(b.app, device, etag, '?wait=10');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const startedAt = Date.now();
    await startBatch(db(), r.uid, 1);
    const woken = await waiting;
    expect(woken.statusCode).toBe(200);
    expect(woken.json()[device.uuid].apps.app.services.main.image).toBe(`${NGINX}:4.0`);
    expect(Date.now() - startedAt).toBeLessThan(1000);
  });
});

describe.each(databaseBackends.filter((backend) => backend === 'postgres'))(
  'device cache after a lost notification connection on %s',
  (backend) => {
    let test: TestDatabase;
    let server: TestDeviceApi;
    beforeAll(async () => {
      test = await createTestDatabase(backend);
      server = await startDeviceApi(test.database);
    });
    afterAll(async () => {
      await server?.close();
      await test?.drop();
    });

    it('reloads everything after reconnecting, catching changes it was not told about', async () => {
      const device = await register(server.app, { apps: appsWith('nginx:1.0') });
      const etag = (await poll(server.app, device)).headers.etag as string;
      expect(server.api.cache.size).toBe(1);
      // Drop the listener's connection, then change the target behind the cache's back.
      await test.database.query(
        sql`select pg_terminate_backend(pid) from pg_stat_activity
            where datname = current_database() and query like 'LISTEN%'`,
      );
      await test.database.query(
        sql`update device_targets set apps = ${JSON.stringify(appsWith('nginx:1.9'))}::jsonb, etag = 'changed-behind-its-back'`,
      );
      const now = await eventually(async () => {
        const response = await poll(server.app, device, etag);
        expect(response.statusCode).toBe(200);
        return response;
      }, 5000);
      expect(now.json()[device.uuid].apps).toEqual(appsWith('nginx:1.9'));
      expect(server.api.cache.get(device.uuid)?.etag).toBe('"changed-behind-its-back"');
    });
  },
);
