import type { ImageRollout } from '../api/types.js';
import type { Db } from '../db/client.js';
import { appendLog, type LogEntry } from '../db/event-log.js';
import {
  completeSelection,
  type MembershipSpec,
  rebatch,
  stageSelection,
} from '../db/membership-store.js';
import { enqueueNotifications } from '../db/notification-store.js';
import { setSoak } from '../db/progress-store.js';
import { fold } from '../db/rollout-members-store.js';
import { createRolloutTarget, rollBack, startBatch } from '../db/rollout-target-store.js';
import { notificationsOf } from '../notifications/transitions.js';
import { imageOf } from '../planner/decision.js';
import type { EventLogEntry, RolloutEffect, RolloutPlan } from '../planner/types.js';

/** What applying an effect needs. */
export interface EffectDeps {
  db: Db;
  /** Aborts between chunks of long effects (membership of a million devices). */
  signal?: AbortSignal;
  /** Called at each step boundary inside an effect (tracing; crash tests). */
  onStep?(step: string): void;
}

/**
 * Applies the plan's effect with the plan's event-log entries and notifications (outbox rows)
 * in the effect's transaction, or, without an effect, appends them in one transaction of their
 * own (before the status is written). Every effect is idempotent and every notification has a
 * deterministic key: a crash at any point and a re-run of the next plan converge.
 */
export async function applyPlan(
  deps: EffectDeps,
  rollout: ImageRollout,
  plan: RolloutPlan,
  soakMs: number,
  now: Date = new Date(),
): Promise<void> {
  const log: Array<EventLogEntry & Pick<LogEntry, 'notifications'>> = plan.log.map((entry) =>
    withRollout(entry, rollout),
  );
  const notifications = notificationsOf(rollout, plan, now);
  const [first] = log;
  if (first && notifications.length > 0) log[0] = { ...first, notifications };
  const effect = plan.effect;
  if (!effect) {
    if (log.length > 0 || notifications.length > 0) {
      await deps.db.transaction(async (tx) => {
        await appendLog(tx, log);
        if (!first) await enqueueNotifications(tx, notifications);
      });
    }
    return;
  }
  await applyEffect(deps, rollout, effect, log, soakMs);
  // Only when no log entry carried them (none of today's effects): after the effect, before
  // the status, under their deterministic keys.
  if (!first && notifications.length > 0) await enqueueNotifications(deps.db, notifications);
}

async function applyEffect(
  deps: EffectDeps,
  rollout: ImageRollout,
  effect: RolloutEffect,
  log: EventLogEntry[],
  soakMs: number,
): Promise<void> {
  const uid = rollout.metadata.uid ?? '';
  switch (effect.type) {
    case 'CreateMembership':
      return createMembershipEffect(deps, rollout, effect, log, soakMs);
    case 'Rebatch':
      await rebatch(deps.db, uid, effect.startedBatches, effect.batchEnds, log);
      return;
    case 'StartBatch':
      await startBatch(deps.db, uid, effect.batch, log);
      return;
    case 'RollBack':
      await rollBack(deps.db, uid, log);
      return;
    case 'Fold':
      await fold(deps.db, uid, { log });
      return;
  }
}

/** Stage the selection (once, with the log), create the overlay, then the members. */
async function createMembershipEffect(
  deps: EffectDeps,
  rollout: ImageRollout,
  effect: Extract<RolloutEffect, { type: 'CreateMembership' }>,
  log: EventLogEntry[],
  soakMs: number,
): Promise<void> {
  const spec: MembershipSpec = {
    uid: rollout.metadata.uid ?? '',
    namespace: rollout.metadata.namespace ?? '',
    name: rollout.metadata.name ?? '',
    repository: rollout.spec.image,
    image: imageOf(rollout),
    policy: rollout.spec.policyRef.name,
    healthChecks: effect.healthChecks ?? [],
    selector: effect.selector,
    log,
  };
  await stageSelection(deps.db, spec);
  deps.onStep?.('selection-staged');
  await createRolloutTarget(deps.db, spec);
  await setSoak(deps.db, spec.uid, soakMs);
  deps.onStep?.('target-created');
  await completeSelection(deps.db, spec.uid, effect.percentages, deps.signal);
}

/** Log entries carry the rollout's uid, namespace, name, image and policy, as the stores write them. */
function withRollout(entry: EventLogEntry, rollout: ImageRollout): EventLogEntry {
  const { uid, namespace, name } = rollout.metadata;
  const policy = rollout.spec.policyRef.name;
  return {
    ...entry,
    payload: { rollout: uid, namespace, name, image: imageOf(rollout), policy, ...entry.payload },
  };
}
