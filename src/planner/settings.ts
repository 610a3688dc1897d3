import { RolloutReasons } from '../api/conditions.js';
import type {
  DeviceSelector,
  FailurePolicy,
  HealthCheck,
  HealthPolicy,
  ImagePolicy,
  ImageRollout,
  MaintenanceWindow,
  RolloutStrategy,
} from '../api/types.js';
import { ROLLOUT_DEFAULTS } from './defaults.js';
import { parseDuration } from './duration.js';
import { describeFieldErrors, validatePolicySpec, validateRolloutSpec } from './validate.js';

/** Everything the planner and the progress query need, resolved and parsed. */
export interface RolloutSettings {
  selector: DeviceSelector;
  type: 'Staged' | 'Manual' | 'AllAtOnce';
  /** Cumulative percentages; `[100]` for AllAtOnce. */
  batches: number[];
  intervalMs: number;
  maintenanceWindows: MaintenanceWindow[];
  onNewImage: 'Supersede' | 'Queue';
  includeNewDevices: boolean;
  /** The checks the device agent runs on updated services (container running when empty). */
  healthChecks: HealthCheck[];
  /** How long a device must stay healthy on the new image before it counts as healthy. */
  soakMs: number;
  /** Time from a batch's start after which its unsettled devices count as failed. */
  progressDeadlineMs: number;
  /** A device not heard from for this long counts as offline. */
  offlineAfterMs: number;
  maxFailurePercent: number;
  minSample: number;
  failureAction: 'Pause' | 'Rollback';
  /** Batches 1..n whose failures an operator accepted: they no longer trip the budget. */
  acceptedFailureBatches: number;
}

/** Why a rollout cannot run: a terminal condition reason and a message. */
export interface SettingsProblem {
  reason:
    | typeof RolloutReasons.InvalidSpec
    | typeof RolloutReasons.PolicyNotFound
    | typeof RolloutReasons.PolicyInvalid;
  message: string;
}

/**
 * Resolves a rollout's settings. Each block (selector, strategy, health, failurePolicy) is the
 * rollout's snapshot when set, else the policy's; unset fields of the block get
 * ROLLOUT_DEFAULTS. A missing or invalid policy, or an invalid rollout spec, is a problem.
 */
export function resolveRolloutSettings(
  rollout: ImageRollout,
  policy: ImagePolicy | undefined,
): { settings: RolloutSettings } | { problem: SettingsProblem } {
  const rolloutErrors = validateRolloutSpec(rollout.spec);
  if (rolloutErrors.length > 0) {
    const message = `Invalid spec: ${describeFieldErrors(rolloutErrors)}`;
    return { problem: { reason: RolloutReasons.InvalidSpec, message } };
  }
  if (!policy) {
    const message = `ImagePolicy "${rollout.spec.policyRef.name}" not found`;
    return { problem: { reason: RolloutReasons.PolicyNotFound, message } };
  }
  const policyErrors = validatePolicySpec(policy.spec);
  if (policyErrors.length > 0) {
    const message = `ImagePolicy "${policy.metadata.name}" is invalid: ${describeFieldErrors(policyErrors)}`;
    return { problem: { reason: RolloutReasons.PolicyInvalid, message } };
  }
  return { settings: mergeSettings(rollout, policy) };
}

function mergeSettings(rollout: ImageRollout, policy: ImagePolicy): RolloutSettings {
  const strategy: RolloutStrategy = rollout.spec.strategy ?? policy.spec.strategy ?? {};
  const health: HealthPolicy = rollout.spec.health ?? policy.spec.health ?? {};
  const failure: FailurePolicy = rollout.spec.failurePolicy ?? policy.spec.failurePolicy ?? {};
  const type = strategy.type ?? ROLLOUT_DEFAULTS.type;
  return {
    selector: rollout.spec.selector ?? policy.spec.selector,
    type,
    batches: type === 'AllAtOnce' ? [100] : (strategy.batches ?? [...ROLLOUT_DEFAULTS.batches]),
    intervalMs: parseDuration(strategy.interval ?? ROLLOUT_DEFAULTS.interval),
    maintenanceWindows: strategy.maintenanceWindows ?? [],
    onNewImage: strategy.onNewImage ?? ROLLOUT_DEFAULTS.onNewImage,
    includeNewDevices: strategy.includeNewDevices ?? ROLLOUT_DEFAULTS.includeNewDevices,
    healthChecks: health.checks ?? [],
    soakMs: parseDuration(health.soakTime ?? ROLLOUT_DEFAULTS.soakTime),
    progressDeadlineMs: parseDuration(health.progressDeadline ?? ROLLOUT_DEFAULTS.progressDeadline),
    offlineAfterMs: parseDuration(health.offlineAfter ?? ROLLOUT_DEFAULTS.offlineAfter),
    maxFailurePercent: failure.maxFailurePercent ?? ROLLOUT_DEFAULTS.maxFailurePercent,
    minSample: failure.minSample ?? ROLLOUT_DEFAULTS.minSample,
    failureAction: failure.action ?? ROLLOUT_DEFAULTS.action,
    acceptedFailureBatches: rollout.spec.acceptedFailureBatches ?? 0,
  };
}
