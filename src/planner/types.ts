import type { RolloutEventReason } from '../api/conditions.js';
import type {
  DeviceSelector,
  FleetFreeze,
  HealthCheck,
  ImagePolicy,
  ImageRollout,
  ImageRolloutStatus,
} from '../api/types.js';
import type { DeviceApiAvailability } from './outages.js';

/**
 * Device counts of one batch, read from Postgres. Every member is in exactly one of pending,
 * scheduled, updating, soaking, healthy, failed, offline (`offlineOnNewImage` is a part of
 * offline). `devices` counts every member row of the batch, also members whose device was
 * deleted since: the planner computes batch ends over ranks 0..N-1, so the counts must cover all
 * N member rows. Deleting a device (deleteDevice) makes an unsettled member one never heard from,
 * so it counts as offline (not on the new image); a healthy or failed one keeps its verdict.
 */
export interface BatchProgress {
  /** 1-based batch number (`rollout_members.batch`). */
  batch: number;
  devices: number;
  /** In a batch that has not started. */
  pending: number;
  /** Has the new target; has not reported the new image yet. */
  scheduled: number;
  /** Reports the new image; not healthy yet. */
  updating: number;
  /** Reports the new image healthy, for less than the soak time. */
  soaking: number;
  /** Reports the new image healthy for at least the soak time. */
  healthy: number;
  /** Reports the new image unhealthy or exited. */
  failed: number;
  /** Not heard from for `offlineAfter` (and not healthy or failed). */
  offline: number;
  /**
   * Of `offline`, those that reported the new image before going silent (last progress updating
   * or soaking): the image may have broken their network, so the deadline counts them as failed.
   */
  offlineOnNewImage: number;
  /** When the last device soaking now completes its soak; lets the planner requeue then. */
  soakingUntil?: Date;
}

/** The `rollout_targets` row of a rollout: how far its overlay on device targets has gone. */
export interface RolloutTarget {
  /** Batches 1..startedBatches have the new target. */
  startedBatches: number;
  /** `rolledBack`: members are back on their previous images; `folded`: merged into the base. */
  state: 'active' | 'rolledBack' | 'folded';
}

/** How far a rollback has come, read from Postgres once the target is `rolledBack`. */
export interface RollbackProgress {
  /** Devices whose target went back to their previous images (members of started batches). */
  devices: number;
  /** Of those, devices that report their previous images again. */
  restored: number;
  /** Of those not restored, devices that are offline (they get their target on their next poll). */
  offline: number;
}

/** Everything planRollout decides from. */
export interface PlanRolloutInput {
  rollout: ImageRollout;
  /** The ImagePolicy of `spec.policyRef`; undefined when it does not exist. */
  policy: ImagePolicy | undefined;
  /** The `rollout_targets` row; undefined before the membership is created. */
  target?: RolloutTarget;
  /** Counts per batch; batches without members may be left out. */
  progress: BatchProgress[];
  /** Present once the target is `rolledBack`. */
  rollback?: RollbackProgress;
  /**
   * Every other ImageRollout of the same policy (e.g. from the informer cache); the planner
   * picks those of the same repository and orders them by (creationTimestamp, name).
   */
  siblings?: ImageRollout[];
  /** Whether devices can report now, and past outages; assumed available when left out. */
  deviceApi?: DeviceApiAvailability;
  /**
   * The FleetFreezes of the rollout's namespace (e.g. from the informer cache); the planner
   * picks the active ones whose scope covers the rollout. None when left out.
   */
  freezes?: FleetFreeze[];
  now: Date;
}

/** The one write to make before the status: at most one per pass. */
export type RolloutEffect =
  /** Select devices with `selector`, rank them (rankKeySql) and insert members with batchEnds. */
  | {
      type: 'CreateMembership';
      selector: DeviceSelector;
      percentages: number[];
      /** The health checks updated services carry in their target document; none when unset. */
      healthChecks?: HealthCheck[];
    }
  /** Rewrite `batch` of members in batches after `startedBatches` with batchOfRank(rank, batchEnds). */
  | { type: 'Rebatch'; startedBatches: number; batchEnds: number[] }
  /** `startBatch(uid, batch)`: devices of batches 1..batch get the new target. */
  | { type: 'StartBatch'; batch: number; devices: number }
  /** `rollBack(uid)`: every member of a started batch gets its previous images back. */
  | { type: 'RollBack'; reason: 'Aborted' | 'FailureBudgetExceeded' }
  /** `fold(uid)`: the new images of started batches become the devices' base targets. */
  | { type: 'Fold' };

/** A Kubernetes Event to record about the rollout (shape of the controller's EventRecorder). */
export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: RolloutEventReason;
  /** CamelCase action the controller took (`StartBatch`, `Pause`). */
  action: string;
  note: string;
}

/** An entry for the append-only event log (`events` table). */
export interface EventLogEntry {
  type: `image.${string}`;
  /** `<namespace>/<name>` of the rollout. */
  subject: string;
  payload: Record<string, unknown>;
}

/** What to do for one rollout: effect, then status, events, log entries and when to look again. */
export interface RolloutPlan {
  effect?: RolloutEffect;
  /** The full next status; write it only when it differs from the current one (statusEqual). */
  status: ImageRolloutStatus;
  events: PlannedEvent[];
  /** Written in the effect's transaction when there is an effect, else before the status. */
  log: EventLogEntry[];
  /** Reconcile again at this time; undefined when only a watch event can change anything. */
  requeueAt?: Date;
}
