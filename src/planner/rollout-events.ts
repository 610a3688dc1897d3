import { RolloutEventReasons } from '../api/conditions.js';
import type { ImageRollout, ImageRolloutStatus } from '../api/types.js';
import { countsText } from './batch-counts.js';
import { findCondition } from './conditions.js';
import { type Decision, imageOf } from './decision.js';
import type { EventLogEntry, PlannedEvent } from './types.js';

type Output = { events: PlannedEvent[]; log: EventLogEntry[] };

/**
 * The Kubernetes Events and event-log entries of one transition, from the effect and from what
 * changed between the previous and the next status. A pass that changes nothing emits nothing.
 */
export function transitionEvents(
  rollout: ImageRollout,
  prev: ImageRolloutStatus,
  next: ImageRolloutStatus,
  decision: Decision,
): Output {
  const out: Output = { events: [], log: [] };
  const subject = `${rollout.metadata.namespace}/${rollout.metadata.name}`;
  const emit = (event: PlannedEvent, type: EventLogEntry['type'], payload = {}) => {
    out.events.push(event);
    out.log.push({ type, subject, payload: { reason: event.reason, ...payload } });
  };
  for (const batch of next.batches ?? []) {
    if (!batch.completedAt || prev.batches?.[batch.batch - 1]?.completedAt) continue;
    const { devices, healthy, failed, offline } = batch;
    const note = `Batch ${batch.batch}/${next.batches?.length} completed: ${countsText(batch)}`;
    emit(normal('BatchCompleted', 'CompleteBatch', note), 'image.batch_completed', {
      ...{ batch: batch.batch, devices, healthy, failed, offline },
    });
  }
  effectEvents(rollout, next, decision, emit);
  phaseEvents(prev, next, decision, emit);
  return out;
}

type Emit = (event: PlannedEvent, type: EventLogEntry['type'], payload?: object) => void;

function effectEvents(rollout: ImageRollout, next: ImageRolloutStatus, d: Decision, emit: Emit) {
  const effect = d.effect;
  if (effect?.type === 'CreateMembership') {
    const payload = { image: imageOf(rollout), percentages: effect.percentages };
    emit(normal('RolloutStarted', 'CreateMembership', d.message), 'image.rollout_started', payload);
  } else if (effect?.type === 'Rebatch') {
    const payload = { startedBatches: effect.startedBatches, batchEnds: effect.batchEnds };
    emit(normal('BatchesReplanned', 'Rebatch', d.message), 'image.batches_replanned', payload);
  } else if (effect?.type === 'StartBatch') {
    const percent = next.batches?.[effect.batch - 1]?.percent;
    const payload = { batch: effect.batch, devices: effect.devices, percent };
    emit(normal('BatchStarted', 'StartBatch', d.message), 'image.device_scheduled', payload);
  } else if (effect?.type === 'RollBack') {
    const payload = { devices: d.rollback?.devices, cause: effect.reason };
    emit(warning('RollbackStarted', 'RollBack', d.message), 'image.rollback_started', payload);
  }
}

function phaseEvents(prev: ImageRolloutStatus, next: ImageRolloutStatus, d: Decision, emit: Emit) {
  const before = findCondition(prev.conditions, 'Progressing')?.reason;
  if (before === d.situation) return;
  const message = d.message;
  if (before === 'Frozen') {
    emit(normal('FreezeLifted', 'Unfreeze', `Freeze lifted: ${message}`), 'image.rollout_unfrozen');
  }
  switch (d.situation) {
    case 'Frozen':
      return emit(normal('FreezeStarted', 'Freeze', message), 'image.rollout_frozen');
    case 'PausedByUser':
      return emit(normal('RolloutPaused', 'Pause', message), 'image.rollout_paused');
    case 'FailureBudgetExceeded':
      return emit(warning('FailureBudgetExceeded', 'Pause', message), 'image.rollout_paused');
    case 'RolledBack':
      return emit(normal('RollbackCompleted', 'RollBack', message), 'image.rollback_completed', {
        ...{ devices: next.rollback?.devices, restored: next.rollback?.restored },
      });
    case 'Succeeded':
      return emit(normal('RolloutSucceeded', 'Fold', message), 'image.rollout_succeeded', {
        ...{ devices: next.devices, healthy: next.healthy, failed: next.failed },
      });
    case 'Superseded':
      return emit(normal('RolloutSuperseded', 'Fold', message), 'image.rollout_superseded', {
        supersededBy: next.supersededBy,
      });
    case 'InvalidSpec':
    case 'PolicyNotFound':
    case 'PolicyInvalid':
      return emit(warning('InvalidConfiguration', 'Block', message), 'image.rollout_blocked');
  }
  if (before === 'PausedByUser' || before === 'FailureBudgetExceeded') {
    if (d.situation !== 'RollingBack') {
      emit(normal('RolloutResumed', 'Resume', message), 'image.rollout_resumed');
    }
  }
}

function normal(reason: keyof typeof RolloutEventReasons, action: string, note: string) {
  return { type: 'Normal', reason: RolloutEventReasons[reason], action, note } as const;
}

function warning(reason: keyof typeof RolloutEventReasons, action: string, note: string) {
  return { type: 'Warning', reason: RolloutEventReasons[reason], action, note } as const;
}
