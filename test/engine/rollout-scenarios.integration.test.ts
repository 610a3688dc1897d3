import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import { registerDevice } from '../../src/db/device-store.js';
import { queryRows } from '../../src/db/rows.js';
import type { TargetApps } from '../../src/devices/target-document.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { databaseBackends } from '../support/database.js';
import { type Engine, type SimulateOptions, startEngine } from '../support/engine.js';

const NGINX = 'docker.io/library/nginx';
const OLD = `${NGINX}:1.27`;
const NEW = `${NGINX}:1.28`;
const apps = (image: string): TargetApps => ({ web: { services: { nginx: { image } } } });
const condition = (rollout: ImageRollout, type: string) =>
  rollout.status?.conditions?.find((c) => c.type === type);
/** Images each simulated device runs, `app/service` → image. */
const running = (simulator: Simulator) =>
  new Map(
    simulator
      .devices()
      .map((d) => [
        d.uuid,
        Object.fromEntries(Object.entries(d.services).map(([k, s]) => [k, s.image])),
      ]),
  );

/** Operator-facing behaviour of the rollout engine, each on a small fleet of its own. */
describe.each(databaseBackends)('rollout engine on %s', (backend) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startEngine(backend);
  }, 60_000);
  afterAll(() => engine?.stop());

  /** `count` simulated devices of fleet `fleet`, all on OLD. */
  const fleet = (name: string, count: number, options: SimulateOptions = {}) =>
    engine.simulate({ register: { count, fleet: name, apps: apps(OLD) }, seed: name, ...options });
  const startedBatches = async (name: string) => {
    const [row] = await queryRows<{ started: number }>(
      engine.database.db,
      sql`select started_batches as started from rollout_targets where name = ${name}`,
    );
    return row?.started;
  };
  const health = { soakTime: '1s', offlineAfter: '60s', progressDeadline: '120s' };

  it('pauses when failures exceed the budget and schedules nothing more', async () => {
    const simulator = await fleet('budget', 12, { failureRate: 1, failingImages: [NEW] });
    await engine.policy('budget', {
      selector: { fleets: ['budget'] },
      strategy: { batches: [50, 100], interval: '0s' },
      health,
      failurePolicy: { maxFailurePercent: 20, minSample: 3, action: 'Pause' },
    });
    await engine.rollout('budget-1-28', { policy: 'budget' });
    const paused = await engine.until('budget-1-28', (r) => {
      expect(r.status?.phase).toBe('Paused');
      expect(condition(r, 'Degraded')).toMatchObject({
        status: 'True',
        reason: 'FailureBudgetExceeded',
      });
    });
    expect(paused.status?.currentBatch).toBe(1);
    // Another pass (a spec change) still schedules nothing.
    await engine.patch('budget-1-28', { spec: { approvedBatches: 0 } });
    const again = await engine.until('budget-1-28', (r) =>
      expect(r.status?.observedGeneration).toBe(2),
    );
    expect(again.status?.phase).toBe('Paused');
    expect(await startedBatches('budget-1-28')).toBe(1);
    // Batch 2 never got the new image; batch 1 fails on it (some may still be starting).
    await vi.waitFor(
      () =>
        expect(simulator.summary().images).toEqual({
          [OLD]: { healthy: 6 },
          [NEW]: { unhealthy: 6 },
        }),
      { timeout: 15_000, interval: 50 },
    );
  });

  it('pauses at the deadline when devices go silent on the new image', async () => {
    const simulator = await fleet('dark', 8);
    await engine.policy('dark', {
      selector: { fleets: ['dark'] },
      strategy: { batches: [50, 100], interval: '0s' },
      health: { ...health, soakTime: '1h' },
      failurePolicy: { maxFailurePercent: 20, minSample: 3, action: 'Pause' },
    });
    await engine.rollout('dark-1-28', { policy: 'dark' });
    // Batch 1 reports the new image; then the image cuts the devices' network.
    await engine.until('dark-1-28', (r) => expect(r.status?.batches?.[0]?.updated).toBe(4));
    await simulator.stop();
    try {
      engine.clock.offsetMs = 90_000;
      const waiting = await engine.until('dark-1-28', (r) =>
        expect(condition(r, 'Progressing')?.reason).toBe('BatchWaitingOnOfflineDevices'),
      );
      expect(waiting.status?.batches?.[0]).toMatchObject({ failed: 0, offline: 4 });
      engine.clock.offsetMs = 150_000;
      const paused = await engine.until('dark-1-28', (r) => expect(r.status?.phase).toBe('Paused'));
      expect(condition(paused, 'Degraded')?.reason).toBe('FailureBudgetExceeded');
      expect(paused.status?.batches?.[0]).toMatchObject({ devices: 4, failed: 4, offline: 0 });
      expect(await startedBatches('dark-1-28')).toBe(1);
    } finally {
      engine.clock.offsetMs = 0;
    }
  });

  it('holds a failure-budget pause when late devices recover, until the spec changes', async () => {
    const stuck = await fleet('late', 8, {
      failureRate: 1,
      failureMode: 'stuck',
      failingImages: [NEW],
    });
    await engine.policy('late', {
      selector: { fleets: ['late'] },
      strategy: { batches: [50, 100], interval: '0s' },
      health,
      failurePolicy: { maxFailurePercent: 20, minSample: 3, action: 'Pause' },
    });
    await engine.rollout('late-1-28', { policy: 'late' });
    await engine.until('late-1-28', (r) => expect(r.status?.batches?.[0]?.updated).toBe(4));
    try {
      // Batch 1 is still starting the new image at its progress deadline: it counts as failed.
      engine.clock.offsetMs = 150_000;
      await engine.until('late-1-28', (r) => expect(r.status?.phase).toBe('Paused'));
      // Then the same devices come up healthy: the counts fall back under the budget.
      await stuck.stop();
      await engine.simulate({ attach: stuck.credentials(), seed: 'late' });
      const held = await engine.until('late-1-28', (r) =>
        expect(r.status?.batches?.[0]).toMatchObject({ healthy: 4, failed: 0 }),
      );
      expect(held.status?.phase).toBe('Paused');
      expect(condition(held, 'Degraded')?.reason).toBe('FailureBudgetExceeded');
      expect(await startedBatches('late-1-28')).toBe(1);
      // An operator's spec change lets the planner judge the current counts: it continues.
      await engine.patch('late-1-28', {
        spec: { failurePolicy: { maxFailurePercent: 30, minSample: 3, action: 'Pause' } },
      });
      await engine.until('late-1-28', (r) => expect(r.status?.currentBatch).toBe(2));
      const reasons = (await engine.events('late-1-28')).map((event) => event.reason);
      expect(reasons).toContain('RolloutResumed');
    } finally {
      engine.clock.offsetMs = 0;
    }
  });

  it('rolls every changed device back to its own previous images', async () => {
    const variants: TargetApps[] = [
      apps(`${NGINX}:1.20`),
      apps(`${NGINX}:1.21`),
      { ...apps(`${NGINX}:1.22`), edge: { services: { proxy: { image: `${NGINX}:1.19` } } } },
      { cache: { services: { redis: { image: 'docker.io/library/redis:7' } } } },
    ];
    const credentials = [];
    for (let i = 0; i < 12; i++) {
      const device = { fleet: 'undo', labels: {}, apps: variants[i % variants.length]! };
      credentials.push(await registerDevice(engine.database.db, device));
    }
    const simulator = await engine.simulate({
      attach: credentials,
      seed: 'undo',
      failureRate: 1,
      failingImages: [NEW],
    });
    const before = running(simulator);
    await engine.policy('undo', {
      selector: { fleets: ['undo'] },
      strategy: { batches: [50, 100], interval: '0s' },
      health,
      failurePolicy: { maxFailurePercent: 10, minSample: 2, action: 'Rollback' },
    });
    await engine.rollout('undo-1-28', { policy: 'undo' });
    const done = await engine.until('undo-1-28', (r) => expect(r.status?.phase).toBe('RolledBack'));
    expect(done.status?.rollback).toMatchObject({
      reason: 'FailureBudgetExceeded',
      devices: 6,
      restored: 6,
    });
    expect(running(simulator)).toEqual(before);
    const log = (await engine.log('default/undo-1-28')).map((entry) => entry.type);
    expect(log).toContain('image.rollback_started');
    expect(log).toContain('image.rollback_completed');
  });

  it('starts each batch of a Manual rollout only once it is approved', async () => {
    const simulator = await fleet('manual', 8);
    await engine.policy('manual', {
      selector: { fleets: ['manual'] },
      strategy: { type: 'Manual', batches: [25, 50, 100], interval: '0s' },
      health,
    });
    await engine.rollout('manual-1-28', { policy: 'manual' });
    for (const [batch, updatedBefore] of [
      [1, 0],
      [2, 2],
      [3, 4],
    ] as const) {
      await engine.until('manual-1-28', (r) => {
        expect(r.status?.phase).toBe('WaitingForApproval');
        expect(r.status?.currentBatch).toBe(batch - 1);
      });
      expect(simulator.summary().images[NEW]?.healthy ?? 0).toBe(updatedBefore);
      await engine.patch('manual-1-28', { spec: { approvedBatches: batch } });
      if (batch < 3) {
        await engine.until('manual-1-28', (r) =>
          expect(r.status?.batches?.[batch - 1]?.completedAt).toBeDefined(),
        );
      }
    }
    await engine.until('manual-1-28', (r) => expect(r.status?.phase).toBe('Succeeded'));
    expect(simulator.summary().images).toEqual({ [NEW]: { healthy: 8 } });
  });

  it('waits for a maintenance window and starts when it opens', async () => {
    const simulator = await fleet('window', 6);
    await engine.policy('window', {
      selector: { fleets: ['window'] },
      strategy: {
        batches: [50, 100],
        interval: '0s',
        maintenanceWindows: [{ schedule: '0 3 * * *', duration: '1h', timeZone: 'UTC' }],
      },
      // The controller's clock jumps a day ahead of the devices' reports: keep them online.
      health: { ...health, offlineAfter: '96h', progressDeadline: '100h' },
    });
    const today = new Date();
    const noon = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1, 12);
    engine.clock.offsetMs = noon - Date.now();
    await engine.rollout('window-1-28', { policy: 'window' });
    const waiting = await engine.until('window-1-28', (r) =>
      expect(r.status?.phase).toBe('WaitingForWindow'),
    );
    const opens = new Date(noon + 15 * 3_600_000).toISOString().replace('.000Z', 'Z');
    expect(waiting.status?.nextBatchAt).toBe(opens);
    expect(simulator.summary().images).toEqual({ [OLD]: { healthy: 6 } });
    // The window opens (the controller's clock moves; a resync picks it up).
    engine.clock.offsetMs = Date.parse(opens) + 5_000 - Date.now();
    const done = await engine.until('window-1-28', (r) =>
      expect(r.status?.phase).toBe('Succeeded'),
    );
    expect(Date.parse(done.status!.batches![0]!.startedAt!)).toBeGreaterThanOrEqual(
      Date.parse(opens),
    );
    expect(simulator.summary().images).toEqual({ [NEW]: { healthy: 6 } });
    engine.clock.offsetMs = 0;
  });

  /** 8 devices of fleet `name`, a rollout `<name>-1-28` whose first half is done, an hour to wait. */
  async function halfDone(name: string): Promise<Simulator> {
    const simulator = await fleet(name, 8);
    await engine.policy(name, {
      selector: { fleets: [name] },
      strategy: { batches: [50, 100], interval: '1h' },
      health,
    });
    await engine.rollout(`${name}-1-28`, { policy: name });
    await engine.until(`${name}-1-28`, (r) =>
      expect(condition(r, 'Progressing')?.reason).toBe('WaitingForInterval'),
    );
    return simulator;
  }

  it('rolls everything back on abort', async () => {
    const simulator = await halfDone('abort');
    expect(simulator.summary().images).toEqual({
      [OLD]: { healthy: 4 },
      [NEW]: { healthy: 4 },
    });
    await engine.patch('abort-1-28', { spec: { abort: true } });
    const done = await engine.until('abort-1-28', (r) =>
      expect(r.status?.phase).toBe('RolledBack'),
    );
    expect(done.status?.rollback).toMatchObject({ reason: 'Aborted', devices: 4, restored: 4 });
    // Restored means reporting the previous image again; it may still be starting.
    await vi.waitFor(() => expect(simulator.summary().images).toEqual({ [OLD]: { healthy: 8 } }), {
      timeout: 15_000,
      interval: 50,
    });
  });

  it('stops an older rollout when a newer one supersedes it', async () => {
    const simulator = await halfDone('newer');
    await engine.rollout('newer-1-29', {
      policy: 'newer',
      tag: '1.29',
      strategy: { batches: [50, 100], interval: '0s' },
    });
    const old = await engine.until('newer-1-28', (r) => expect(r.status?.phase).toBe('Superseded'));
    expect(old.status?.supersededBy).toBe('newer-1-29');
    await engine.until('newer-1-29', (r) => expect(r.status?.phase).toBe('Succeeded'));
    expect(simulator.summary().images).toEqual({ [`${NGINX}:1.29`]: { healthy: 8 } });
  });
});
