import { PolicyReasons } from '../api/conditions.js';
import {
  ConditionTypes,
  type ImagePolicy,
  type ImagePolicyStatus,
  type ImageRollout,
} from '../api/types.js';
import { findCondition, setCondition } from './conditions.js';
import { imageOf } from './decision.js';
import { compareAge } from './siblings.js';
import type { PlannedEvent } from './types.js';
import { describeFieldErrors, validatePolicySpec } from './validate.js';

/** Everything planPolicy decides from. */
export interface PlanPolicyInput {
  policy: ImagePolicy;
  /** How many devices the selector matches now; undefined when not counted (invalid spec). */
  selectedDevices: number | undefined;
  /** Every ImageRollout of this policy (any order). */
  rollouts: readonly ImageRollout[];
  now: Date;
}

/** The next status of an ImagePolicy and the Event of a change of its Ready condition. */
export interface PolicyPlan {
  status: ImagePolicyStatus;
  events: PlannedEvent[];
}

/**
 * Plans an ImagePolicy's status: Ready (Valid, Suspended, or InvalidSpec listing the fields —
 * a terminal condition: nothing to retry until the spec changes), the selected device count,
 * the latest image and rollout, and a newer image that rolled back. Pure.
 */
export function planPolicy(input: PlanPolicyInput): PolicyPlan {
  const { policy, now } = input;
  const prev = policy.status ?? {};
  const errors = validatePolicySpec(policy.spec);
  const ready: { status: 'True' | 'False'; reason: string; message: string } =
    errors.length > 0
      ? { status: 'False', reason: PolicyReasons.InvalidSpec, message: describeFieldErrors(errors) }
      : policy.spec.suspend
        ? {
            status: 'False',
            reason: PolicyReasons.Suspended,
            message: 'Suspended: no new rollouts',
          }
        : { status: 'True', reason: PolicyReasons.Valid, message: 'Valid; creates rollouts' };
  const observedGeneration = policy.metadata.generation;
  const condition = { type: ConditionTypes.Ready, ...ready, observedGeneration } as const;
  const status: ImagePolicyStatus = {
    observedGeneration,
    conditions: setCondition(prev.conditions, condition, now),
    selectedDevices: errors.length > 0 ? undefined : input.selectedDevices,
    ...latestImages(input.rollouts, prev),
  };
  const before = findCondition(prev.conditions, ConditionTypes.Ready);
  const changed = before?.reason !== ready.reason || before.message !== ready.message;
  const events: PlannedEvent[] =
    changed && ready.reason === PolicyReasons.InvalidSpec
      ? [
          {
            type: 'Warning',
            reason: 'InvalidConfiguration',
            action: 'Validate',
            note: ready.message,
          },
        ]
      : [];
  return { status, events };
}

/** Phases of a rollout whose image the fleet does not keep. */
const NOT_KEPT = new Set(['RollingBack', 'RolledBack', 'Failed']);

type LatestImages = Pick<
  ImagePolicyStatus,
  'latestImage' | 'latestRollout' | 'rolledBackImage' | 'rolledBackRollout'
>;

/**
 * `latestImage`: the newest rollout's image that did not roll back or fail — what the fleet runs
 * or is moving to (kept from the status when that rollout was deleted since). `rolledBackImage`:
 * the newest rollout's image when it rolled back (or is rolling back), until a newer one starts.
 */
export function latestImages(rollouts: readonly ImageRollout[], prev: ImagePolicyStatus) {
  const sorted = rollouts.toSorted(compareAge);
  const kept = sorted.findLast((rollout) => !NOT_KEPT.has(rollout.status?.phase ?? ''));
  const newest = sorted.at(-1);
  const result: LatestImages = {};
  if (kept) {
    result.latestImage = imageOf(kept);
    result.latestRollout = kept.metadata.name;
  } else if (!sorted.some((rollout) => rollout.metadata.name === prev.latestRollout)) {
    result.latestImage = prev.latestImage;
    result.latestRollout = prev.latestRollout;
  }
  const phase = newest?.status?.phase;
  if (newest && (phase === 'RollingBack' || phase === 'RolledBack')) {
    result.rolledBackImage = imageOf(newest);
    result.rolledBackRollout = newest.metadata.name;
  }
  return result;
}
