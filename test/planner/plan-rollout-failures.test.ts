import { describe, expect, it } from 'vitest';
import type { ImagePolicySpec, ImageRolloutSpec } from '../../src/api/types.js';
import { planRollout } from '../../src/planner/plan-rollout.js';
import {
  at,
  type Behaviour,
  editSpec,
  policy,
  rollout,
  settle,
  step,
  type World,
  world,
} from './fixtures.js';

const batchOne =
  (counts: ReturnType<Behaviour>): Behaviour =>
  (batch, devices) =>
    batch === 1 ? counts : { healthy: devices };

/** Plans the membership and the start of batch 1 at minute 0. */
const startFirstBatch = (w: World) => {
  step(w, at(0));
  step(w, at(0));
};

const condition = (plan: ReturnType<typeof step>, type: string) =>
  plan.status.conditions?.find((c) => c.type === type);

describe('planRollout: the failure budget (max 10%, min sample 5 by default)', () => {
  it.each<[string, number, Partial<ImageRolloutSpec>, Behaviour, string, string]>([
    [
      'failures above the budget pause the rollout',
      100,
      {},
      batchOne({ healthy: 5, failed: 5 }),
      'Paused',
      'FailureBudgetExceeded',
    ],
    [
      'below the minimum sample the budget cannot trip',
      100,
      {},
      batchOne({ failed: 2, updating: 8 }),
      'Progressing',
      'BatchInProgress',
    ],
    [
      'soaking devices count as reporting healthy',
      100,
      {},
      batchOne({ soaking: 9, failed: 1 }),
      'Progressing',
      'BatchInProgress',
    ],
    [
      'exactly at the budget does not trip',
      200,
      {},
      batchOne({ healthy: 17, soaking: 1, failed: 2 }),
      'Progressing',
      'BatchInProgress',
    ],
    [
      'a batch smaller than the sample trips once all its devices reported',
      30,
      {},
      batchOne({ healthy: 1, failed: 2 }),
      'Paused',
      'FailureBudgetExceeded',
    ],
    [
      'offline devices are kept out of the rate',
      150,
      {},
      batchOne({ healthy: 9, failed: 1, offline: 5 }),
      'Progressing',
      'BatchWaitingOnOfflineDevices',
    ],
    [
      'the minimum sample from the spec applies',
      100,
      { failurePolicy: { minSample: 8 } },
      batchOne({ healthy: 2, failed: 5, updating: 3 }),
      'Progressing',
      'BatchInProgress',
    ],
    [
      'a budget of 0% trips on the first failure once sampled',
      100,
      { failurePolicy: { maxFailurePercent: 0, minSample: 1 } },
      batchOne({ failed: 1, updating: 9 }),
      'Paused',
      'FailureBudgetExceeded',
    ],
  ])('%s', (_, members, spec, behaviour, phase, reason) => {
    const w = world(members, spec, behaviour);
    settle(w, at(0));
    const plan = step(w, at(1));
    expect(plan.status.phase).toBe(phase);
    expect(condition(plan, 'Progressing')?.reason).toBe(reason);
    expect(plan.effect).toBeUndefined();
  });

  it('pausing on the budget is Degraded, schedules nothing and warns once', () => {
    const w = world(100, {}, batchOne({ healthy: 5, failed: 5 }));
    startFirstBatch(w);
    const plan = step(w, at(1));
    expect(condition(plan, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'FailureBudgetExceeded',
    });
    expect(condition(plan, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'FailureBudgetExceeded',
    });
    expect(plan.status.message).toBe(
      'Paused, batch 1: 5 failed, 50% of the 10 devices that reported, above the 10% budget (5 healthy, 5 failed, 0 offline of 10 devices)',
    );
    expect(plan.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'FailureBudgetExceeded' }),
    ]);
    expect(plan.log.map((entry) => entry.type)).toEqual(['image.rollout_paused']);
    expect(plan.requeueAt).toBeUndefined();
    const again = step(w, at(60));
    expect(again.effect).toBeUndefined();
    expect(again.events).toEqual([]);
    expect(again.status.currentBatch).toBe(1);
  });

  it('raising the budget on the rollout resumes it', () => {
    const w = world(100, {}, batchOne({ healthy: 5, failed: 5 }));
    settle(w, at(0));
    step(w, at(1));
    editSpec(w, { failurePolicy: { maxFailurePercent: 60 } });
    const plan = step(w, at(2));
    expect(plan.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 40 });
    expect(plan.events.map((e) => e.reason)).toEqual([
      'BatchCompleted',
      'BatchStarted',
      'RolloutResumed',
    ]);
    expect(condition(plan, 'Degraded')).toMatchObject({
      status: 'False',
      reason: 'WithinFailureBudget',
    });
    expect(plan.status.observedGeneration).toBe(2);
  });

  it('with action Rollback: rolls every started device back, then reports the restore', () => {
    const w = world(
      100,
      { failurePolicy: { action: 'Rollback' } },
      batchOne({ healthy: 5, failed: 5 }),
    );
    startFirstBatch(w);
    const start = step(w, at(1));
    expect(start.effect).toEqual({ type: 'RollBack', reason: 'FailureBudgetExceeded' });
    expect(start.status).toMatchObject({
      phase: 'RollingBack',
      rollback: {
        reason: 'FailureBudgetExceeded',
        devices: 10,
        restored: 0,
        startedAt: '2025-06-02T12:01:00Z',
      },
    });
    expect(start.events.map((e) => [e.type, e.reason])).toEqual([['Warning', 'RollbackStarted']]);
    expect(start.log.map((entry) => entry.type)).toEqual(['image.rollback_started']);
    expect(condition(start, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'FailureBudgetExceeded',
    });

    w.rollback = { devices: 10, restored: 4, offline: 0 };
    const half = step(w, at(2));
    expect(half.effect).toBeUndefined();
    expect(half.status.phase).toBe('RollingBack');
    expect(half.status.message).toBe('Rolling back (FailureBudgetExceeded): 4/10 devices restored');

    w.rollback = { devices: 10, restored: 8, offline: 2 };
    const done = step(w, at(3));
    expect(done.status).toMatchObject({
      phase: 'RolledBack',
      completedAt: '2025-06-02T12:03:00Z',
      rollback: {
        devices: 10,
        restored: 8,
        startedAt: '2025-06-02T12:01:00Z',
        completedAt: '2025-06-02T12:03:00Z',
      },
    });
    expect(condition(done, 'Ready')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    expect(condition(done, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'FailureBudgetExceeded',
    });
    expect(done.log.map((entry) => entry.type)).toEqual(['image.rollback_completed']);
    expect(done.requeueAt).toBeUndefined();

    const after = step(w, at(90));
    expect(after).toEqual({ status: done.status, events: [], log: [] });
  });

  it('a rollback after a crash before its status write still reports its reason', () => {
    const w = world(
      100,
      { failurePolicy: { action: 'Rollback' } },
      batchOne({ healthy: 5, failed: 5 }),
    );
    settle(w, at(0));
    const statusBefore = w.rollout.status;
    step(w, at(1));
    w.rollout = { ...w.rollout, status: statusBefore };
    w.rollback = { devices: 10, restored: 0, offline: 0 };
    const plan = step(w, at(2));
    expect(plan.effect).toBeUndefined();
    expect(plan.status.rollback).toMatchObject({ reason: 'FailureBudgetExceeded', devices: 10 });
  });
});

