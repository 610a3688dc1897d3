import semver from 'semver';
import { InvalidImageReference, parseImageReference } from '../api/image-reference.js';
import type {
  DeviceSelector,
  FailurePolicy,
  HealthPolicy,
  ImagePolicySpec,
  ImageRolloutSpec,
  RolloutStrategy,
} from '../api/types.js';
import { ROLLOUT_DEFAULTS } from './defaults.js';
import { parseDuration } from './duration.js';
import { hasMatchingRules } from './selector.js';
import { windowProblem } from './windows.js';

/** One invalid field: its path from the resource root (`spec.strategy.batches`) and why. */
export interface FieldError {
  field: string;
  message: string;
}

/** Checks an ImagePolicy spec beyond what the CRD schema can: cron, time zones, semver, … */
export function validatePolicySpec(spec: ImagePolicySpec): FieldError[] {
  const errors: FieldError[] = [];
  if (!spec.image) errors.push({ field: 'spec.image', message: 'must not be empty' });
  if (spec.tags?.semver !== undefined && semver.validRange(spec.tags.semver) === null) {
    errors.push({
      field: 'spec.tags.semver',
      message: `invalid semver range "${spec.tags.semver}"`,
    });
  }
  if (spec.tags?.pattern === '') {
    errors.push({ field: 'spec.tags.pattern', message: 'must not be empty when set' });
  }
  errors.push(...selectorErrors(spec.selector, 'spec.selector', true));
  errors.push(...sharedErrors(spec));
  return errors;
}

/** Checks an ImageRollout spec: the image reference and the snapshot fields it sets. */
export function validateRolloutSpec(spec: ImageRolloutSpec): FieldError[] {
  const errors: FieldError[] = [];
  if (!spec.policyRef?.name) {
    errors.push({ field: 'spec.policyRef.name', message: 'must not be empty' });
  }
  try {
    const digest = spec.digest ? `@${spec.digest}` : '';
    const reference = parseImageReference(`${spec.image}:${spec.tag}${digest}`);
    if (reference.repository !== spec.image) {
      errors.push({
        field: 'spec.image',
        message: `must be normalized ("${reference.repository}")`,
      });
    }
  } catch (error) {
    if (!(error instanceof InvalidImageReference)) throw error;
    errors.push({ field: 'spec.image', message: error.message });
  }
  if (spec.selector) errors.push(...selectorErrors(spec.selector, 'spec.selector', true));
  if (spec.approvedBatches !== undefined && !isCount(spec.approvedBatches)) {
    errors.push({ field: 'spec.approvedBatches', message: 'must be an integer of at least 0' });
  }
  if (spec.acceptedFailureBatches !== undefined && !isCount(spec.acceptedFailureBatches)) {
    errors.push({
      field: 'spec.acceptedFailureBatches',
      message: 'must be an integer of at least 0',
    });
  }
  errors.push(...sharedErrors(spec));
  return errors;
}

/** The blocks a rollout snapshots from its policy: strategy, health, failure policy. */
function sharedErrors(spec: {
  strategy?: RolloutStrategy;
  health?: HealthPolicy;
  failurePolicy?: FailurePolicy;
}): FieldError[] {
  return [
    ...strategyErrors(spec.strategy ?? {}),
    ...healthErrors(spec.health ?? {}),
    ...failurePolicyErrors(spec.failurePolicy ?? {}),
  ];
}

function selectorErrors(selector: DeviceSelector, path: string, required: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (required && !hasMatchingRules(selector ?? {}) && !selector?.devices?.length) {
    errors.push({
      field: path,
      message: 'must set at least one of fleets, matchLabels, matchExpressions, devices',
    });
  }
  if (selector?.fleets?.length === 0) {
    errors.push({ field: `${path}.fleets`, message: 'must not be empty when set' });
  }
  selector?.matchExpressions?.forEach((rule, i) => {
    const field = `${path}.matchExpressions[${i}].values`;
    const count = rule.values?.length ?? 0;
    const wantsValues = rule.operator === 'In' || rule.operator === 'NotIn';
    if (wantsValues && count === 0) {
      errors.push({ field, message: `must not be empty for operator ${rule.operator}` });
    }
    if (!wantsValues && count > 0) {
      errors.push({ field, message: `must be empty for operator ${rule.operator}` });
    }
  });
  return errors;
}

