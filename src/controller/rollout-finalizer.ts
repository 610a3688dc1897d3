import { sql } from 'drizzle-orm';
import type { ImageRollout } from '../api/types.js';
import { appendLog } from '../db/event-log.js';
import { fold } from '../db/rollout-members-store.js';
import { getRolloutTarget } from '../db/rollout-target-store.js';
import { isConflict, isNotFound } from '../kube/port.js';
import type { RolloutReconcilerDeps } from './rollout-reconciler.js';
import type { WorkResult } from './work-queue.js';

/** The finalizer that keeps a deleted ImageRollout until its overlay is settled. */
export const ROLLOUT_FINALIZER = 'fleet.iotistic.io/rollout-overlay';

/**
 * Adds the finalizer to a rollout that lacks it; the rollout as written (or as read when it
 * had it), or undefined on a conflict (re-read and try again).
 */
export async function ensureFinalizer(
  deps: RolloutReconcilerDeps,
  rollout: ImageRollout,
): Promise<ImageRollout | undefined> {
  const finalizers = rollout.metadata.finalizers ?? [];
  if (finalizers.includes(ROLLOUT_FINALIZER)) return rollout;
  return patchFinalizers(deps, rollout, [...finalizers, ROLLOUT_FINALIZER]);
}

/**
 * A deleted rollout: deleting never changes what a device runs. An active overlay is folded
 * (devices of started batches keep the new image as their base; the others never had it), a
 * rolled-back or folded one needs nothing; then the membership rows go, and the finalizer.
 * To undo a rollout, abort it and delete it once it is RolledBack.
 */
export async function finalizeRollout(
  deps: RolloutReconcilerDeps,
  rollout: ImageRollout,
): Promise<WorkResult> {
  const finalizers = rollout.metadata.finalizers ?? [];
  if (!finalizers.includes(ROLLOUT_FINALIZER)) return {};
  const { uid = '', namespace, name } = rollout.metadata;
  const target = await getRolloutTarget(deps.db, uid);
  deps.signal?.throwIfAborted();
  const folded = target?.state === 'active' ? await fold(deps.db, uid) : undefined;
  await deps.db.transaction(async (tx) => {
    await tx.execute(sql`delete from rollout_selections where rollout_uid = ${uid}`);
    await tx.execute(sql`delete from rollout_members where rollout_uid = ${uid}`);
    await tx.execute(sql`delete from rollout_targets where uid = ${uid}`);
    if (!target) return;
    await appendLog(tx, [
      {
        type: 'image.rollout_deleted',
        subject: `${namespace}/${name}`,
        payload: {
          rollout: uid,
          namespace,
          name,
          policy: rollout.spec.policyRef.name,
          state: target.state,
          folded: folded?.devices ?? 0,
        },
      },
    ]);
  });
  deps.metrics?.setDevices(`${namespace}/${name}`, undefined);
  const without = finalizers.filter((finalizer) => finalizer !== ROLLOUT_FINALIZER);
  const patched = await patchFinalizers(deps, rollout, without);
  if (!patched) return { requeueAfter: 200 };
  deps.logger.info({ namespace, name, state: target?.state }, 'rollout finalized');
  return {};
}

async function patchFinalizers(
  deps: RolloutReconcilerDeps,
  rollout: ImageRollout,
  finalizers: string[],
): Promise<ImageRollout | undefined> {
  deps.signal?.throwIfAborted();
  const { namespace = '', name = '', resourceVersion } = rollout.metadata;
  try {
    return await deps.rollouts.mergePatch(namespace, name, {
      metadata: { finalizers, resourceVersion },
    });
  } catch (error) {
    if (isConflict(error) || isNotFound(error)) return undefined;
    throw error;
  }
}
