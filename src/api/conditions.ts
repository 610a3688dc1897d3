/**
 * Condition reasons and Event reasons of both resources: CamelCase constants, the vocabulary that
 * status, Events, docs/rollout-engine.md and operators' alerts share.
 */

/** Reasons on the conditions (Ready, Progressing, Degraded) of an ImageRollout. */
export const RolloutReasons = {
  /** Selecting the devices and writing their membership. */
  CreatingMembership: 'CreatingMembership',
  /** `strategy.batches` changed: the batches not started yet are planned again. */
  Replanning: 'Replanning',
  /** The latest started batch has devices still updating or soaking. */
  BatchInProgress: 'BatchInProgress',
  /** Only offline devices hold the latest batch; it completes at the progress deadline. */
  BatchWaitingOnOfflineDevices: 'BatchWaitingOnOfflineDevices',
  /** The batch interval since the last batch completed has not passed yet. */
  WaitingForInterval: 'WaitingForInterval',
  /** No maintenance window is open. */
  WaitingForWindow: 'WaitingForWindow',
  /** The Manual strategy waits for `spec.approvedBatches` to reach the next batch. */
  WaitingForApproval: 'WaitingForApproval',
  /** An older rollout of the same policy and repository is still running. */
  Queued: 'Queued',
  /** `spec.paused` is set. */
  PausedByUser: 'PausedByUser',
  /** An active FleetFreeze covers the rollout: no batch starts until it lifts. */
  Frozen: 'Frozen',
  /** Failed devices of a batch exceed the failure budget. */
  FailureBudgetExceeded: 'FailureBudgetExceeded',
  /** `spec.abort` is set. */
  Aborted: 'Aborted',
  /** Devices are being restored to their previous images. */
  RollingBack: 'RollingBack',
  /** Every changed device was restored (or is offline and will be on its next poll). */
  RolledBack: 'RolledBack',
  /** Every batch completed. */
  Succeeded: 'Succeeded',
  /** A newer rollout of the same policy and repository replaced this one. */
  Superseded: 'Superseded',
  /** The rollout's own spec is invalid. */
  InvalidSpec: 'InvalidSpec',
  /** The referenced ImagePolicy does not exist. */
  PolicyNotFound: 'PolicyNotFound',
  /** The referenced ImagePolicy's spec is invalid. */
  PolicyInvalid: 'PolicyInvalid',
  /** Degraded=False: no batch has spent its failure budget. */
  WithinFailureBudget: 'WithinFailureBudget',
  /**
   * Ready=False while no device-API replica can take reports (all down, or Postgres unreachable):
   * the rollout changes nothing and its device timers stand still until the device API is back.
   */
  DeviceAPIUnavailable: 'DeviceAPIUnavailable',
} as const;

/** One ImageRollout condition reason. */
export type RolloutReason = (typeof RolloutReasons)[keyof typeof RolloutReasons];

/** Reasons on the Ready condition of an ImagePolicy. */
export const PolicyReasons = {
  /** The spec is valid and the policy creates rollouts for matching pushes. */
  Valid: 'Valid',
  /** `spec.suspend` is set: no new rollouts; running ones continue. */
  Suspended: 'Suspended',
  /** The spec is invalid; the message lists the fields. */
  InvalidSpec: 'InvalidSpec',
} as const;

/** One ImagePolicy condition reason. */
export type PolicyReason = (typeof PolicyReasons)[keyof typeof PolicyReasons];

/** Reasons of the Kubernetes Events the controller records about an ImageRollout. */
export const RolloutEventReasons = {
  RolloutStarted: 'RolloutStarted',
  BatchesReplanned: 'BatchesReplanned',
  BatchStarted: 'BatchStarted',
  BatchCompleted: 'BatchCompleted',
  RolloutPaused: 'RolloutPaused',
  RolloutResumed: 'RolloutResumed',
  FailureBudgetExceeded: 'FailureBudgetExceeded',
  RollbackStarted: 'RollbackStarted',
  RollbackCompleted: 'RollbackCompleted',
  RolloutSucceeded: 'RolloutSucceeded',
  RolloutSuperseded: 'RolloutSuperseded',
  InvalidConfiguration: 'InvalidConfiguration',
  DeviceAPIUnavailable: 'DeviceAPIUnavailable',
  DeviceAPIAvailable: 'DeviceAPIAvailable',
  FreezeStarted: 'FreezeStarted',
  FreezeLifted: 'FreezeLifted',
} as const;

/** One Event reason. */
export type RolloutEventReason = (typeof RolloutEventReasons)[keyof typeof RolloutEventReasons];

/** Reasons on the Active condition of a FleetFreeze. */
export const FreezeReasons = {
  /** No window, or now is inside it: the freeze holds the rollouts in its scope. */
  Active: 'Active',
  /** The window has not started yet. */
  Scheduled: 'Scheduled',
  /** The window has ended: the freeze holds nothing (delete it, or keep it as a record). */
  Ended: 'Ended',
} as const;

/** One FleetFreeze condition reason. */
export type FreezeReason = (typeof FreezeReasons)[keyof typeof FreezeReasons];

/** Reasons of the Kubernetes Events the controller records about a FleetFreeze. */
export const FreezeEventReasons = {
  /** The freeze became active (created, or its window opened). */
  FreezeStarted: 'FreezeStarted',
  /** The freeze's window ended. */
  FreezeLifted: 'FreezeLifted',
} as const;
