import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devices, deviceTargets, events } from '../src/db/schema/index.js';
import { etagOf } from '../src/devices/target-document.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from './support/database.js';

describe.each(databaseBackends)('database on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test?.drop());

  it('applies every migration and records them', async () => {
    const rows = await test.database.query<{ count: string }>(
      sql`select count(*)::text as count from drizzle.__drizzle_migrations`,
    );
    expect(Number(rows[0]?.count)).toBeGreaterThan(0);
  });

  it('is idempotent when migrating again', async () => {
    await expect(test.database.migrate()).resolves.toBeUndefined();
  });

  it('stores a device with its target and cascades deletes', async () => {
    const { db } = test.database;
    const uuid = '5b0a1f3e-8c1d-4a8e-9a57-2f4d7c9e0b11';
    const apps = { web: { services: { nginx: { image: 'docker.io/library/nginx:1.27' } } } };
    await db.insert(devices).values({ uuid, fleet: 'f1', labels: { site: 'a' }, apiKeyHash: 'x' });
    await db.insert(deviceTargets).values({ deviceUuid: uuid, apps, etag: etagOf(apps) });
    const [row] = await db.select().from(deviceTargets).where(eq(deviceTargets.deviceUuid, uuid));
    expect(row?.apps).toEqual(apps);
    await db.delete(devices).where(eq(devices.uuid, uuid));
    expect(await db.select().from(deviceTargets)).toEqual([]);
  });

  it('delivers NOTIFY to a listener', async () => {
    const received = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no notification')), 5000);
      void test.database
        .listen('fleet_rollout_test', {
          onNotification: (payload) => {
            clearTimeout(timer);
            resolve(payload);
          },
        })
        .then(() => test.database.query(sql`select pg_notify('fleet_rollout_test', 'hello')`));
    });
    expect(await received).toBe('hello');
  });

  it('appends to the event log with server timestamps', async () => {
    const { db } = test.database;
    await db.insert(events).values({ type: 'image.test', subject: 's', payload: { a: 1 } });
    const [row] = await db.select().from(events);
    expect(row?.type).toBe('image.test');
    expect(row?.createdAt).toBeInstanceOf(Date);
  });
});
