import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deleteDevice, registerDevice } from '../../src/db/device-store.js';
import {
  completeSelection,
  type MembershipSpec,
  rankedSelection,
  rebatch,
  stagedCount,
  stageSelection,
} from '../../src/db/membership-store.js';
import { PROGRESS_CHANNEL } from '../../src/db/progress-notifications.js';
import { batchProgress, rollbackProgress, setSoak } from '../../src/db/progress-store.js';
import { saveReport } from '../../src/db/report-store.js';
import { createRolloutTarget, rollBack, startBatch } from '../../src/db/rollout-target-store.js';
import { events, rolloutMembers } from '../../src/db/schema/index.js';
import { membershipSeed, rankDevices } from '../../src/planner/membership.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';

const REPO = 'docker.io/library/nginx';
const OLD = `${REPO}:1.27`;
const NEW = `${REPO}:1.28`;
const apps = (image: string) => ({ web: { services: { nginx: { image } } } });
const reported = (image: string, status: string, health = 'unknown') => ({
  web: { services: { nginx: { image, status, health } } },
});

describe.each(databaseBackends)('rollout membership and progress on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test?.drop());
  const db = () => test.database.db;

  /** Registers `count` devices in a fleet of their own and selects them into a new rollout. */
  async function rollout(count: number, percentages = [50, 100]) {
    const fleet = `f-${randomUUID().slice(0, 8)}`;
    const uuids: string[] = [];
    for (let i = 0; i < count; i++) {
      uuids.push((await registerDevice(db(), { fleet, labels: {}, apps: apps(OLD) })).uuid);
    }
    const uid = randomUUID();
    const spec: MembershipSpec = {
      uid,
      namespace: 'ns',
      name: `r-${uid.slice(0, 8)}`,
      repository: REPO,
      image: NEW,
      selector: { fleets: [fleet] },
      log: [{ type: 'image.rollout_started', subject: 'ns/r', payload: { rollout: uid } }],
    };
    expect(await stageSelection(db(), spec)).toBe(true);
    await createRolloutTarget(db(), spec);
    await completeSelection(db(), uid, percentages);
    return { uid, uuids, spec };
  }
  const members = (uid: string) =>
    db()
      .select()
      .from(rolloutMembers)
      .where(eq(rolloutMembers.rolloutUid, uid))
      .orderBy(asc(rolloutMembers.rank));
  const progressAt = (uid: string, started: number, now: Date, offlineAfterMs = 60_000) =>
    batchProgress(db(), {
      uid,
      startedBatches: started,
      soakMs: 0,
      offlineAfterMs,
      now,
      batchStartedAt: () => new Date(now.getTime() - 3_600_000),
    });

  it('ranks selected devices as the planner does and lays batches out by rank', async () => {
    const { uid, uuids, spec } = await rollout(6);
    const rows = await members(uid);
    const seed = membershipSeed(spec.namespace, spec.name);
    expect(rows.map((row) => row.deviceUuid)).toEqual(rankDevices(seed, uuids));
    expect(await rankedSelection(db(), seed, spec.selector)).toEqual(rankDevices(seed, uuids));
    expect(rows.map((row) => row.rank)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows.map((row) => row.batch)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(await stagedCount(db(), uid)).toBe(0);
    // Selecting again does nothing: ranks never change.
    expect(await stageSelection(db(), spec)).toBe(false);
    const logged = await db().select().from(events).where(eq(events.type, 'image.rollout_started'));
    expect(logged.filter((e) => e.payload.rollout === uid)).toHaveLength(1);
  });

  it('counts reports of started batches; pending batches stay pending', async () => {
    const { uid } = await rollout(4);
    await startBatch(db(), uid, 1);
    const [a, b] = (await members(uid)).map((row) => row.deviceUuid);
    expect(await saveReport(db(), a!, reported(NEW, 'starting'))).toEqual({
      rollouts: [`ns/r-${uid.slice(0, 8)}`],
    });
    await saveReport(db(), b!, reported(NEW, 'running', 'unhealthy'));
    const counts = await progressAt(uid, 1, new Date());
    const states = ['pending', 'scheduled', 'updating', 'soaking', 'healthy', 'failed', 'offline'];
    const nonZero = (batch: (typeof counts)[number]) =>
      Object.fromEntries(
        states.flatMap((k) => (batch[k as 'pending'] ? [[k, batch[k as 'pending']]] : [])),
      );
    expect(counts.map((b) => [b.batch, b.devices, nonZero(b)])).toEqual([
      [1, 2, { updating: 1, failed: 1 }],
      [2, 2, { pending: 2 }],
    ]);
    // A failed device stays failed; the same report again changes nothing.
    expect(await saveReport(db(), b!, reported(NEW, 'running', 'healthy'))).toEqual({
      rollouts: [],
    });
  });

  it('soaks: healthy only after a healthy report the soak time after the first', async () => {
    const { uid } = await rollout(2, [100]);
    await startBatch(db(), uid, 1);
    const [a] = (await members(uid)).map((row) => row.deviceUuid);
    await setSoak(db(), uid, 3_600_000);
    await saveReport(db(), a!, reported(NEW, 'running', 'healthy'));
    await saveReport(db(), a!, reported(NEW, 'running', 'healthy'));
    expect((await progressAt(uid, 1, new Date()))[0]).toMatchObject({ soaking: 1, healthy: 0 });
    await setSoak(db(), uid, 0);
    await saveReport(db(), a!, reported(NEW, 'running', 'healthy'));
    expect((await progressAt(uid, 1, new Date()))[0]).toMatchObject({ soaking: 0, healthy: 1 });
  });

  it('keeps a healthy device healthy when it restarts; only a failure on the new image fails it', async () => {
    const { uid } = await rollout(2, [100]);
    await startBatch(db(), uid, 1);
    const [a] = (await members(uid)).map((row) => row.deviceUuid);
    await saveReport(db(), a!, reported(NEW, 'running', 'healthy'));
    for (const restart of [reported(NEW, 'starting'), reported(NEW, 'running', 'unknown')]) {
      expect(await saveReport(db(), a!, restart)).toEqual({ rollouts: [] });
      expect((await progressAt(uid, 1, new Date()))[0]).toMatchObject({ healthy: 1, updating: 0 });
    }
    expect((await saveReport(db(), a!, reported(NEW, 'exited')))?.rollouts).toHaveLength(1);
    expect((await progressAt(uid, 1, new Date()))[0]).toMatchObject({ healthy: 0, failed: 1 });
  });

  it('counts members not heard from for offlineAfter as offline, once the batch ran that long', async () => {
    const { uid } = await rollout(2, [100]);
    await startBatch(db(), uid, 1);
    const [a] = (await members(uid)).map((row) => row.deviceUuid);
    await saveReport(db(), a!, reported(OLD, 'running', 'healthy'));
    const later = new Date(Date.now() + 120_000);
    expect((await progressAt(uid, 1, later))[0]).toMatchObject({
      scheduled: 0,
      offline: 2,
      offlineOnNewImage: 0,
    });
    expect((await progressAt(uid, 1, new Date()))[0]).toMatchObject({ scheduled: 1, offline: 1 });
    const justStarted = await batchProgress(db(), {
      uid,
      startedBatches: 1,
      soakMs: 0,
      offlineAfterMs: 60_000,
      now: later,
      batchStartedAt: () => undefined,
    });
    expect(justStarted[0]).toMatchObject({ scheduled: 2, offline: 0 });
  });

  it('does not count silence during a device-API outage, nor for offlineAfter after it', async () => {
    const { uid } = await rollout(2, [100]);
    await startBatch(db(), uid, 1);
    const [a] = (await members(uid)).map((row) => row.deviceUuid);
    await saveReport(db(), a!, reported(OLD, 'running', 'healthy'));
    const heard = Date.now();
    // down from 10 s after the report until 10 min after it; offlineAfter is 1 min
    const outages = [{ from: new Date(heard + 10_000), to: new Date(heard + 600_000) }];
    const at = (ms: number) =>
      batchProgress(db(), {
        uid,
        startedBatches: 1,
        soakMs: 0,
        offlineAfterMs: 60_000,
        now: new Date(heard + ms),
        outages,
        batchStartedAt: () => new Date(heard - 3_600_000),
      });
    // the device that never reported was offline before the outage and stays offline
    expect((await at(650_000))[0]).toMatchObject({ scheduled: 1, offline: 1 });
    expect((await at(665_000))[0]).toMatchObject({ scheduled: 0, offline: 2 });
  });

  it('counts a device on the new image as offline offlineAfter after its last report', async () => {
    const { uid } = await rollout(3, [100]);
    await startBatch(db(), uid, 1);
    await setSoak(db(), uid, 3_600_000);
    const [a, b] = (await members(uid)).map((row) => row.deviceUuid);
    await saveReport(db(), a!, reported(NEW, 'starting'));
    await saveReport(db(), b!, reported(NEW, 'running', 'healthy'));
    // The batch started an hour ago: a recent report keeps each device online; the third
    // device never reported the new image, so it is offline, but not on the new image.
    const soon = new Date(Date.now() + 30_000);
    expect((await progressAt(uid, 1, soon))[0]).toMatchObject({
      scheduled: 0,
      updating: 1,
      soaking: 1,
      offline: 1,
      offlineOnNewImage: 0,
    });
    // Silent since they reported the new image: offline, and offline on the new image.
    const later = new Date(Date.now() + 120_000);
    expect((await progressAt(uid, 1, later))[0]).toMatchObject({
      updating: 0,
      soaking: 0,
      offline: 3,
      offlineOnNewImage: 2,
    });
  });

  it('counts devices restored to their previous images after a rollback', async () => {
    const { uid } = await rollout(3, [100]);
    await startBatch(db(), uid, 1);
    const [a, b] = (await members(uid)).map((row) => row.deviceUuid);
    await saveReport(db(), a!, reported(NEW, 'running', 'healthy'));
    await rollBack(db(), uid);
    await saveReport(db(), a!, reported(OLD, 'running', 'healthy'));
    await saveReport(db(), b!, reported(NEW, 'running', 'healthy'));
    const now = new Date(Date.now() + 120_000);
    const query = { uid, startedBatches: 1, offlineAfterMs: 60_000, now };
    expect(await rollbackProgress(db(), { ...query, rollbackStartedAt: new Date(0) })).toEqual({
      devices: 3,
      restored: 1,
      offline: 2,
    });
    expect(await rollbackProgress(db(), query)).toEqual({ devices: 3, restored: 1, offline: 0 });
    // b reported (still on the new image) after the rollback started: not offline yet.
    const soon = { ...query, now: new Date(Date.now() + 30_000), rollbackStartedAt: new Date(0) };
    expect(await rollbackProgress(db(), soon)).toEqual({ devices: 3, restored: 1, offline: 1 });
  });

  it('counts deleted members as offline unless they had settled, and rolls them back as offline', async () => {
    const { uid, spec } = await rollout(6, [50, 100]);
    await startBatch(db(), uid, 1);
    const [healthy, updating, failed, stays, pending, staysToo] = (await members(uid)).map(
      (row) => row.deviceUuid,
    );
    await saveReport(db(), healthy!, reported(NEW, 'running', 'healthy'));
    await saveReport(db(), updating!, reported(NEW, 'starting'));
    await saveReport(db(), failed!, reported(NEW, 'running', 'unhealthy'));
    const heard: string[] = [];
    const unlisten = await test.database.listen(PROGRESS_CHANNEL, {
      onNotification: (payload) => heard.push(payload),
    });
    try {
      for (const uuid of [healthy, updating, failed, pending]) {
        expect(await deleteDevice(db(), uuid!)).toMatchObject({ rollouts: [`ns/${spec.name}`] });
      }
      await vi.waitFor(
        () => expect(heard).toContain(JSON.stringify({ rollouts: [`ns/${spec.name}`] })),
        { timeout: 15_000, interval: 50 },
      );
    } finally {
      await unlisten();
    }
    // The batch started an hour ago: deleted and not settled is offline, and not on the new image
    // (the device did not go silent on it, it was removed); healthy and failed keep their verdict.
    // Every member still counts, so the batch layout stays as planned.
    const now = new Date();
    expect(await progressAt(uid, 1, now)).toEqual([
      expect.objectContaining({
        batch: 1,
        devices: 3,
        healthy: 1,
        failed: 1,
        updating: 0,
        offline: 1,
        offlineOnNewImage: 0,
      }),
      expect.objectContaining({ batch: 2, devices: 3, pending: 3 }),
    ]);
    await startBatch(db(), uid, 2);
    for (const uuid of [stays, staysToo]) await saveReport(db(), uuid!, reported(NEW, 'starting'));
    expect((await progressAt(uid, 2, new Date()))[1]).toMatchObject({
      devices: 3,
      updating: 2,
      scheduled: 0,
      offline: 1,
    });
    // After a rollback the deleted members are the offline ones; the others reported since `now`.
    await rollBack(db(), uid);
    const query = { uid, startedBatches: 2, offlineAfterMs: 60_000, now };
    expect(await rollbackProgress(db(), { ...query, rollbackStartedAt: new Date(0) })).toEqual({
      devices: 6,
      restored: 0,
      offline: 4,
    });
  });

  it('rebatches members of batches that have not started, by position', async () => {
    const { uid } = await rollout(6, [50, 100]);
    await startBatch(db(), uid, 1);
    expect(await rebatch(db(), uid, 1, [3, 4, 6], [])).toEqual({ moved: 2 });
    expect((await members(uid)).map((row) => row.batch)).toEqual([1, 1, 1, 2, 3, 3]);
    expect(await rebatch(db(), uid, 0, [1, 6], [])).toEqual({ moved: 0 });
  });
});