function strategyErrors(strategy: RolloutStrategy): FieldError[] {
  const errors: FieldError[] = [];
  const batches = strategy.batches;
  if (batches !== undefined) {
    const increasing = batches.every((p, i) => i === 0 || p > (batches[i - 1] as number));
    const inRange = batches.every((p) => Number.isFinite(p) && p > 0 && p <= 100);
    if (batches.length === 0 || !increasing || !inRange || batches.at(-1) !== 100) {
      errors.push({
        field: 'spec.strategy.batches',
        message: 'must be strictly increasing percentages in (0, 100] ending at 100',
      });
    }
  }
  errors.push(...durationErrors(strategy.interval, 'spec.strategy.interval'));
  strategy.maintenanceWindows?.forEach((window, i) => {
    const problem = windowProblem(window);
    if (problem) errors.push({ field: `spec.strategy.maintenanceWindows[${i}]`, message: problem });
  });
  return errors;
}

function healthErrors(health: HealthPolicy): FieldError[] {
  const deadlineErrors = durationErrors(
    health.progressDeadline,
    'spec.health.progressDeadline',
    true,
  );
  const offlineErrors = durationErrors(health.offlineAfter, 'spec.health.offlineAfter', true);
  const errors = [
    ...durationErrors(health.soakTime, 'spec.health.soakTime'),
    ...deadlineErrors,
    ...offlineErrors,
  ];
  if (deadlineErrors.length === 0 && offlineErrors.length === 0) {
    errors.push(...offlineBeforeDeadlineErrors(health));
  }
  health.checks?.forEach((check, i) => {
    if ((check.type === 'HTTP' || check.type === 'TCP') && check.port === undefined) {
      errors.push({
        field: `spec.health.checks[${i}].port`,
        message: `required for ${check.type}`,
      });
    }
    if (check.type === 'Script' && !check.command?.[0]) {
      errors.push({
        field: `spec.health.checks[${i}].command`,
        message: 'Script checks need a command whose first item, the program, is not empty',
      });
    }
    const period = check.periodSeconds ?? ROLLOUT_DEFAULTS.checkPeriodSeconds;
    if (check.timeoutSeconds !== undefined && check.timeoutSeconds > period) {
      errors.push({
        field: `spec.health.checks[${i}].timeoutSeconds`,
        message: `must not be longer than periodSeconds (${period})`,
      });
    }
  });
  return errors;
}

/**
 * offlineAfter must be shorter than progressDeadline (each as set in the block, else its
 * default): otherwise a device never heard from is still scheduled at the deadline, counts as
 * failed, and later as offline — and a failure-budget pause lifts by itself.
 */
function offlineBeforeDeadlineErrors(health: HealthPolicy): FieldError[] {
  const deadline = health.progressDeadline ?? ROLLOUT_DEFAULTS.progressDeadline;
  const offlineAfter = health.offlineAfter ?? ROLLOUT_DEFAULTS.offlineAfter;
  if (parseDuration(offlineAfter) < parseDuration(deadline)) return [];
  if (health.offlineAfter === undefined) {
    const message = `must be longer than offlineAfter ("${offlineAfter}" by default), got "${deadline}"`;
    return [{ field: 'spec.health.progressDeadline', message }];
  }
  const byDefault = health.progressDeadline === undefined ? ' by default' : '';
  const message = `must be shorter than progressDeadline ("${deadline}"${byDefault}), got "${offlineAfter}"`;
  return [{ field: 'spec.health.offlineAfter', message }];
}

function failurePolicyErrors(policy: FailurePolicy): FieldError[] {
  const errors: FieldError[] = [];
  const max = policy.maxFailurePercent;
  if (max !== undefined && !(Number.isFinite(max) && max >= 0 && max <= 100)) {
    errors.push({ field: 'spec.failurePolicy.maxFailurePercent', message: 'must be 0 to 100' });
  }
  if (policy.minSample !== undefined && !(isCount(policy.minSample) && policy.minSample >= 1)) {
    errors.push({
      field: 'spec.failurePolicy.minSample',
      message: 'must be an integer of at least 1',
    });
  }
  return errors;
}

function durationErrors(text: string | undefined, field: string, positive = false): FieldError[] {
  if (text === undefined) return [];
  try {
    const ms = parseDuration(text);
    if (ms < 0 || (positive && ms === 0)) {
      return [{ field, message: `must be ${positive ? 'positive' : 'at least 0'}, got "${text}"` }];
    }
    return [];
  } catch (error) {
    return [{ field, message: (error as Error).message }];
  }
}

function isCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

/** One line listing field errors, for a condition message. */
export function describeFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((error) => `${error.field}: ${error.message}`).join('; ');
}
