import { RolloutReasons } from '../api/conditions.js';
import { type Condition, ConditionTypes } from '../api/types.js';
import { countsText, sumCounts } from './batch-counts.js';
import {
  type BatchView,
  type Layout,
  layoutBatches,
  reportedDevices,
  startedDevices,
  toBatchStatus,
} from './batch-view.js';
import { findCondition, formatTime } from './conditions.js';
import type { Decision, SettledContext } from './decision.js';
import { describeFreezes } from './freeze.js';
import { offlineFrom } from './outages.js';
import type { RolloutTarget } from './types.js';
import { windowOpenAt } from './windows.js';

/**
 * With membership: guard the failure budget, replan changed batches, follow the latest batch
 * to completion, then start the next one once approval, interval and window allow.
 */
export function planActive(context: SettledContext, target: RolloutTarget): Decision {
  const { settings, now, rollout } = context;
  const started = target.startedBatches;
  const layout = layoutBatches(
    context.progress,
    started,
    context.prev,
    settings,
    now,
    context.timers,
  );
  const tripped = layout.views.find((view) => view.started && view.budgetExceeded);
  if (tripped) return budgetExceeded(context, layout, tripped);
  const held = heldBudgetPause(context);
  if (held) return { situation: 'FailureBudgetExceeded', message: held.message, layout };
  if (layout.needsRebatch) {
    const percents = layout.views.map((view) => `${view.percent}%`).join(', ');
    return {
      situation: 'Replanning',
      message: `Re-planning batches after batch ${started}: ${percents}`,
      effect: { type: 'Rebatch', startedBatches: started, batchEnds: layout.ends },
      requeueAt: now,
      layout,
    };
  }
  const current = layout.views[started - 1];
  if (started >= layout.views.length && (current === undefined || current.complete)) {
    return { ...succeeded(layout), effect: { type: 'Fold' } };
  }
  if (current && !current.complete) return inProgress(context, layout, current);
  if (rollout.spec.paused) {
    return {
      situation: 'PausedByUser',
      message: `Paused by spec.paused after batch ${started}`,
      layout,
    };
  }
  if (context.freeze.holding.length > 0) {
    const by = describeFreezes(context.freeze.holding);
    const message = `Frozen by ${by}: batch ${started + 1}/${layout.views.length} waits`;
    return { situation: 'Frozen', message, layout };
  }
  return nextBatch(context, layout, started + 1);
}

/** The decision for a rollout whose every batch completed. */
export function succeeded(layout: Layout): Decision {
  const views = layout.views;
  if (views.length === 0) {
    return { situation: 'Succeeded', message: 'The selector matched no devices', layout };
  }
  const counts = countsText(sumCounts(views.map(toBatchStatus)));
  return {
    situation: 'Succeeded',
    message: `All ${views.length} batches completed: ${counts}`,
    layout,
  };
}

function budgetExceeded(context: SettledContext, layout: Layout, view: BatchView): Decision {
  const { settings, now } = context;
  const detail = budgetDetail(view, settings.maxFailurePercent);
  if (settings.failureAction === 'Pause') {
    return { situation: 'FailureBudgetExceeded', message: `Paused, ${detail}`, layout };
  }
  const devices = startedDevices(layout);
  const reason = RolloutReasons.FailureBudgetExceeded;
  return {
    situation: 'RollingBack',
    message: `Rolling back, ${detail}`,
    effect: { type: 'RollBack', reason },
    requeueAt: now,
    layout,
    rollback: { reason, devices, restored: 0, startedAt: formatTime(now) },
  };
}

/**
 * Why the budget tripped, with the batch's counts as its status shows them:
 * "batch 1: 4 failed, 57% of the 7 devices that reported, above the 20% budget (3 healthy, …)".
 */
function budgetDetail(view: BatchView, maxFailurePercent: number): string {
  const reported = reportedDevices(view);
  const share = Math.round((100 * view.failed) / reported);
  const counts = countsText(toBatchStatus(view));
  return `batch ${view.batch}: ${view.failed} failed, ${share}% of the ${reported} devices that reported, above the ${maxFailurePercent}% budget (${counts})`;
}

/**
 * The failure-budget pause observed at this generation, if any: it holds until the spec changes,
 * even when counts that were not final (late or silent devices) fall back under the budget.
 */
function heldBudgetPause({ prev, rollout }: SettledContext): Condition | undefined {
  const progressing = findCondition(prev.conditions, ConditionTypes.Progressing);
  const held =
    progressing?.reason === RolloutReasons.FailureBudgetExceeded &&
    progressing.observedGeneration === rollout.metadata.generation;
  return held ? progressing : undefined;
}