describe('planRollout: abort', () => {
  it.each<[string, number[], number, string, string | undefined]>([
    ['before membership: nothing to restore', [], 0, 'RolledBack', undefined],
    ['with membership but no batch started', [0], 0, 'RollingBack', 'RollBack'],
    ['after batch 2 started: rolls back batches 1 and 2', [0, 2], 50, 'RollingBack', 'RollBack'],
  ])('%s', (_, settleAt, devices, phase, effect) => {
    const w = world(100, { strategy: { interval: '1m' } }, (b, n) =>
      b === 1 ? { healthy: n } : { updating: n },
    );
    for (const minute of settleAt) settle(w, at(minute));
    if (settleAt.length === 1) w.target = { startedBatches: 0, state: 'active' };
    editSpec(w, { abort: true });
    const plan = step(w, at(5));
    expect(plan.effect?.type).toBe(effect);
    expect(plan.status.phase).toBe(phase);
    expect(plan.status.rollback).toMatchObject({ reason: 'Aborted', devices });
    expect(condition(plan, 'Degraded')).toMatchObject({ status: 'True', reason: 'Aborted' });
  });

  it('wins over a failure-budget pause and over spec.paused', () => {
    const w = world(100, { paused: false }, batchOne({ healthy: 5, failed: 5 }));
    settle(w, at(0));
    expect(step(w, at(1)).status.phase).toBe('Paused');
    editSpec(w, { abort: true, paused: true });
    expect(step(w, at(2)).effect).toEqual({ type: 'RollBack', reason: 'Aborted' });
  });
});

