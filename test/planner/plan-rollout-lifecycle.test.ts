import { describe, expect, it } from 'vitest';
import type { ImageRollout, ImageRolloutSpec } from '../../src/api/types.js';
import { statusEqual } from '../../src/planner/conditions.js';
import {
  allHealthy,
  at,
  type Behaviour,
  editSpec,
  planAt,
  rollout,
  settle,
  step,
  type World,
  world,
} from './fixtures.js';

const updating: Behaviour = (batch, devices) =>
  batch === 1 ? { healthy: devices } : { updating: devices };

/** A rollout of nginx:1.28 created an hour after the world's 1.27 one. */
const newer = (phase?: 'RolledBack', image = 'docker.io/library/nginx') =>
  rollout({ tag: '1.28', image }, phase && { phase }, 'web-nginx-1-28', '2025-06-02T12:00:00Z');

describe('planRollout: a newer rollout of the same policy and repository', () => {
  it.each<
    [
      string,
      Partial<ImageRolloutSpec>,
      ImageRollout,
      string | undefined,
      string,
      string | undefined,
    ]
  >([
    [
      'Supersede: a running rollout folds what it delivered and stops',
      {},
      newer(),
      'Fold',
      'Superseded',
      'web-nginx-1-28',
    ],
    [
      'Queue: a running rollout goes on',
      { strategy: { onNewImage: 'Queue', interval: '1m' } },
      newer(),
      'StartBatch',
      'Progressing',
      undefined,
    ],
    [
      'another repository does not supersede',
      {},
      newer(undefined, 'ghcr.io/acme/nginx'),
      'StartBatch',
      'Progressing',
      undefined,
    ],
    [
      'a newer rollout that was rolled back does not supersede',
      {},
      newer('RolledBack'),
      'StartBatch',
      'Progressing',
      undefined,
    ],
  ])('%s', (_, spec, sibling, effect, phase, supersededBy) => {
    const w = world(100, { strategy: { interval: '1m' }, ...spec }, updating);
    settle(w, at(0));
    w.siblings = [sibling];
    const plan = step(w, at(1));
    expect(plan.effect?.type).toBe(effect);
    expect(plan.status.phase).toBe(phase);
    expect(plan.status.supersededBy).toBe(supersededBy);
  });

  it('Supersede before membership: stops without touching devices', () => {
    const w = world(100);
    w.siblings = [newer()];
    const plan = step(w, at(0));
    expect(plan.effect).toBeUndefined();
    expect(plan.status).toMatchObject({ phase: 'Superseded', supersededBy: 'web-nginx-1-28' });
    expect(plan.events.map((e) => e.reason)).toEqual(['RolloutSuperseded']);
    expect(plan.requeueAt).toBeUndefined();
  });

  it.each<[string, 'Supersede' | 'Queue']>([
    ['Supersede', 'Supersede'],
    ['Queue', 'Queue'],
  ])('%s: the newer rollout waits until the older one is terminal', (_, onNewImage) => {
    const older = world(100, { strategy: { onNewImage, interval: '1m' } }, updating);
    settle(older, at(0));
    const next: World = { ...world(100), rollout: newer() };
    next.siblings = [older.rollout];
    const queued = step(next, at(1));
    expect(queued.effect).toBeUndefined();
    expect(queued.status).toMatchObject({
      phase: 'Pending',
      message: 'Queued behind ImageRollout web-nginx-1-27',
    });
    expect(queued.requeueAt).toBeUndefined();

    older.siblings = [next.rollout];
    older.behaviour = allHealthy;
    for (const minute of [2, 4, 6]) settle(older, at(minute));
    expect(older.rollout.status?.phase).toBe(onNewImage === 'Queue' ? 'Succeeded' : 'Superseded');
    next.siblings = [older.rollout];
    expect(step(next, at(3)).effect?.type).toBe('CreateMembership');
  });
});

describe('planRollout: spec edits mid-rollout never move started devices', () => {
  it.each<[string, Partial<ImageRolloutSpec>, number[], number[]]>([
    [
      'finer steps after 50%',
      { strategy: { batches: [10, 20, 30, 60, 80, 100] } },
      [100, 500, 600, 800, 1000],
      [10, 50, 60, 80, 100],
    ],
    [
      'AllAtOnce finishes in one batch',
      { strategy: { type: 'AllAtOnce' } },
      [100, 500, 1000],
      [10, 50, 100],
    ],
    ['fewer steps', { strategy: { batches: [75, 100] } }, [100, 500, 750, 1000], [10, 50, 75, 100]],
  ])('%s', (_, edit, ends, percents) => {
    const w = world(1000, { strategy: { interval: '1m' } }, updating);
    settle(w, at(0));
    settle(w, at(2));
    expect(w.rollout.status?.currentBatch).toBe(2);
    editSpec(w, edit);
    const plan = step(w, at(3));
    if (ends.length === 3) {
      expect(plan.effect).toBeUndefined();
    } else {
      expect(plan.effect).toEqual({ type: 'Rebatch', startedBatches: 2, batchEnds: ends });
      expect(plan.events.map((e) => e.reason)).toEqual(['BatchesReplanned']);
    }
    expect(plan.status.batches?.map((b) => b.percent)).toEqual(percents);
    expect(plan.status.batches?.slice(0, 2).map((b) => [b.devices, b.updated])).toEqual([
      [100, 100],
      [400, 400],
    ]);
    const after = step(w, at(4));
    expect(after.effect).toBeUndefined();
    expect(after.status.totalBatches).toBe(ends.length);
    expect(after.status.phase).toBe('Progressing');
  });

  it('an edit before membership plans with the new batches', () => {
    const w = world(1000);
    editSpec(w, { strategy: { batches: [20, 100] } });
    expect(step(w, at(0)).effect).toMatchObject({
      type: 'CreateMembership',
      percentages: [20, 100],
    });
  });
});

