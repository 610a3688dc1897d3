/** The pure planner: what the reconcilers and the SQL side use. Nothing here does I/O. */
export { findCondition, formatTime, setCondition, statusEqual } from './conditions.js';
export { ROLLOUT_DEFAULTS } from './defaults.js';
export { InvalidDuration, parseDuration, parseNonNegativeDuration } from './duration.js';
export {
  batchEnds,
  batchOfRank,
  batchSizes,
  endsToSizes,
  planBatches,
  rankDevices,
  rankKey,
  rankKeySql,
} from './membership.js';
export { type PlanPolicyInput, type PolicyPlan, planPolicy } from './plan-policy.js';
export { planRollout } from './plan-rollout.js';
export { type SelectableDevice, selectsDevice } from './selector.js';
export { type RolloutSettings, resolveRolloutSettings } from './settings.js';
export { isTerminal, TERMINAL_PHASES } from './siblings.js';
export type * from './types.js';
export { type FieldError, validatePolicySpec, validateRolloutSpec } from './validate.js';
export { isTimeZone, windowOpenAt, windowProblem } from './windows.js';