describe('planRollout: configuration problems are terminal conditions', () => {
  const missingPolicy = (w: World) => {
    w.policy = undefined;
  };
  const badCron = (w: World) => {
    w.policy = policy({
      strategy: { maintenanceWindows: [{ schedule: 'nightly', duration: '1h' }] },
    });
  };
  const badTag = (w: World) => editSpec(w, { tag: 'not a tag' });

  it.each<[string, (w: World) => void, boolean, string, RegExp]>([
    [
      'a missing policy before the start',
      missingPolicy,
      false,
      'PolicyNotFound',
      /ImagePolicy "web" not found/,
    ],
    ['a policy deleted mid-rollout', missingPolicy, true, 'PolicyNotFound', /not found/],
    [
      'an invalid policy',
      badCron,
      false,
      'PolicyInvalid',
      /spec.strategy.maintenanceWindows\[0\]: invalid cron/,
    ],
    ['an invalid rollout spec', badTag, true, 'InvalidSpec', /spec.image/],
    [
      'a policy whose devices would go offline only after the deadline',
      (w) => {
        w.policy = policy({ health: { offlineAfter: '45m' } });
      },
      true,
      'PolicyInvalid',
      /^ImagePolicy "web" is invalid: spec.health.offlineAfter: must be shorter than progressDeadline/,
    ],
    [
      'a rollout whose devices would go offline only after the deadline',
      (w) =>
        editSpec(w, { tag: 'not a tag', health: { offlineAfter: '1h', progressDeadline: '1h' } }),
      false,
      'InvalidSpec',
      /^Invalid spec: spec.image: .*; spec.health.offlineAfter: must be shorter than progressDeadline \("1h"\), got "1h"$/,
    ],
  ])('%s', (_, breakIt, started, reason, message) => {
    const w = world(100, { strategy: { interval: '1h' } });
    if (started) settle(w, at(0));
    breakIt(w);
    const plan = step(w, at(1));
    expect(plan.effect).toBeUndefined();
    expect(plan.requeueAt).toBeUndefined();
    expect(plan.status.phase).toBe('Failed');
    expect(plan.status.message).toMatch(message);
    expect(condition(plan, 'Ready')).toMatchObject({ status: 'False', reason });
    expect(condition(plan, 'Progressing')).toMatchObject({ status: 'False', reason });
    expect(condition(plan, 'Degraded')).toMatchObject({ status: 'True', reason });
    expect(plan.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'InvalidConfiguration' }),
    ]);
    expect(plan.status.currentBatch).toBe(started ? 1 : 0);
    expect(plan.status.batches?.[0]?.healthy).toBe(started ? 10 : undefined);
    expect(step(w, at(2)).events).toEqual([]);
  });

  it('goes on where it stopped once the policy is back', () => {
    const w = world(100, { strategy: { interval: '1h' } });
    settle(w, at(0));
    w.policy = undefined;
    step(w, at(1));
    w.policy = policy();
    const plan = step(w, at(61));
    expect(plan.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 40 });
    expect(plan.status.phase).toBe('Progressing');
  });
});

