import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pruneEventLog, startEventLogPruner } from '../../src/db/event-log-retention.js';
import { events } from '../../src/db/schema/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const DAY_MS = 86_400_000;

describe.each(databaseBackends)('event log retention on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test?.drop());
  beforeEach(() => test.database.db.delete(events));

  /** Adds `count` entries created `ageDays` before NOW (a second apart). */
  const addEntries = (count: number, ageDays: number) =>
    test.database.query(
      sql`insert into events (type, subject, payload, created_at)
          select 'image.webhook_received', 'ghcr', '{}'::jsonb,
            ${NOW.toISOString()}::timestamptz - make_interval(days => ${ageDays}) - make_interval(secs => g)
          from generate_series(1, ${count}) g`,
    );
  const ages = async () =>
    (
      await test.database.query<{ age: number }>(
        sql`select extract(epoch from (${NOW.toISOString()}::timestamptz - created_at)) / 86400 as age from events`,
      )
    ).map((row) => Number(row.age));

  it('deletes every entry older than the cut-off in batches, and nothing newer', async () => {
    await addEntries(2_500, 40);
    await addEntries(100, 10);
    const before = new Date(NOW.getTime() - 30 * DAY_MS);
    expect(await pruneEventLog(test.database, before, { batchSize: 1000 })).toBe(2_500);
    const left = await ages();
    expect(left).toHaveLength(100);
    expect(Math.max(...left)).toBeLessThan(30);
    expect(await pruneEventLog(test.database, before)).toBe(0);
  });

  it('stops a round after its batches and goes on in the next one', async () => {
    await addEntries(1_000, 40);
    const before = new Date(NOW.getTime() - 30 * DAY_MS);
    const bounded = { batchSize: 100, maxBatches: 3 };
    expect(await pruneEventLog(test.database, before, bounded)).toBe(300);
    expect(await pruneEventLog(test.database, before, bounded)).toBe(300);
    expect(await ages()).toHaveLength(400);
  });

  it('finds old entries through the index on created_at', async () => {
    const plan = await test.database.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const result = await tx.execute(
        sql`explain select id from events where created_at < now() order by created_at limit 1000`,
      );
      return JSON.stringify((result as unknown as { rows: unknown[] }).rows);
    });
    expect(plan).toContain('events_created_at_idx');
  });

  it('lets pruners run at once without deleting anything twice', async () => {
    await addEntries(3_000, 40);
    const before = new Date(NOW.getTime() - 30 * DAY_MS);
    const counts = await Promise.all(
      [1, 2, 3].map(() => pruneEventLog(test.database, before, { batchSize: 200 })),
    );
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(3_000);
    expect(await ages()).toEqual([]);
  });

  it('prunes periodically and counts what it deleted', async () => {
    await addEntries(50, 31);
    await addEntries(5, 29);
    const metrics = createMetricsRegistry({ processMetrics: false });
    const pruner = startEventLogPruner({
      database: test.database,
      retentionMs: 30 * DAY_MS,
      logger: silentLogger(),
      metrics,
      intervalMs: 50,
      now: () => NOW,
    });
    try {
      await eventually(async () => expect(await ages()).toHaveLength(5), 10_000);
      expect(await metrics.metrics()).toContain('fleet_rollout_event_log_pruned_total 50');
    } finally {
      await pruner.stop();
    }
  });
});