describe('planRollout: pause and resume through spec.paused', () => {
  it('paused before the start: selects no device until resumed', () => {
    const w = world(100, { paused: true });
    const paused = step(w, at(0));
    expect(paused.effect).toBeUndefined();
    expect(paused.status.phase).toBe('Paused');
    expect(paused.events.map((e) => e.reason)).toEqual(['RolloutPaused']);
    editSpec(w, { paused: false });
    const resumed = step(w, at(1));
    expect(resumed.effect?.type).toBe('CreateMembership');
    expect(resumed.events.map((e) => e.reason)).toEqual(['RolloutStarted', 'RolloutResumed']);
  });

  it('paused mid-batch: the batch finishes, the next one waits for the resume', () => {
    const w = world(100, { strategy: { interval: '1m' } }, updating);
    settle(w, at(0));
    settle(w, at(2));
    editSpec(w, { paused: true });
    const paused = step(w, at(3));
    expect(paused.status).toMatchObject({ phase: 'Paused', currentBatch: 2 });
    expect(paused.requeueAt).toEqual(at(12));
    w.behaviour = allHealthy;
    const finished = step(w, at(10));
    expect(finished.effect).toBeUndefined();
    expect(finished.events.map((e) => e.reason)).toEqual(['BatchCompleted']);
    expect(step(w, at(60)).effect).toBeUndefined();
    editSpec(w, { paused: false });
    const resumed = step(w, at(61));
    expect(resumed.effect).toEqual({ type: 'StartBatch', batch: 3, devices: 50 });
    expect(resumed.events.map((e) => e.reason)).toEqual(['BatchStarted', 'RolloutResumed']);
  });
});

describe('planRollout: idempotent and free of hot loops', () => {
  const scenarios: Array<[string, () => World, string]> = [
    [
      'staged with interval, soak and offline devices',
      () =>
        world(500, { strategy: { interval: '7m' } }, (batch, devices, now) =>
          now.getTime() < at(batch * 20).getTime()
            ? { soaking: devices - 1, offline: 1, soakingUntil: at(batch * 20) }
            : { healthy: devices - 1, offline: 1 },
        ),
      'Succeeded',
    ],
    [
      'manual with windows',
      () =>
        world(50, {
          strategy: {
            type: 'Manual',
            maintenanceWindows: [{ schedule: '0 */6 * * *', duration: '1h' }],
          },
          approvedBatches: 2,
        }),
      'WaitingForApproval',
    ],
    ['failure budget pause', () => world(100, {}, () => ({ healthy: 3, failed: 7 })), 'Paused'],
    ['missing policy', () => ({ ...world(100), policy: undefined }), 'Failed'],
  ];

  it.each(scenarios)('%s: every pass is a fixed point of its own status', (_, make, phase) => {
    const w = make();
    for (let minute = 0; minute < 24 * 60; minute += 7) {
      const now = at(minute);
      const plan = settle(w, now);
      if (plan.requeueAt) expect(plan.requeueAt.getTime()).toBeGreaterThan(now.getTime());
      const again = planAt(w, now);
      expect(again.effect).toBeUndefined();
      expect(again.events).toEqual([]);
      expect(again.log).toEqual([]);
      expect(statusEqual(again.status, w.rollout.status)).toBe(true);
      expect(again.requeueAt).toEqual(plan.requeueAt);
      const later = planAt(w, new Date(now.getTime() + 1000));
      const transitions = (status = w.rollout.status) =>
        status?.conditions?.map((c) => c.lastTransitionTime);
      expect(transitions(later.status)).toEqual(transitions());
      for (const [i, batch] of (w.rollout.status?.batches ?? []).entries()) {
        expect(later.status.batches?.[i]?.startedAt).toBe(batch.startedAt);
        expect(later.status.batches?.[i]?.completedAt).toBe(batch.completedAt);
      }
    }
    expect(w.rollout.status?.phase).toBe(phase);
  });

  it('is pure: the same input gives the same plan', () => {
    const w = world(100, { strategy: { interval: '5m' } });
    settle(w, at(0));
    expect(planAt(w, at(2))).toEqual(planAt(w, at(2)));
  });
});
