import { PolicyReasons } from '../api/conditions.js';
import {
  ConditionTypes,
  type ImagePolicy,
  type ImagePolicyStatus,
  type ImageRollout,
} from '../api/types.js';
import { findCondition, setCondition } from './conditions.js';
import { imageOf } from './decision.js';
import type { PlannedEvent } from './types.js';
import { describeFieldErrors, validatePolicySpec } from './validate.js';

/** Everything planPolicy decides from. */
export interface PlanPolicyInput {
  policy: ImagePolicy;
  /** How many devices the selector matches now; undefined when not counted (invalid spec). */
  selectedDevices: number | undefined;
  /** The newest ImageRollout of this policy, if any. */
  latestRollout: ImageRollout | undefined;
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
 * the latest image and rollout. Pure.
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
  const latest = input.latestRollout;
  const status: ImagePolicyStatus = {
    observedGeneration,
    conditions: setCondition(prev.conditions, condition, now),
    selectedDevices: errors.length > 0 ? undefined : input.selectedDevices,
    latestImage: latest ? imageOf(latest) : prev.latestImage,
    latestRollout: latest?.metadata.name ?? prev.latestRollout,
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