describe('planRollout: terminal phases stay terminal', () => {
  it.each<[string, Partial<ImagePolicySpec>]>([
    ['Succeeded', {}],
    ['RolledBack', {}],
    ['Superseded', {}],
  ])('%s ignores abort, pause and a missing policy', (phase) => {
    const done = rollout(
      { abort: true, paused: true },
      { phase: phase as 'Succeeded', observedGeneration: 1, message: 'done' },
    );
    done.metadata.generation = 3;
    const plan = planRollout({
      rollout: done,
      policy: undefined,
      target: { startedBatches: 1, state: 'active' },
      progress: [],
      now: at(0),
    });
    expect(plan).toEqual({
      status: { phase, observedGeneration: 3, message: 'done' },
      events: [],
      log: [],
    });
  });

  it('a crash after the fold and before the status write still ends Succeeded', () => {
    const w = world(100);
    settle(w, at(0));
    expect(w.rollout.status?.phase).toBe('Succeeded');
    const status = { ...w.rollout.status, phase: 'Progressing' as const, completedAt: undefined };
    w.rollout = { ...w.rollout, status };
    const plan = step(w, at(1));
    expect(plan.effect).toBeUndefined();
    expect(plan.status.phase).toBe('Succeeded');
    expect(plan.status.completedAt).toBe('2025-06-02T12:01:00Z');
  });
});

describe('planRollout: the minimum sample and the budget of finished batches', () => {
  /** Batch 1 counts `before` until minute `until`, then `after`; later batches keep updating. */
  const batchOneChanges =
    (until: number, before: ReturnType<Behaviour>, after: ReturnType<Behaviour>): Behaviour =>
    (batch, devices, now) => {
      if (batch > 1) return { updating: devices };
      return now.getTime() < at(until).getTime() ? before : after;
    };

  it.each<[string, number, ReturnType<Behaviour>, string]>([
    ['2 of 10 reported, both failed: below the sample of 3', 100, { failed: 2 }, 'Progressing'],
    ['3 of 10 reported, 2 failed: judged', 100, { failed: 2, healthy: 1 }, 'Paused'],
    [
      'a batch of 2, one failed, one updating: not judged yet',
      20,
      { failed: 1, updating: 1 },
      'Progressing',
    ],
    [
      'a batch of 2, one failed, one offline: every online device reported',
      20,
      { failed: 1, offline: 1 },
      'Paused',
    ],
    [
      'a batch of 10, 2 online devices, both failed: every online device reported',
      100,
      { failed: 2, offline: 8 },
      'Paused',
    ],
    [
      'a batch of 10, 3 online devices, 2 reported: not judged yet',
      100,
      { failed: 1, healthy: 1, updating: 1, offline: 7 },
      'Progressing',
    ],
  ])('%s', (_, members, counts, phase) => {
    const w = world(members, {}, batchOne(counts));
    settle(w, at(0));
    expect(step(w, at(5)).status.phase).toBe(phase);
  });

  it.each<[string, Partial<ImageRolloutSpec>, string, string | undefined]>([
    ['Pause', {}, 'Paused', undefined],
    ['Rollback', { failurePolicy: { action: 'Rollback' } }, 'RollingBack', 'RollBack'],
  ])('failures in a finished batch trip the budget later (%s)', (_, spec, phase, effect) => {
    const w = world(100, spec, batchOneChanges(10, { healthy: 10 }, { healthy: 5, failed: 5 }));
    settle(w, at(0));
    expect(w.rollout.status?.currentBatch).toBe(2);
    expect(step(w, at(5)).status.phase).toBe('Progressing');
    const plan = step(w, at(10));
    expect(plan.status.phase).toBe(phase);
    expect(plan.effect?.type).toBe(effect);
    expect(plan.status.message).toMatch(
      /batch 1: 5 failed, 50% of the 10 devices that reported, above the 10% budget \(5 healthy, 5 failed, 0 offline of 10 devices\)$/,
    );
    if (effect) expect(plan.status.rollback?.devices).toBe(50);
  });

  it.each<[string, ReturnType<Behaviour>, ReturnType<Behaviour>]>([
    ['some', { healthy: 8, offline: 2 }, { healthy: 8, scheduled: 1, updating: 1 }],
    ['only', { offline: 10 }, { scheduled: 2, updating: 1, offline: 7 }],
  ])(
    'a batch that completed with %s devices offline is not failed by their late return',
    (_, atDeadline, back) => {
      const w = world(100, {}, batchOneChanges(40, atDeadline, back));
      settle(w, at(0));
      const completed = step(w, at(30));
      expect(completed.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 40 });
      const plan = step(w, at(40));
      expect(plan.status.phase).toBe('Progressing');
      expect(plan.effect).toBeUndefined();
      expect(plan.status.batches?.[0]).toMatchObject({
        failed: 0,
        completedAt: '2025-06-02T12:30:00Z',
      });
    },
  );
});

