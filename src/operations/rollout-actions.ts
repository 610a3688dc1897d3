import { RolloutReasons } from '../api/conditions.js';
import { ConditionTypes, type ImageRollout, type ImageRolloutSpec } from '../api/types.js';
import { isConflict, type KubePort } from '../kube/port.js';
import { findCondition } from '../planner/conditions.js';
import { ROLLOUT_DEFAULTS } from '../planner/defaults.js';
import { isTerminal } from '../planner/siblings.js';
import { fromKubeError, OperationError, type ResourceRef } from './errors.js';

/*
 * What an operator does to a running ImageRollout, as functions over the client port: each reads
 * the rollout, decides the spec change (or refuses with an OperationError), and writes it as a
 * JSON merge patch carrying the resourceVersion it read, so a concurrent change is a 409 and the
 * decision is made again on the fresh object. The resource stays the only state.
 */

/** The client port's parts the rollout actions use. */
export type RolloutActionsPort = Pick<KubePort, 'imageRollouts' | 'imagePolicies'>;

/** How often a decision is re-made after a 409 Conflict before giving up. */
const ATTEMPTS = 5;

/**
 * Approves the next batch not approved yet (`spec.approvedBatches` one past the larger of the
 * approved and the started batches), or with `all` every batch. With `Staged` an approval
 * promotes past the batch interval. Refuses with NothingToApprove when every batch is approved
 * or the strategy is AllAtOnce, AlreadyTerminal when the rollout is finished or aborted.
 */
export async function approveRollout(
  kube: RolloutActionsPort,
  ref: ResourceRef,
  options: { all?: boolean } = {},
): Promise<ImageRollout> {
  return updateRollout(kube, ref, async (rollout) => {
    requireRunning(rollout, 'approve');
    // The rollout's strategy snapshot, else its policy's (as the planner's settings take it).
    const strategy =
      rollout.spec.strategy ??
      (await kube.imagePolicies.get(ref.namespace, rollout.spec.policyRef.name))?.spec.strategy;
    const type = strategy?.type ?? ROLLOUT_DEFAULTS.type;
    const batches = strategy?.batches ?? ROLLOUT_DEFAULTS.batches;
    if (type === 'AllAtOnce') {
      throw new OperationError(
        'NothingToApprove',
        `${describe(ref)} is AllAtOnce: no batch waits for approval`,
      );
    }
    const total = rollout.status?.totalBatches || batches.length;
    const approved = rollout.spec.approvedBatches ?? 0;
    const started = rollout.status?.currentBatch ?? 0;
    const next = options.all ? total : Math.max(approved, started) + 1;
    if (next > total || next <= approved) {
      const message = `${describe(ref)}: every batch (${total}) is approved already`;
      throw new OperationError('NothingToApprove', message);
    }
    return { approvedBatches: next };
  });
}

/** Sets `spec.paused`: no new batch starts; devices already scheduled continue. Idempotent. */
export async function pauseRollout(
  kube: RolloutActionsPort,
  ref: ResourceRef,
): Promise<ImageRollout> {
  return updateRollout(kube, ref, (rollout) => {
    requireRunning(rollout, 'pause');
    return rollout.spec.paused === true ? undefined : { paused: true };
  });
}

/**
 * Clears `spec.paused`. Idempotent for a rollout that is not paused; a rollout its failure budget
 * paused is refused with NotPausedByUser (retryRollout continues it).
 */
export async function resumeRollout(
  kube: RolloutActionsPort,
  ref: ResourceRef,
): Promise<ImageRollout> {
  return updateRollout(kube, ref, (rollout) => {
    requireRunning(rollout, 'resume');
    if (rollout.spec.paused === true) return { paused: false };
    if (pausedByBudget(rollout)) {
      const message = `${describe(ref)} is paused by its failure budget, not by spec.paused: retry accepts the failures and continues`;
      throw new OperationError('NotPausedByUser', message);
    }
    return undefined;
  });
}

