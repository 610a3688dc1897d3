import { FreezeEventReasons, FreezeReasons, RolloutReasons } from '../api/conditions.js';
import type { FleetFreeze, FleetFreezeStatus, ImageRollout } from '../api/types.js';
import { findCondition, setCondition } from './conditions.js';
import { freezeCovers, freezeTiming } from './freeze.js';

/** The Active condition's type on a FleetFreeze. */
export const FREEZE_ACTIVE = 'Active';
/** At most this many held rollout names in the status; `heldCount` counts them all. */
export const MAX_HELD_NAMES = 100;

/** An Event to record about a FleetFreeze. */
export interface FreezeEvent {
  type: 'Normal';
  reason: (typeof FreezeEventReasons)[keyof typeof FreezeEventReasons];
  action: string;
  note: string;
}

/** What to write for one FleetFreeze, the Events of its transition, and when to look again. */
export interface FreezePlan {
  status: FleetFreezeStatus;
  events: FreezeEvent[];
  requeueAt?: Date;
}

/**
 * The status of a FleetFreeze at `now`: Active (True while it holds; reason Active, Scheduled or
 * Ended) and the rollouts it holds — those of `rollouts` it covers whose own status says
 * `Frozen`, so the count is what the rollouts show. Pure.
 */
export function planFreeze(
  freeze: FleetFreeze,
  rollouts: readonly ImageRollout[],
  now: Date,
): FreezePlan {
  const timing = freezeTiming(freeze, now);
  const active = timing.state === 'Active';
  const held = active
    ? rollouts
        .filter((rollout) => freezeCovers(freeze, rollout) && isFrozen(rollout))
        .map((rollout) => rollout.metadata.name ?? '')
        .sort()
    : [];
  const prev = freeze.status ?? {};
  const observedGeneration = freeze.metadata.generation;
  const conditions = setCondition(
    prev.conditions,
    {
      type: FREEZE_ACTIVE,
      status: active ? 'True' : 'False',
      reason: FreezeReasons[timing.state],
      message: activeMessage(freeze, timing.state),
      observedGeneration,
    },
    now,
  );
  const status: FleetFreezeStatus = {
    observedGeneration,
    conditions,
    heldCount: held.length,
    heldRollouts: held.slice(0, MAX_HELD_NAMES),
  };
  return {
    status,
    events: transitionEvents(freeze, prev, timing.state),
    requeueAt: timing.changesAt,
  };
}

/** Whether a rollout's status says a freeze holds it. */
export function isFrozen(rollout: ImageRollout): boolean {
  return findCondition(rollout.status?.conditions, 'Progressing')?.reason === RolloutReasons.Frozen;
}

function activeMessage(freeze: FleetFreeze, state: keyof typeof FreezeReasons): string {
  const { start, end } = freeze.spec.window ?? {};
  if (state === 'Scheduled') return `Holds rollouts from ${start}${end ? ` until ${end}` : ''}`;
  if (state === 'Ended') return `The window ended at ${end}; holds nothing`;
  return end ? `Holds rollouts until ${end}` : 'Holds rollouts until the freeze is deleted';
}

/** FreezeStarted when Active turns True, FreezeLifted when it turns False after being True. */
function transitionEvents(
  freeze: FleetFreeze,
  prev: FleetFreezeStatus,
  state: keyof typeof FreezeReasons,
): FreezeEvent[] {
  const before = findCondition(prev.conditions, FREEZE_ACTIVE)?.status;
  const reason = freeze.spec.reason;
  if (state === 'Active' && before !== 'True') {
    const until = freeze.spec.window?.end ? ` until ${freeze.spec.window.end}` : '';
    const note = `Rollouts in scope start no new batch${until}: ${reason}`;
    return [{ type: 'Normal', reason: FreezeEventReasons.FreezeStarted, action: 'Freeze', note }];
  }
  if (state === 'Ended' && before === 'True') {
    const note = `The window ended at ${freeze.spec.window?.end}; held rollouts go on`;
    return [{ type: 'Normal', reason: FreezeEventReasons.FreezeLifted, action: 'Unfreeze', note }];
  }
  return [];
}
