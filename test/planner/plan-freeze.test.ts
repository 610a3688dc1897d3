import { describe, expect, it } from 'vitest';
import type { FleetFreeze, FleetFreezeSpec, ImageRollout } from '../../src/api/types.js';
import { API_VERSION } from '../../src/api/types.js';
import { planFreeze } from '../../src/planner/plan-freeze.js';
import { at, rollout } from './fixtures.js';

function freeze(spec: Partial<FleetFreezeSpec> = {}, status?: FleetFreeze['status']): FleetFreeze {
  return {
    apiVersion: API_VERSION,
    kind: 'FleetFreeze',
    metadata: { name: 'holiday', namespace: 'prod', generation: 2 },
    spec: { reason: 'Holiday change freeze', ...spec },
    status,
  };
}

/** A rollout of `policy` whose Progressing reason is `reason`. */
function held(name: string, reason: string, policy = 'web'): ImageRollout {
  const base = rollout({ policyRef: { name: policy } }, undefined, name);
  const condition = {
    type: 'Progressing',
    status: 'False' as const,
    reason,
    message: reason,
    lastTransitionTime: at(0).toISOString(),
  };
  return { ...base, status: { conditions: [condition] } };
}

const window = { start: at(10).toISOString(), end: at(20).toISOString() };
const rollouts = [
  held('b-rollout', 'Frozen'),
  held('a-rollout', 'Frozen'),
  held('paused', 'PausedByUser'),
  held('api-rollout', 'Frozen', 'api'),
];

describe('planFreeze', () => {
  it('counts the covered rollouts whose status says Frozen, by name, while active', () => {
    const plan = planFreeze(freeze({ scope: { policies: ['web'] } }), rollouts, at(0));
    expect(plan.status).toMatchObject({
      observedGeneration: 2,
      heldCount: 2,
      heldRollouts: ['a-rollout', 'b-rollout'],
    });
    expect(plan.status.conditions).toEqual([
      {
        type: 'Active',
        status: 'True',
        reason: 'Active',
        message: 'Holds rollouts until the freeze is deleted',
        lastTransitionTime: '2025-06-02T12:00:00Z',
        observedGeneration: 2,
      },
    ]);
    expect(plan.events.map((event) => event.reason)).toEqual(['FreezeStarted']);
    expect(plan.requeueAt).toBeUndefined();
  });

  it.each([
    ['before its window', at(5), 'False', 'Scheduled', at(10), 0],
    ['inside its window', at(15), 'True', 'Active', at(20), 3],
    ['after its window', at(25), 'False', 'Ended', undefined, 0],
  ])('%s', (_, now, status, reason, requeueAt, heldCount) => {
    const plan = planFreeze(freeze({ window }), rollouts, now);
    expect(plan.status.conditions?.[0]).toMatchObject({ type: 'Active', status, reason });
    expect(plan.status.heldCount).toBe(heldCount);
    expect(plan.requeueAt).toEqual(requeueAt);
  });

  it('records FreezeStarted when the window opens and FreezeLifted when it ends, once each', () => {
    const scheduled = planFreeze(freeze({ window }), [], at(5));
    expect(scheduled.events).toEqual([]);
    const opened = planFreeze(freeze({ window }, scheduled.status), [], at(10));
    expect(opened.events).toEqual([
      {
        type: 'Normal',
        reason: 'FreezeStarted',
        action: 'Freeze',
        note: `Rollouts in scope start no new batch until ${window.end}: Holiday change freeze`,
      },
    ]);
    const again = planFreeze(freeze({ window }, opened.status), [], at(15));
    expect(again.events).toEqual([]);
    expect(again.status.conditions?.[0]?.lastTransitionTime).toBe(
      opened.status.conditions?.[0]?.lastTransitionTime,
    );
    const ended = planFreeze(freeze({ window }, again.status), [], at(20));
    expect(ended.events.map((event) => event.reason)).toEqual(['FreezeLifted']);
    expect(planFreeze(freeze({ window }, ended.status), [], at(30)).events).toEqual([]);
  });

  it('lists at most 100 names but counts every held rollout', () => {
    const many = Array.from({ length: 150 }, (_, i) =>
      held(`r-${String(i).padStart(3, '0')}`, 'Frozen'),
    );
    const plan = planFreeze(freeze(), many, at(0));
    expect(plan.status.heldCount).toBe(150);
    expect(plan.status.heldRollouts).toHaveLength(100);
    expect(plan.status.heldRollouts?.[99]).toBe('r-099');
  });
});