describe('planRollout: devices that go silent on the new image (it broke their network)', () => {
  /** Every started device reports the new image, then is silent: offline 10 minutes on. */
  const goDark =
    (w: () => World): Behaviour =>
    (batch, devices, now) => {
      const startedAt = w().rollout.status?.batches?.[batch - 1]?.startedAt;
      const running = now.getTime() - Date.parse(startedAt ?? now.toISOString());
      return running < 10 * 60_000
        ? { updating: devices }
        : { offline: devices, offlineOnNewImage: devices };
    };

  /** Settles the world every 5 minutes from `from` to `to`; the effects applied, in order. */
  const run = (w: World, from: number, to: number) => {
    const effects: string[] = [];
    for (let minute = from; minute <= to; minute += 5) {
      for (let pass = 0; pass < 10; pass++) {
        const plan = step(w, at(minute));
        if (plan.effect) effects.push(plan.effect.type);
        if (plan.requeueAt?.getTime() !== at(minute).getTime()) break;
      }
    }
    return effects;
  };

  it.each<[string, Partial<ImageRolloutSpec>, string, string[], RegExp]>([
    [
      'Pause',
      {},
      'Paused',
      [],
      /^Paused, batch 1: 10 failed, 100% of the 10 devices that reported/,
    ],
    [
      'Rollback',
      { failurePolicy: { action: 'Rollback' } },
      'RollingBack',
      ['RollBack'],
      /^Rolling back \(FailureBudgetExceeded\): 0\/10 devices restored/,
    ],
  ])('stop the rollout at batch 1 (%s)', (_, spec, phase, effects, message) => {
    const w: World = world(100, spec);
    w.behaviour = goDark(() => w);
    expect(run(w, 0, 25)).toEqual(['CreateMembership', 'StartBatch']);
    expect(w.rollout.status?.batches?.[0]).toMatchObject({ failed: 0, offline: 10 });
    expect(w.rollout.status?.message).toMatch(/waits for 10 offline devices/);
    expect(run(w, 30, 120)).toEqual(effects);
    expect(w.rollout.status?.phase).toBe(phase);
    expect(w.rollout.status?.currentBatch).toBe(1);
    expect(w.rollout.status?.message).toMatch(message);
  });

  it('stays paused while they stay silent', () => {
    const w = world(100, {}, batchOne({ healthy: 8, offline: 2, offlineOnNewImage: 2 }));
    settle(w, at(0));
    expect(step(w, at(30)).status.phase).toBe('Paused');
    for (const minute of [40, 60, 240]) {
      const plan = step(w, at(minute));
      expect(plan.status.phase).toBe('Paused');
      expect(plan.status.batches?.[0]).toMatchObject({ healthy: 8, failed: 2, offline: 0 });
      expect(plan.events).toEqual([]);
    }
  });

  it('a batch within the budget completes counting them failed, in status and event alike', () => {
    const w = world(200, {}, batchOne({ healthy: 17, offline: 3, offlineOnNewImage: 1 }));
    settle(w, at(0));
    const plan = step(w, at(30));
    expect(plan.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 80 });
    const counts = { devices: 20, healthy: 17, failed: 1, offline: 2 };
    expect(plan.status.batches?.[0]).toMatchObject({ ...counts, updated: 17, pending: 0 });
    expect(plan.status.failed).toBe(1);
    expect(plan.log).toContainEqual({
      type: 'image.batch_completed',
      subject: 'prod/web-nginx-1-27',
      payload: { reason: 'BatchCompleted', batch: 1, ...counts },
    });
    expect(plan.events).toContainEqual(
      expect.objectContaining({
        reason: 'BatchCompleted',
        note: 'Batch 1/3 completed: 17 healthy, 1 failed, 2 offline of 20 devices',
      }),
    );
  });
});
