import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDevice } from '../src/db/device-store.js';
import { createMembership, fold } from '../src/db/rollout-members-store.js';
import {
  createRolloutTarget,
  getRolloutTarget,
  RolloutTargetError,
  rollBack,
  startBatch,
} from '../src/db/rollout-target-store.js';
import { events, rolloutMembers } from '../src/db/schema/index.js';
import { TARGETS_CHANNEL } from '../src/db/target-notifications.js';
import { loadEffectiveTarget, setBaseTarget } from '../src/db/target-store.js';
import { etagOf, type TargetApps } from '../src/devices/target-document.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from './support/database.js';

const NGINX = 'docker.io/library/nginx';
const withNginx = (tag: string): TargetApps => ({
  web: { services: { nginx: { image: `nginx:${tag}` }, app: { image: 'ghcr.io/acme/app:1' } } },
});
const withoutNginx: TargetApps = { cache: { services: { redis: { image: 'redis:7' } } } };

describe.each(databaseBackends)('rollout target store on %s', (backend) => {
  let test: TestDatabase;
  const notifications: string[] = [];
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    await test.database.listen(TARGETS_CHANNEL, { onNotification: (p) => notifications.push(p) });
  });
  afterAll(() => test?.drop());

  const db = () => test.database.db;
  const device = async (apps: TargetApps) =>
    (await registerDevice(db(), { fleet: 'f', labels: {}, apps })).uuid;
  const rollout = (image = `${NGINX}:2.0`) =>
    createRolloutTarget(db(), {
      uid: randomUUID(),
      namespace: 'ns',
      name: `r-${randomUUID().slice(0, 8)}`,
      repository: NGINX,
      image,
    });
  /** Plans devices into batches in the given order (rank = position). */
  const plan = (uid: string, batches: Array<[string, number]>) =>
    createMembership(
      db(),
      uid,
      batches.map(([uuid, batch], i) => ({ uuid, rank: i + 1, batch })),
    );
  const effective = async (uuid: string) => (await loadEffectiveTarget(db(), uuid))!;
  const members = (uid: string) =>
    db()
      .select()
      .from(rolloutMembers)
      .where(eq(rolloutMembers.rolloutUid, uid))
      .orderBy(rolloutMembers.rank);
  const heard = async (expected: object) => {
    for (let i = 0; i < 100 && !notifications.some((n) => matches(n, expected)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(notifications.map((n) => JSON.parse(n))).toContainEqual(expected);
  };

  it('refuses a repository that is not normalized, or an image outside it', async () => {
    const spec = { uid: randomUUID(), namespace: 'ns', name: 'r' };
    await expect(
      createRolloutTarget(db(), { ...spec, repository: 'nginx', image: 'nginx:2' }),
    ).rejects.toThrow(/not normalized/);
    await expect(
      createRolloutTarget(db(), { ...spec, repository: NGINX, image: 'ghcr.io/a/b:1' }),
    ).rejects.toThrow(/is not in/);
    const created = await createRolloutTarget(db(), {
      ...spec,
      repository: NGINX,
      image: `${NGINX}:2`,
    });
    expect(
      await createRolloutTarget(db(), { ...spec, repository: NGINX, image: `${NGINX}:2` }),
    ).toEqual(created);
    await expect(
      createRolloutTarget(db(), { ...spec, repository: NGINX, image: `${NGINX}:3` }),
    ).rejects.toThrow(/another image/);
  });

  it('plans from, to and previous per member, in chunks, idempotently, skipping unknown devices', async () => {
    const [a, b, c] = [
      await device(withNginx('1.0')),
      await device(withNginx('1.1')),
      await device(withoutNginx),
    ];
    const r = await rollout();
    async function* planned() {
      yield { uuid: a, rank: 1, batch: 1 };
      yield { uuid: randomUUID(), rank: 2, batch: 1 };
      yield { uuid: b, rank: 3, batch: 1 };
      yield { uuid: c, rank: 4, batch: 2 };
    }
    expect(await createMembership(db(), r.uid, planned(), { chunkSize: 2 })).toEqual({
      inserted: 3,
      skipped: 1,
    });
    const rows = await members(r.uid);
    expect(rows.map((row) => [row.deviceUuid, row.batch, row.previous])).toEqual([
      [a, 1, { 'web/nginx': 'nginx:1.0' }],
      [b, 1, { 'web/nginx': 'nginx:1.1' }],
      [c, 2, {}],
    ]);
    expect(rows[0]?.fromEtag).toBe(etagOf(withNginx('1.0')));
    expect(rows[0]?.toEtag).toBe(
      etagOf({
        web: {
          services: { nginx: { image: `${NGINX}:2.0` }, app: { image: 'ghcr.io/acme/app:1' } },
        },
      }),
    );
    expect(rows[2]?.toEtag).toBe(rows[2]?.fromEtag);

    // Re-running after a crash (other ranks this time) keeps what is there.
    const again = await createMembership(
      db(),
      r.uid,
      [a, b, c].map((uuid, i) => ({ uuid, rank: 10 + i, batch: 1 })),
    );
    expect(again).toEqual({ inserted: 0, skipped: 0 });
    expect(await members(r.uid)).toEqual(rows);
    await expect(createMembership(db(), r.uid, [{ uuid: a, rank: 1, batch: 0 }])).rejects.toThrow(
      RolloutTargetError,
    );
  });

  it('starts batches forward only, with one event and one notification, changing only their members', async () => {
    const [a, b] = [await device(withNginx('1.0')), await device(withNginx('1.0'))];
    const r = await rollout();
    await plan(r.uid, [
      [a, 1],
      [b, 2],
    ]);
    const before = await effective(a);
    expect((await effective(a)).etag).toBe(etagOf(withNginx('1.0')));

    expect(await startBatch(db(), r.uid, 1)).toEqual({ started: true, previous: 0, devices: 1 });
    const after = await effective(a);
    expect(after.apps.web?.services.nginx?.image).toBe(`${NGINX}:2.0`);
    expect(after.etag).toBe((await members(r.uid))[0]?.toEtag);
    expect(after.overlays.map((o) => o.uid)).toEqual([r.uid]);
    expect(after.etag).not.toBe(before.etag);
    expect((await effective(b)).etag).toBe(etagOf(withNginx('1.0')));
    await heard({ type: 'members', rollout: r.uid, batches: [1, 2] });
    await heard({ type: 'batch', rollout: r.uid, after: 0, through: 1, devices: 1 });

    expect(await startBatch(db(), r.uid, 1)).toEqual({ started: false, previous: 1, devices: 0 });
    expect(await startBatch(db(), r.uid, 2)).toEqual({ started: true, previous: 1, devices: 1 });
    expect((await getRolloutTarget(db(), r.uid))?.startedBatches).toBe(2);
    const logged = await db()
      .select()
      .from(events)
      .where(and(eq(events.type, 'image.device_scheduled'), eq(events.subject, `ns/${r.name}`)));
    expect(logged.map((e) => e.payload)).toEqual([
      expect.objectContaining({ rollout: r.uid, batch: 1, devices: 1, image: `${NGINX}:2.0` }),
      expect.objectContaining({ rollout: r.uid, batch: 2, devices: 1 }),
    ]);
    await expect(startBatch(db(), randomUUID(), 1)).rejects.toThrow(/no target overlay/);
  });

  it('rolls every started member back to exactly its own previous document', async () => {
    const [a, b] = [await device(withNginx('1.0')), await device(withNginx('1.5'))];
    const r = await rollout();
    await plan(r.uid, [
      [a, 1],
      [b, 1],
    ]);
    await startBatch(db(), r.uid, 1);
    expect(await rollBack(db(), r.uid)).toEqual({ rolledBack: true, devices: 2 });
    expect(await effective(a)).toMatchObject({
      apps: withNginx('1.0'),
      etag: etagOf(withNginx('1.0')),
      overlays: [],
    });
    expect(await effective(b)).toMatchObject({
      apps: withNginx('1.5'),
      etag: etagOf(withNginx('1.5')),
    });
    await heard({ type: 'rollback', rollout: r.uid, through: 1 });
    expect(await rollBack(db(), r.uid)).toEqual({ rolledBack: false, devices: 0 });
    await expect(startBatch(db(), r.uid, 2)).rejects.toThrow(/rolledBack/);
    await expect(fold(db(), r.uid)).rejects.toThrow(/rolledBack/);
  });

  it('folds into base targets without changing any effective document', async () => {
    const [a, c] = [await device(withNginx('1.0')), await device(withoutNginx)];
    const r = await rollout();
    await plan(r.uid, [
      [a, 1],
      [c, 1],
    ]);
    await startBatch(db(), r.uid, 1);
    const before = [await effective(a), await effective(c)];
    expect(await fold(db(), r.uid, { parts: 2 })).toEqual({ folded: true, devices: 2 });
    const after = [await effective(a), await effective(c)];
    expect(after.map((t) => [t.etag, t.apps])).toEqual(before.map((t) => [t.etag, t.apps]));
    expect(after.map((t) => t.overlays)).toEqual([[], []]);
    expect(after[0]?.baseEtag).toBe(before[0]?.etag);
    await heard({ type: 'fold', rollout: r.uid, through: 1 });
    expect(await fold(db(), r.uid)).toEqual({ folded: false, devices: 0 });
    await expect(rollBack(db(), r.uid)).rejects.toThrow(/folded/);
  });

  it('refuses to fold over an older rollout of the same repository until that one is folded', async () => {
    const a = await device(withNginx('1.0'));
    const older = await rollout(`${NGINX}:2.0`);
    const newer = await rollout(`${NGINX}:3.0`);
    for (const r of [older, newer]) {
      await plan(r.uid, [[a, 1]]);
      await startBatch(db(), r.uid, 1);
    }
    const served = await effective(a);
    expect(served.apps.web?.services.nginx?.image).toBe(`${NGINX}:3.0`);
    await expect(fold(db(), newer.uid)).rejects.toThrow(/older rollout/);
    await fold(db(), older.uid);
    await fold(db(), newer.uid);
    expect(await effective(a)).toMatchObject({
      etag: served.etag,
      apps: served.apps,
      overlays: [],
    });
  });

  it('applies an admin change under an active overlay, and announces late joiners of started batches', async () => {
    const a = await device(withNginx('1.0'));
    const r = await rollout();
    await startBatch(db(), r.uid, 1);
    await plan(r.uid, [[a, 1]]);
    await heard({ type: 'devices', uuids: [a] });
    expect((await effective(a)).apps.web?.services.nginx?.image).toBe(`${NGINX}:2.0`);
    const edited: TargetApps = {
      web: { services: { nginx: { image: 'nginx:1.9' }, extra: { image: 'busybox:1' } } },
    };
    await setBaseTarget(db(), a, edited);
    expect((await effective(a)).apps).toEqual({
      web: { services: { nginx: { image: `${NGINX}:2.0` }, extra: { image: 'busybox:1' } } },
    });
    await rollBack(db(), r.uid);
    expect((await effective(a)).apps).toEqual(edited);
  });
});

function matches(payload: string, expected: object): boolean {
  return JSON.stringify(JSON.parse(payload)) === JSON.stringify(expected);
}
