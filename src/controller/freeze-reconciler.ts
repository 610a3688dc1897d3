import type { FleetFreeze, ImageRollout } from '../api/types.js';
import { isConflict, isNotFound, type ResourceClient } from '../kube/port.js';
import { statusEqual } from '../planner/conditions.js';
import { planFreeze } from '../planner/plan-freeze.js';
import type { EventRecorder } from './event-recorder.js';
import type { WorkResult } from './work-queue.js';

/** What the FleetFreeze reconciler uses. */
export interface FreezeReconcilerDeps {
  freezes: Pick<ResourceClient<FleetFreeze>, 'replaceStatus'>;
  /** The cached freeze `namespace/name`, if any. */
  cached(key: string): FleetFreeze | undefined;
  /** The cached rollouts of a namespace. */
  rollouts(namespace: string): ImageRollout[];
  events: EventRecorder;
  now(): Date;
}

/** How long to wait before reading again after a 409 on the status write. */
const CONFLICT_RETRY_MS = 200;

/**
 * One pass over a FleetFreeze: its Active condition and the rollouts it holds (read from the
 * rollouts' own status, which the rollout reconciler writes), written only when it changed;
 * FreezeStarted / FreezeLifted Events once the write that shows the flip succeeded; a requeue
 * at the window's next edge. Holding itself is the planner's: it reads the freezes too.
 */
export async function reconcileFreeze(
  deps: FreezeReconcilerDeps,
  key: string,
): Promise<WorkResult> {
  const freeze = deps.cached(key);
  if (!freeze || freeze.metadata.deletionTimestamp) return {};
  const now = deps.now();
  const plan = planFreeze(freeze, deps.rollouts(freeze.metadata.namespace ?? ''), now);
  if (!statusEqual(plan.status, freeze.status ?? {})) {
    try {
      await deps.freezes.replaceStatus({ ...freeze, status: plan.status });
    } catch (error) {
      if (isNotFound(error)) return {};
      if (isConflict(error)) return { requeueAfter: CONFLICT_RETRY_MS };
      throw new Error(`write status of FleetFreeze ${key}`, { cause: error });
    }
    for (const event of plan.events) void deps.events.record(freeze, event);
  }
  if (!plan.requeueAt) return {};
  return { requeueAfter: Math.max(0, plan.requeueAt.getTime() - now.getTime()) };
}