/** Sets `spec.abort`: every updated device rolls back to its own previous image. Idempotent. */
export async function abortRollout(
  kube: RolloutActionsPort,
  ref: ResourceRef,
): Promise<ImageRollout> {
  return updateRollout(kube, ref, (rollout) => {
    if (isTerminal(rollout.status?.phase)) {
      throw new OperationError(
        'AlreadyTerminal',
        `${describe(ref)} is ${rollout.status?.phase}: nothing to abort`,
      );
    }
    return rollout.spec.abort === true ? undefined : { abort: true };
  });
}

/**
 * Continues a rollout its failure budget paused: accepts the failures of every started batch
 * (`spec.acceptedFailureBatches` = the current batch), so the next batch may start; later
 * batches keep the budget. Refuses with NothingToRetry when the budget did not pause it.
 */
export async function retryRollout(
  kube: RolloutActionsPort,
  ref: ResourceRef,
): Promise<ImageRollout> {
  return updateRollout(kube, ref, (rollout) => {
    requireRunning(rollout, 'retry');
    const current = rollout.status?.currentBatch ?? 0;
    const accepted = rollout.spec.acceptedFailureBatches ?? 0;
    if (!pausedByBudget(rollout) || current <= accepted) {
      const phase = rollout.status?.phase ?? 'Pending';
      const message = `${describe(ref)} is not paused by its failure budget (phase ${phase}): nothing to retry`;
      throw new OperationError('NothingToRetry', message);
    }
    return { acceptedFailureBatches: current };
  });
}

/** Whether the rollout's Progressing condition says its failure budget paused it. */
export function pausedByBudget(rollout: ImageRollout): boolean {
  const progressing = findCondition(rollout.status?.conditions, ConditionTypes.Progressing);
  return (
    rollout.status?.phase === 'Paused' &&
    progressing?.reason === RolloutReasons.FailureBudgetExceeded
  );
}

/** Refuses an action on a finished rollout, or one rolling back after an abort. */
function requireRunning(rollout: ImageRollout, action: string) {
  const ref = refOf(rollout);
  const phase = rollout.status?.phase;
  if (isTerminal(phase)) {
    throw new OperationError('AlreadyTerminal', `${describe(ref)} is ${phase}: cannot ${action}`);
  }
  if (rollout.spec.abort === true) {
    const message = `${describe(ref)} was aborted and is rolling back: cannot ${action}`;
    throw new OperationError('AlreadyTerminal', message);
  }
}

/**
 * Reads the rollout, lets `decide` pick the spec change (undefined: nothing to change) and
 * writes it with the resourceVersion read; a 409 Conflict decides again on a fresh read.
 */
async function updateRollout(
  kube: RolloutActionsPort,
  ref: ResourceRef,
  decide: (
    rollout: ImageRollout,
  ) => Partial<ImageRolloutSpec> | undefined | Promise<Partial<ImageRolloutSpec> | undefined>,
): Promise<ImageRollout> {
  for (let attempt = 1; ; attempt++) {
    const rollout = await kube.imageRollouts.get(ref.namespace, ref.name);
    if (!rollout) throw new OperationError('NotFound', `${describe(ref)} not found`);
    const spec = await decide(rollout);
    if (!spec) return rollout;
    const patch = { metadata: { resourceVersion: rollout.metadata.resourceVersion }, spec };
    try {
      return await kube.imageRollouts.mergePatch(ref.namespace, ref.name, patch);
    } catch (error) {
      if (!isConflict(error)) throw fromKubeError(error, describe(ref));
      if (attempt >= ATTEMPTS) {
        const message = `${describe(ref)} kept changing: gave up after ${ATTEMPTS} conflicts`;
        throw new OperationError('Conflict', message, { cause: error });
      }
    }
  }
}

function refOf(rollout: ImageRollout): ResourceRef {
  return { namespace: rollout.metadata.namespace ?? '', name: rollout.metadata.name ?? '' };
}

/** `ImageRollout ns/name`, the way messages name a rollout. */
function describe(ref: ResourceRef): string {
  return `ImageRollout ${ref.namespace}/${ref.name}`;
}
