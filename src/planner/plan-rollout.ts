import { RolloutReasons } from '../api/conditions.js';
import type { ImageRollout, ImageRolloutStatus } from '../api/types.js';
import { type Layout, layoutBatches, startedDevices } from './batch-view.js';
import { formatTime } from './conditions.js';
import type { Context, Decision, SettledContext } from './decision.js';
import { describeFreezes, rolloutFreeze } from './freeze.js';
import { DEVICE_API_ASSUMED, timerClock } from './outages.js';
import { planActive, succeeded } from './plan-batches.js';
import { resumeEvents, waitForDeviceApi } from './plan-outage.js';
import { transitionEvents } from './rollout-events.js';
import { buildStatus } from './rollout-status.js';
import { resolveRolloutSettings, type SettingsProblem } from './settings.js';
import { isTerminal, newerRollout, olderRunningRollouts } from './siblings.js';
import type { PlanRolloutInput, RolloutPlan, RolloutTarget } from './types.js';

/**
 * Plans one reconcile of an ImageRollout: the effect to apply, the next status, the Events and
 * event-log entries of the transition, and when to look again. Pure: same input, same plan.
 * While the device API cannot take reports the rollout only waits (plan-outage.ts).
 */
export function planRollout(input: PlanRolloutInput): RolloutPlan {
  const prev = input.rollout.status ?? {};
  if (isTerminal(prev.phase)) return keepTerminal(input.rollout, prev);
  const deviceApi = input.deviceApi ?? DEVICE_API_ASSUMED;
  if (!deviceApi.available) return waitForDeviceApi(input.rollout, prev, deviceApi, input.now);
  const resolved = resolveRolloutSettings(input.rollout, input.policy);
  const timers = { clock: timerClock(input.now, deviceApi), outages: deviceApi.outages };
  const freeze = rolloutFreeze(input.rollout, input.freezes ?? [], input.now);
  const siblings = input.siblings ?? [];
  const context: Context = { ...input, siblings, prev, resolved, timers, freeze };
  const decision = decide(context, input.target);
  const status = buildStatus(context, input.target, decision);
  const { events, log } = transitionEvents(input.rollout, prev, status, decision);
  events.push(...resumeEvents(prev, deviceApi));
  // A freeze window that opens or closes changes the plan by itself: look again then.
  const requeueAt = earliest(decision.requeueAt, freeze.nextChangeAt);
  return { effect: decision.effect, status, events, log, requeueAt };
}

function earliest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a || !b) return a ?? b;
  return a.getTime() <= b.getTime() ? a : b;
}

/** A terminal rollout only records that it saw the latest generation. */
function keepTerminal(rollout: ImageRollout, prev: ImageRolloutStatus): RolloutPlan {
  const observedGeneration = rollout.metadata.generation;
  const conditions = prev.conditions?.map((condition) => ({ ...condition, observedGeneration }));
  return { status: { ...prev, observedGeneration, conditions }, events: [], log: [] };
}

function decide(context: Context, target: RolloutTarget | undefined): Decision {
  if (target?.state === 'rolledBack') return rollingBack(context, target);
  if (target?.state === 'folded') return folded(context, target);
  if (context.rollout.spec.abort) return abort(context, target);
  const resolved = context.resolved;
  if ('problem' in resolved) return blocked(context, target, resolved.problem);
  const settled: SettledContext = { ...context, settings: resolved.settings };
  if (resolved.settings.onNewImage === 'Supersede') {
    const newer = newerRollout(context.rollout, context.siblings);
    if (newer) return superseded(context, target, newer.metadata.name ?? '');
  }
  return target ? planActive(settled, target) : planStart(settled);
}

