import { describe, expect, it } from 'vitest';
import type { ImageRolloutSpec } from '../../src/api/types.js';
import type { RolloutPlan } from '../../src/planner/types.js';
import { at, type Behaviour, editSpec, settle, step, type World, world } from './fixtures.js';

const condition = (plan: RolloutPlan, type: string) =>
  plan.status.conditions?.find((c) => c.type === type);
const reasons = (plan: RolloutPlan) => plan.events.map((event) => event.reason);

/**
 * Batch 1 (10 devices) has 3 devices still updating at the 30-minute progress deadline, which
 * then count as failed (30% > the default 10% budget); from minute `recovers` on they report
 * healthy, so the counts alone would fall back under the budget. Later batches are healthy.
 */
const lateDevices =
  (recovers: number): Behaviour =>
  (batch, devices, now) => {
    if (batch > 1) return { healthy: devices };
    return now.getTime() < at(recovers).getTime() ? { healthy: 7, updating: 3 } : { healthy: 10 };
  };

/** A rollout of 100 devices paused at minute 30 on batch 1's failure budget. */
const pausedOnBudget = (recovers: number): World => {
  const w = world(100, {}, lateDevices(recovers));
  settle(w, at(0));
  const paused = step(w, at(30));
  expect(paused.status.phase).toBe('Paused');
  expect(condition(paused, 'Progressing')?.reason).toBe('FailureBudgetExceeded');
  return w;
};

const expectStillPaused = (plan: RolloutPlan, generation: number) => {
  expect(plan.effect).toBeUndefined();
  expect(plan.status).toMatchObject({ phase: 'Paused', currentBatch: 1 });
  expect(plan.status.observedGeneration).toBe(generation);
  expect(condition(plan, 'Progressing')).toMatchObject({
    status: 'False',
    reason: 'FailureBudgetExceeded',
    observedGeneration: generation,
  });
  expect(condition(plan, 'Degraded')).toMatchObject({
    status: 'True',
    reason: 'FailureBudgetExceeded',
  });
  expect(reasons(plan)).not.toContain('RolloutResumed');
  expect(plan.log.map((entry) => entry.type)).not.toContain('image.rollout_resumed');
};

describe('planRollout: a failure-budget pause holds until the spec changes', () => {
  it('counts falling back under the budget do not lift it', () => {
    const w = pausedOnBudget(40);
    for (const minute of [40, 41, 120]) {
      const plan = step(w, at(minute));
      expectStillPaused(plan, 1);
      expect(plan.status.batches?.[0]).toMatchObject({ healthy: 10, failed: 0 });
      expect(plan.status.message).toBe(
        'Paused, batch 1: 3 failed, 30% of the 10 devices that reported, above the 10% budget (7 healthy, 3 failed, 0 offline of 10 devices)',
      );
    }
  });

  it('the last batch falling back under the budget does not make the rollout succeed', () => {
    const w = world(10, { strategy: { type: 'AllAtOnce' } }, lateDevices(40));
    settle(w, at(0));
    expect(step(w, at(30)).status.phase).toBe('Paused');
    const plan = step(w, at(40));
    expectStillPaused(plan, 1);
    expect(plan.status.batches?.[0]).toMatchObject({ healthy: 10, failed: 0 });
    editSpec(w, { paused: false });
    expect(step(w, at(41))).toMatchObject({
      effect: { type: 'Fold' },
      status: { phase: 'Succeeded' },
    });
  });

  it.each<[string, Partial<ImageRolloutSpec>, string, string[]]>([
    [
      'raising the budget resumes with the next batch',
      { failurePolicy: { maxFailurePercent: 50 } },
      'Progressing',
      ['BatchStarted', 'RolloutResumed'],
    ],
    [
      'an unrelated change re-evaluates: the budget holds now, so it resumes',
      { approvedBatches: 0 },
      'Progressing',
      ['BatchStarted', 'RolloutResumed'],
    ],
    [
      'spec.paused turns it into a pause by the user',
      { paused: true },
      'Paused',
      ['RolloutPaused'],
    ],
  ])('after the counts fell back, %s', (_, spec, phase, events) => {
    const w = pausedOnBudget(40);
    step(w, at(40));
    editSpec(w, spec);
    const plan = step(w, at(41));
    expect(plan.status.phase).toBe(phase);
    expect(plan.status.observedGeneration).toBe(2);
    expect(condition(plan, 'Degraded')).toMatchObject({
      status: 'False',
      reason: 'WithinFailureBudget',
    });
    expect(reasons(plan)).toEqual(events);
    if (phase === 'Progressing')
      expect(plan.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 40 });
  });

  it('raising the budget above the failures still counted resumes', () => {
    const w = pausedOnBudget(1_000);
    editSpec(w, { failurePolicy: { maxFailurePercent: 30 } });
    const plan = step(w, at(31));
    expect(plan.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 40 });
    expect(reasons(plan)).toEqual(['BatchCompleted', 'BatchStarted', 'RolloutResumed']);
  });

  it('an unrelated change while still over the budget pauses again, at the new generation', () => {
    const w = pausedOnBudget(60);
    editSpec(w, { approvedBatches: 0 });
    const repaused = step(w, at(45));
    expectStillPaused(repaused, 2);
    expect(repaused.events).toEqual([]);
    // The pause observed at generation 2 holds as well once the counts fall back.
    for (const minute of [60, 90]) expectStillPaused(step(w, at(minute)), 2);
  });
});

describe('planRollout: spec.acceptedFailureBatches continues after a failure-budget pause', () => {
  /** Batch 1 has 3 of 10 failed for good; later batches fail as `later` says. */
  const finalFailures =
    (later: Partial<Record<'healthy' | 'failed', number>> | 'healthy'): Behaviour =>
    (batch, devices) => {
      if (batch === 1) return { healthy: 7, failed: 3 };
      return later === 'healthy' ? { healthy: devices } : later;
    };

  it('accepting the tripped batch starts the next one, the failures stay counted', () => {
    const w = world(100, {}, finalFailures('healthy'));
    settle(w, at(0));
    expect(step(w, at(1)).status.phase).toBe('Paused');
    // Without acceptance a change judges the counts again and pauses again.
    editSpec(w, { paused: false, approvedBatches: 0 });
    expect(step(w, at(2)).status.phase).toBe('Paused');
    editSpec(w, { acceptedFailureBatches: 1 });
    const plan = step(w, at(3));
    expect(plan.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 40 });
    expect(plan.status.phase).toBe('Progressing');
    expect(plan.status.batches?.[0]).toMatchObject({ healthy: 7, failed: 3 });
    expect(condition(plan, 'Degraded')).toMatchObject({
      status: 'False',
      reason: 'WithinFailureBudget',
    });
    expect(reasons(plan)).toContain('RolloutResumed');
  });

  it('later batches keep their budget', () => {
    const w = world(100, {}, finalFailures({ healthy: 30, failed: 10 }));
    settle(w, at(0));
    expect(step(w, at(1)).status.phase).toBe('Paused');
    editSpec(w, { acceptedFailureBatches: 1 });
    expect(step(w, at(2)).effect).toEqual({ type: 'StartBatch', batch: 2, devices: 40 });
    const plan = step(w, at(3));
    expect(plan.status.phase).toBe('Paused');
    expect(plan.status.message).toMatch(/^Paused, batch 2: 10 failed/);
  });
});
