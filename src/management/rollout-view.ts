import { formatImageReference } from '../api/image-reference.js';
import type { BatchStatus, Condition, ImageRollout } from '../api/types.js';
import { countsText, type StatusCounts, sumCounts } from '../planner/batch-counts.js';

/** A rollout as list answers show it: what kubectl's printer columns show, and more. */
export interface RolloutSummary {
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  createdAt?: string;
  policy: string;
  image: string;
  tag: string;
  digest?: string;
  reference: string;
  strategy?: string;
  paused: boolean;
  abort: boolean;
  approvedBatches?: number;
  phase?: string;
  message?: string;
  currentBatch?: number;
  totalBatches?: number;
  observedGeneration?: number;
  nextBatchAt?: string;
  startedAt?: string;
  completedAt?: string;
  supersededBy?: string;
  counts: StatusCounts;
  summary: string;
}

/** Where a batch is: not started, started, or completed (as its status timestamps say). */
export type BatchState = 'Pending' | 'Started' | 'Completed';

/** One batch with the counts of `status.batches[]`. */
export interface BatchProgressView extends BatchStatus {
  state: BatchState;
}

/** A rollout with its per-batch progress, as `GET /api/v1/rollouts/:namespace/:name` shows it. */
export interface RolloutDetail extends RolloutSummary {
  batches: BatchProgressView[];
  rollback?: NonNullable<ImageRollout['status']>['rollback'];
  conditions: Condition[];
}

/**
 * The rollout's identity, switches, phase and counts. The counts are the status's own (summed
 * over `status.batches` as the controller sums them for `status.devices`, …), so this answer
 * never disagrees with `kubectl get imagerollouts`.
 */
export function rolloutSummary(rollout: ImageRollout): RolloutSummary {
  const { metadata, spec } = rollout;
  const status = rollout.status ?? {};
  const counts = sumCounts(status.batches ?? []);
  return dropUndefined({
    namespace: metadata.namespace ?? '',
    name: metadata.name ?? '',
    uid: metadata.uid,
    resourceVersion: metadata.resourceVersion,
    generation: metadata.generation,
    createdAt: metadata.creationTimestamp,
    policy: spec.policyRef.name,
    image: spec.image,
    tag: spec.tag,
    digest: spec.digest,
    reference: formatImageReference({ repository: spec.image, tag: spec.tag, digest: spec.digest }),
    strategy: spec.strategy?.type,
    paused: spec.paused === true,
    abort: spec.abort === true,
    approvedBatches: spec.approvedBatches,
    phase: status.phase,
    message: status.message,
    currentBatch: status.currentBatch,
    totalBatches: status.totalBatches,
    observedGeneration: status.observedGeneration,
    nextBatchAt: status.nextBatchAt,
    startedAt: status.startedAt,
    completedAt: status.completedAt,
    supersededBy: status.supersededBy,
    counts,
    summary: countsText(counts),
  });
}

/** The summary with every batch's counts, the rollback's progress and the conditions. */
export function rolloutDetail(rollout: ImageRollout): RolloutDetail {
  const status = rollout.status ?? {};
  const batches = (status.batches ?? []).map((batch) => ({ ...batch, state: stateOf(batch) }));
  return dropUndefined({
    ...rolloutSummary(rollout),
    batches,
    rollback: status.rollback,
    conditions: status.conditions ?? [],
  });
}

function stateOf(batch: BatchStatus): BatchState {
  if (batch.completedAt !== undefined) return 'Completed';
  return batch.startedAt !== undefined ? 'Started' : 'Pending';
}

function dropUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}
