import { type Condition, ConditionTypes, type ImageRolloutStatus } from '../api/types.js';
import { toBatchStatus } from './batch-view.js';
import { formatTime, setCondition } from './conditions.js';
import { type Context, type Decision, SITUATIONS } from './decision.js';
import { TERMINAL_PHASES } from './siblings.js';
import type { RolloutTarget } from './types.js';

/** The full next status of a rollout from a decision; keeps timestamps already written. */
export function buildStatus(
  context: Context,
  target: RolloutTarget | undefined,
  decision: Decision,
): ImageRolloutStatus {
  const { prev, now, rollout } = context;
  const { phase } = SITUATIONS[decision.situation];
  const batches = decision.layout?.views.map(toBatchStatus);
  const sum = (pick: (b: NonNullable<typeof batches>[number]) => number) =>
    batches?.reduce((total, batch) => total + pick(batch), 0);
  const begun = target !== undefined || decision.effect?.type === 'CreateMembership';
  const terminal = TERMINAL_PHASES.has(phase);
  return {
    observedGeneration: rollout.metadata.generation,
    phase,
    currentBatch: decision.startedBatches ?? target?.startedBatches ?? 0,
    totalBatches: batches?.length ?? plannedBatchCount(context),
    devices: sum((b) => b.devices),
    updated: sum((b) => b.updated),
    healthy: sum((b) => b.healthy),
    failed: sum((b) => b.failed),
    batches,
    rollback: decision.rollback ?? prev.rollback,
    supersededBy: decision.supersededBy,
    startedAt: prev.startedAt ?? (begun ? formatTime(now) : undefined),
    completedAt: terminal ? (prev.completedAt ?? formatTime(now)) : undefined,
    nextBatchAt: decision.nextBatchAt && formatTime(decision.nextBatchAt),
    message: decision.message,
    conditions: conditionsFor(context, decision),
  };
}

/** Before membership the batch count comes from the settings, when they resolve. */
function plannedBatchCount(context: Context): number | undefined {
  const resolved = context.resolved;
  return 'settings' in resolved ? resolved.settings.batches.length : context.prev.totalBatches;
}

/** Ready, Progressing and Degraded for the decision's situation. */
function conditionsFor(context: Context, decision: Decision): Condition[] {
  const { situation, message } = decision;
  const row = SITUATIONS[situation];
  const observedGeneration = context.rollout.metadata.generation;
  const degradedReason = decision.rollback?.reason ?? situation;
  const wanted = [
    {
      type: ConditionTypes.Ready,
      status: situation === 'Succeeded' ? 'True' : 'False',
      reason: situation,
      message,
    },
    { type: ConditionTypes.Progressing, status: bool(row.progressing), reason: situation, message },
    {
      type: ConditionTypes.Degraded,
      status: bool(row.degraded),
      reason: row.degraded ? degradedReason : 'WithinFailureBudget',
      message: row.degraded ? message : 'No batch has exceeded its failure budget',
    },
  ] as const;
  let conditions = context.prev.conditions ?? [];
  for (const condition of wanted) {
    conditions = setCondition(conditions, { ...condition, observedGeneration }, context.now);
  }
  return conditions;
}

function bool(value: boolean): 'True' | 'False' {
  return value ? 'True' : 'False';
}
