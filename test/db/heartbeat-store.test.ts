import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beat, readHeartbeat, readLatestBeat, stopBeating } from '../../src/db/heartbeat-store.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';

const LONG_AGO = new Date(0);

describe.each(databaseBackends)('the device API heartbeat on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test?.drop());
  const db = () => test.database.db;

  it('records an outage when a beat finds every replica expired, and only then', async () => {
    // No replica ever beat: nothing to judge by, so the device API counts as available.
    expect(await readHeartbeat(db(), LONG_AGO)).toEqual({
      available: true,
      lastBeatAgeMs: undefined,
      outages: [],
    });
    expect(await beat(db(), 'a', 60_000)).toBeUndefined();
    expect(await beat(db(), 'b', 60_000)).toBeUndefined();
    await stopBeating(db(), 'a');
    // b still beats: no outage
    expect((await readLatestBeat(db())).available).toBe(true);
    expect(await beat(db(), 'a', 60_000)).toBeUndefined();
    await stopBeating(db(), 'a');
    await stopBeating(db(), 'b');
    const down = await readLatestBeat(db());
    expect(down.available).toBe(false);
    expect(down.lastBeatAgeMs).toBeGreaterThanOrEqual(0);
    // A restarted replica is a new one; its first beat ends the outage.
    const outage = await beat(db(), 'a2', 60_000);
    expect(outage?.to.getTime()).toBeGreaterThan(outage?.from.getTime() ?? Infinity);
    const after = await readHeartbeat(db(), LONG_AGO);
    expect(after.available).toBe(true);
    expect(after.outages).toEqual([outage]);
    expect(await beat(db(), 'a2', 60_000)).toBeUndefined();
    // Only outages that ended after the given time are read.
    expect((await readHeartbeat(db(), new Date(Date.now() + 60_000))).outages).toEqual([]);
  });

  it('a heartbeat that was not renewed in time expires without a clean stop', async () => {
    await beat(db(), 'crashing', 0);
    for (const replica of ['a', 'b', 'a2']) await stopBeating(db(), replica);
    expect((await readLatestBeat(db())).available).toBe(false);
    expect(await beat(db(), 'next', 60_000)).toBeDefined();
  });
});