/** Before membership: wait for older rollouts and for `paused`, then select the devices. */
function planStart(context: SettledContext): Decision {
  const { rollout, settings, now } = context;
  const older = olderRunningRollouts(rollout, context.siblings);
  if (older.length > 0) {
    const names = older.map((other) => other.metadata.name).join(', ');
    return { situation: 'Queued', message: `Queued behind ImageRollout ${names}` };
  }
  if (rollout.spec.paused) {
    return { situation: 'PausedByUser', message: 'Paused by spec.paused before the first batch' };
  }
  if (context.freeze.holding.length > 0) {
    const by = describeFreezes(context.freeze.holding);
    return { situation: 'Frozen', message: `Frozen by ${by}: waits to select devices` };
  }
  return {
    situation: 'CreatingMembership',
    message: `Selecting devices for ${rollout.spec.image}`,
    effect: {
      type: 'CreateMembership',
      selector: settings.selector,
      percentages: settings.batches,
      ...(settings.healthChecks.length > 0 ? { healthChecks: settings.healthChecks } : {}),
    },
    requeueAt: now,
  };
}

function abort(context: Context, target: RolloutTarget | undefined): Decision {
  const startedAt = formatTime(context.now);
  if (!target) {
    const rollback = { reason: RolloutReasons.Aborted, devices: 0, restored: 0, startedAt };
    return {
      situation: 'RolledBack',
      message: 'Aborted before any device was scheduled',
      rollback: { ...rollback, completedAt: startedAt },
    };
  }
  const layout = storedLayout(context, target);
  const devices = startedDevices(layout);
  return {
    situation: 'RollingBack',
    message: `Aborted: rolling ${devices} devices back to their previous images`,
    effect: { type: 'RollBack', reason: RolloutReasons.Aborted },
    requeueAt: context.now,
    layout,
    rollback: { reason: RolloutReasons.Aborted, devices, restored: 0, startedAt },
  };
}

/** A configuration problem: nothing more is scheduled and nothing retried until a change. */
function blocked(context: Context, target: RolloutTarget | undefined, problem: SettingsProblem) {
  const layout = target && storedLayout(context, target);
  return { situation: problem.reason, message: problem.message, layout } satisfies Decision;
}

function superseded(context: Context, target: RolloutTarget | undefined, by: string) {
  const layout = target && storedLayout(context, target);
  return {
    situation: 'Superseded',
    message: `Superseded by ImageRollout ${by}`,
    effect: target ? { type: 'Fold' } : undefined,
    layout,
    supersededBy: by,
  } satisfies Decision;
}

/** The target is back on previous images: report restore progress until every device is. */
function rollingBack(context: Context, target: RolloutTarget): Decision {
  const { prev, now } = context;
  const layout = storedLayout(context, target);
  const reason =
    prev.rollback?.reason ??
    (context.rollout.spec.abort ? RolloutReasons.Aborted : RolloutReasons.FailureBudgetExceeded);
  const progress = context.rollback ?? {
    devices: prev.rollback?.devices ?? 0,
    restored: 0,
    offline: 0,
  };
  const done = progress.restored + progress.offline >= progress.devices;
  const startedAt = prev.rollback?.startedAt ?? formatTime(now);
  const completedAt = done ? (prev.rollback?.completedAt ?? formatTime(now)) : undefined;
  const offline = progress.offline > 0 ? `, ${progress.offline} offline` : '';
  const counts = `${progress.restored}/${progress.devices} devices restored${offline}`;
  return {
    situation: done ? 'RolledBack' : 'RollingBack',
    message: `${done ? 'Rolled back' : 'Rolling back'} (${reason}): ${counts}`,
    layout,
    rollback: {
      reason,
      devices: progress.devices,
      restored: progress.restored,
      startedAt,
      completedAt,
    },
  };
}

/** The target was folded but the status does not say so yet (a crash in between). */
function folded(context: Context, target: RolloutTarget): Decision {
  const layout = storedLayout(context, target);
  if (target.startedBatches >= layout.views.length) return succeeded(layout);
  const by = newerRollout(context.rollout, context.siblings)?.metadata.name;
  const message = `Superseded by ImageRollout ${by ?? '(deleted)'}`;
  return { situation: 'Superseded', message, layout, supersededBy: by };
}

/** The batches as stored, for passes that plan no new batch (or cannot: no settings). */
function storedLayout(context: Context, target: RolloutTarget): Layout {
  return layoutBatches(
    context.progress,
    target.startedBatches,
    context.prev,
    undefined,
    context.now,
    context.timers,
  );
}
