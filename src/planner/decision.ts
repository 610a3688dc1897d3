import type { RolloutReason, RolloutReasons } from '../api/conditions.js';
import type { ImagePolicy, ImageRollout, ImageRolloutStatus, RolloutPhase } from '../api/types.js';
import type { Layout } from './batch-view.js';
import type { RolloutFreeze } from './freeze.js';
import type { DeviceTimers } from './outages.js';
import type { RolloutSettings, resolveRolloutSettings } from './settings.js';
import type { BatchProgress, RollbackProgress, RolloutEffect } from './types.js';

/** The situation a rollout is in: the reason on its Ready and Progressing conditions. */
export type Situation = Exclude<
  RolloutReason,
  | typeof RolloutReasons.WithinFailureBudget
  | typeof RolloutReasons.Aborted
  | typeof RolloutReasons.DeviceAPIUnavailable
>;

/** Phase and condition statuses of each situation (docs/rollout-engine.md shows this table). */
export const SITUATIONS: Record<
  Situation,
  { phase: RolloutPhase; progressing: boolean; degraded: boolean }
> = {
  CreatingMembership: { phase: 'Progressing', progressing: true, degraded: false },
  Replanning: { phase: 'Progressing', progressing: true, degraded: false },
  BatchInProgress: { phase: 'Progressing', progressing: true, degraded: false },
  BatchWaitingOnOfflineDevices: { phase: 'Progressing', progressing: true, degraded: false },
  WaitingForInterval: { phase: 'Progressing', progressing: true, degraded: false },
  WaitingForWindow: { phase: 'WaitingForWindow', progressing: true, degraded: false },
  WaitingForApproval: { phase: 'WaitingForApproval', progressing: false, degraded: false },
  Queued: { phase: 'Pending', progressing: true, degraded: false },
  PausedByUser: { phase: 'Paused', progressing: false, degraded: false },
  Frozen: { phase: 'Frozen', progressing: false, degraded: false },
  FailureBudgetExceeded: { phase: 'Paused', progressing: false, degraded: true },
  RollingBack: { phase: 'RollingBack', progressing: true, degraded: true },
  RolledBack: { phase: 'RolledBack', progressing: false, degraded: true },
  Succeeded: { phase: 'Succeeded', progressing: false, degraded: false },
  Superseded: { phase: 'Superseded', progressing: false, degraded: false },
  InvalidSpec: { phase: 'Failed', progressing: false, degraded: true },
  PolicyNotFound: { phase: 'Failed', progressing: false, degraded: true },
  PolicyInvalid: { phase: 'Failed', progressing: false, degraded: true },
};

/** What one planning pass decided, before it becomes a status. */
export interface Decision {
  situation: Situation;
  message: string;
  effect?: RolloutEffect;
  requeueAt?: Date;
  layout?: Layout;
  /** Batches started once the effect is applied. */
  startedBatches?: number;
  nextBatchAt?: Date;
  rollback?: NonNullable<ImageRolloutStatus['rollback']>;
  supersededBy?: string;
}

/** The planner's inputs with the previous status and, when resolvable, the settings. */
export interface Context {
  rollout: ImageRollout;
  policy: ImagePolicy | undefined;
  progress: BatchProgress[];
  rollback?: RollbackProgress;
  siblings: ImageRollout[];
  prev: ImageRolloutStatus;
  now: Date;
  /** The clock and outages device timers (offline, progress deadline) are judged by. */
  timers: DeviceTimers;
  /** The settings, resolved once per pass, or the problem that stops them resolving. */
  resolved: ReturnType<typeof resolveRolloutSettings>;
  /** The active FleetFreezes holding this rollout (none: empty) and their next window edge. */
  freeze: RolloutFreeze;
}

/** A Context whose settings resolved. */
export interface SettledContext extends Context {
  settings: RolloutSettings;
}

/** The repository and tag (and digest) a rollout ships, for messages and log entries. */
export function imageOf(rollout: ImageRollout): string {
  const digest = rollout.spec.digest ? `@${rollout.spec.digest}` : '';
  return `${rollout.spec.image}:${rollout.spec.tag}${digest}`;
}
