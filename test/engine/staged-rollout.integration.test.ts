import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { queryRows } from '../../src/db/rows.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { databaseBackends } from '../support/database.js';
import { type Engine, startEngine } from '../support/engine.js';

const OLD = 'docker.io/library/nginx:1.27';
const NEW = 'docker.io/library/nginx:1.28';
const DEVICES = 1000;

/**
 * A thousand simulated devices take a staged rollout (10/50/100) from start to success, on real
 * Postgres when the suite has one (PGlite takes three times as long at this size).
 */
describe.each(databaseBackends.slice(-1))('a staged rollout on %s', (backend) => {
  let engine: Engine;
  let simulator: Simulator;
  beforeAll(async () => {
    engine = await startEngine(backend);
    simulator = await engine.simulate({
      register: {
        count: DEVICES,
        fleet: 'sim',
        apps: { web: { services: { nginx: { image: OLD } } } },
      },
      reportIntervalMs: 10_000,
    });
  }, 120_000);
  afterAll(() => engine?.stop());

  it('updates every device batch by batch and records it', { timeout: 120_000 }, async () => {
    await engine.policy('web', {
      strategy: { batches: [10, 50, 100], interval: '1s' },
      health: { soakTime: '0s', offlineAfter: '60s', progressDeadline: '120s' },
    });
    await engine.rollout('web-1-28', { policy: 'web' });
    const done = await engine.until(
      'web-1-28',
      (rollout) => expect(rollout.status?.phase).toBe('Succeeded'),
      90_000,
    );
    const status = done.status!;
    expect(status.batches?.map((b) => [b.devices, b.healthy, b.failed])).toEqual([
      [100, 100, 0],
      [400, 400, 0],
      [500, 500, 0],
    ]);
    expect(status).toMatchObject({
      devices: DEVICES,
      healthy: DEVICES,
      failed: 0,
      currentBatch: 3,
    });
    expect(done.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // No batch started before the previous one completed plus the interval.
    const batches = status.batches!;
    for (let k = 1; k < batches.length; k++) {
      expect(Date.parse(batches[k]!.startedAt!)).toBeGreaterThanOrEqual(
        Date.parse(batches[k - 1]!.completedAt!) + 1000,
      );
    }
    // Every device runs the new image, and its target (now its base) says so.
    expect(simulator.summary().images).toEqual({ [NEW]: { healthy: DEVICES } });
    const bases = await queryRows<{ image: string; count: number }>(
      engine.database.db,
      sql`select apps->'web'->'services'->'nginx'->>'image' as image, count(*)::int as count
          from device_targets group by 1`,
    );
    expect(bases).toEqual([{ image: NEW, count: DEVICES }]);
    // The event log and Kubernetes Events tell the story.
    const log = await engine.log('default/web-1-28');
    const count = (type: string) => log.filter((entry) => entry.type === type).length;
    expect(count('image.rollout_started')).toBe(1);
    expect(
      log.filter((e) => e.type === 'image.device_scheduled').map((e) => e.payload.devices),
    ).toEqual([100, 400, 500]);
    expect(count('image.batch_completed')).toBe(3);
    expect(count('image.rollout_succeeded')).toBe(1);
    expect(count('image.rollout_folded')).toBe(1);
    await vi.waitFor(
      async () => {
        const reasons = new Set((await engine.events('web-1-28')).map((event) => event.reason));
        expect([...reasons].sort()).toEqual(
          ['BatchCompleted', 'BatchStarted', 'RolloutStarted', 'RolloutSucceeded'].sort(),
        );
      },
      { timeout: 15_000, interval: 50 },
    );
  });
});
