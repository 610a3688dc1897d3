import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendLog } from '../../src/db/event-log.js';
import {
  claimDue,
  enqueueNotifications,
  fanOut,
  markDelivered,
  markFailed,
  pendingCounts,
} from '../../src/db/notification-store.js';
import type { RolloutNotification } from '../../src/notifications/transitions.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';

const notification = (key: string): RolloutNotification => ({
  key,
  event: 'Started',
  namespace: 'prod',
  name: 'web',
  uid: 'u',
  policy: 'web',
  labels: {},
  image: 'ghcr.io/acme/web:2',
  batch: 0,
  batches: 2,
  devices: 4,
  updated: 0,
  healthy: 0,
  failed: 0,
  reason: 'CreatingMembership',
  message: 'selected 4 devices',
  time: '2026-12-07T10:00:00.000Z',
});
const CHANNELS = [
  { uid: 'c1', namespace: 'prod', name: 'slack' },
  { uid: 'c2', namespace: 'prod', name: 'hook' },
];

describe.each(databaseBackends)('the notification outbox on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test?.drop());

  it('keeps one row per key, written with the event-log entry that carries it', async () => {
    const db = test.database.db;
    const entry = {
      type: 'image.rollout_started',
      subject: 'prod/web',
      payload: { rollout: 'u' },
      notifications: [notification('u/Started')],
    };
    await db.transaction((tx) => appendLog(tx, [entry]));
    // A crash and a redo plan the same transition again: still one row.
    await db.transaction((tx) => appendLog(tx, [entry]));
    await enqueueNotifications(db, [notification('u/Started')]);
    // A transaction that rolls back leaves no row.
    await expect(
      db.transaction(async (tx) => {
        await appendLog(tx, [{ ...entry, notifications: [notification('u/Succeeded')] }]);
        throw new Error('effect failed');
      }),
    ).rejects.toThrow('effect failed');
    expect(await pendingCounts(db)).toEqual({ outbox: 1, deliveries: 0 });
  });

  it('fans out once per channel, and claims a due delivery for one dispatcher only', async () => {
    const db = test.database.db;
    expect(await fanOut(db, () => CHANNELS)).toBe(1);
    expect(await fanOut(db, () => CHANNELS)).toBe(0);
    expect(await pendingCounts(db)).toEqual({ outbox: 0, deliveries: 2 });
    const first = await claimDue(db, { limit: 10, claimMs: 60_000, skip: ['c2'] });
    expect(first.map((d) => [d.channelName, d.attempts, d.notification.key])).toEqual([
      ['slack', 1, 'u/Started'],
    ]);
    // Claimed: another dispatcher gets only the other channel's delivery.
    const second = await claimDue(db, { limit: 10, claimMs: 60_000 });
    expect(second.map((d) => d.channelName)).toEqual(['hook']);
    expect(await claimDue(db, { limit: 10, claimMs: 60_000 })).toEqual([]);
    await markDelivered(db, first[0]?.id ?? 0);
    await markFailed(db, second[0]?.id ?? 0, 'HTTP 503', 0);
    const retried = await claimDue(db, { limit: 10, claimMs: 60_000 });
    expect(retried.map((d) => [d.channelName, d.attempts])).toEqual([['hook', 2]]);
    await markFailed(db, retried[0]?.id ?? 0, 'HTTP 503', undefined);
    expect(await claimDue(db, { limit: 10, claimMs: 60_000 })).toEqual([]);
    expect(await pendingCounts(db)).toEqual({ outbox: 0, deliveries: 0 });
  });
});