/** The latest batch still has devices to hear from: wait for reports, soak ends and deadlines. */
function inProgress(context: SettledContext, layout: Layout, view: BatchView): Decision {
  const { settings, now, timers } = context;
  const startedAt = new Date(Date.parse(view.startedAt ?? formatTime(now)));
  const requeueAt = nextTimer(now, timers.clock, [
    view.deadlineAt,
    view.soakingUntil,
    offlineFrom(startedAt, timers.clock, settings.offlineAfterMs, timers.outages),
  ]);
  const of = `Batch ${view.batch}/${layout.views.length}`;
  const held = heldBy(context);
  if (view.scheduled + view.updating + view.soaking === 0 && view.waitingOnOffline) {
    const until = formatTime(view.deadlineAt ?? now);
    return {
      situation: held?.situation ?? 'BatchWaitingOnOfflineDevices',
      message: `${held?.prefix ?? ''}${of} waits for ${view.offline} offline devices until ${until}`,
      requeueAt,
      layout,
    };
  }
  const counts = `${view.healthy} healthy, ${view.soaking} soaking, ${view.updating} updating, ${view.scheduled} scheduled, ${view.failed} failed, ${view.offline} offline of ${view.devices}`;
  return {
    situation: held?.situation ?? 'BatchInProgress',
    message: `${held?.prefix ?? ''}${of}: ${counts}`,
    requeueAt,
    layout,
  };
}

/**
 * What holds the next batch back while the current one finishes: `spec.paused` first (an
 * operator's own pause outlasts any freeze), then an active FleetFreeze.
 */
function heldBy(context: SettledContext) {
  if (context.rollout.spec.paused) {
    return { situation: 'PausedByUser', prefix: 'Paused by spec.paused; ' } as const;
  }
  if (context.freeze.holding.length === 0) return undefined;
  const prefix = `Frozen by ${describeFreezes(context.freeze.holding)}; `;
  return { situation: 'Frozen', prefix } as const;
}

/** Batch `next` may start: check approval, interval and maintenance window, then start it. */
function nextBatch(context: SettledContext, layout: Layout, next: number): Decision {
  const { settings, now, rollout } = context;
  const of = `Batch ${next}/${layout.views.length}`;
  const approved = rollout.spec.approvedBatches ?? 0;
  if (settings.type === 'Manual' && approved < next) {
    const message = `${of} waits for approval: set spec.approvedBatches to ${next}`;
    return { situation: 'WaitingForApproval', message, layout };
  }
  const previous = layout.views[next - 2];
  const promoted = settings.type === 'Staged' && approved >= next;
  const intervalEnd =
    previous?.completedAt && !promoted ? Date.parse(previous.completedAt) + settings.intervalMs : 0;
  const earliest = new Date(Math.max(now.getTime(), intervalEnd));
  const windows = settings.maintenanceWindows;
  const opensAt = windows.length > 0 ? windowOpenAt(windows, earliest) : earliest;
  if (opensAt === undefined) {
    const message = `${of} waits for a maintenance window, but none opens again`;
    return { situation: 'WaitingForWindow', message, layout };
  }
  if (opensAt.getTime() > now.getTime()) {
    const situation = intervalEnd > now.getTime() ? 'WaitingForInterval' : 'WaitingForWindow';
    const message = `${of} starts at ${formatTime(opensAt)} (${situation === 'WaitingForInterval' ? 'batch interval' : 'maintenance window'})`;
    return { situation, message, layout, nextBatchAt: opensAt, requeueAt: opensAt };
  }
  return startBatch(context, layout, next);
}

function startBatch(context: SettledContext, layout: Layout, batch: number): Decision {
  const { now } = context;
  const views = layout.views.map((view) =>
    view.batch === batch
      ? { ...view, started: true, pending: 0, scheduled: view.devices, startedAt: formatTime(now) }
      : view,
  );
  const devices = views[batch - 1]?.devices ?? 0;
  return {
    situation: 'BatchInProgress',
    message: `Batch ${batch}/${views.length} started: ${devices} devices scheduled`,
    effect: { type: 'StartBatch', batch, devices },
    requeueAt: now,
    layout: { ...layout, views },
    startedBatches: batch,
  };
}

/**
 * When to look again for the earliest of the times still ahead of the timer clock: at that time,
 * or, when `now` has passed it but the device API's latest heartbeat has not, a little later.
 */
function nextTimer(now: Date, clock: Date, times: Array<Date | undefined>): Date | undefined {
  const ahead = times
    .filter((time): time is Date => time !== undefined && time.getTime() > clock.getTime())
    .map((time) => time.getTime());
  if (ahead.length === 0) return undefined;
  const earliest = Math.min(...ahead);
  return new Date(earliest > now.getTime() ? earliest : now.getTime() + TIMER_RECHECK_MS);
}

/** How soon to look again for a timer the heartbeat has not reached yet (beats every 2 s). */
const TIMER_RECHECK_MS = 1_000;
