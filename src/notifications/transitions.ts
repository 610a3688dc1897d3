import { type RolloutEventReason, RolloutReasons } from '../api/conditions.js';
import type { ImageRollout, NotificationEvent } from '../api/types.js';
import { findCondition } from '../planner/conditions.js';
import { imageOf } from '../planner/decision.js';
import type { RolloutPlan } from '../planner/types.js';

/**
 * Which rollout transitions are notifications: derived from what the planner already decided
 * (its Events and the next status), never decided twice. Pure; the controller writes the result
 * to the outbox with the plan's effect (see docs/notifications.md).
 */

/** Every notification event, in the order a rollout meets them. */
export const NOTIFICATION_EVENTS: readonly NotificationEvent[] = [
  'Started',
  'BatchStarted',
  'WaitingForApproval',
  'Paused',
  'FailureBudgetExceeded',
  'RollingBack',
  'RolledBack',
  'Succeeded',
  'Failed',
];

/** The one table from the rollout Event reasons the planner emits to notification events. */
const BY_EVENT_REASON: Partial<Record<RolloutEventReason, NotificationEvent>> = {
  RolloutStarted: 'Started',
  BatchStarted: 'BatchStarted',
  RolloutPaused: 'Paused',
  FailureBudgetExceeded: 'FailureBudgetExceeded',
  RollbackStarted: 'RollingBack',
  RollbackCompleted: 'RolledBack',
  RolloutSucceeded: 'Succeeded',
  InvalidConfiguration: 'Failed',
};

/** What one notification says; stored in the outbox, rendered per channel type. */
export interface RolloutNotification {
  /** Idempotency key: the same transition planned again (after a crash) has the same key. */
  key: string;
  event: NotificationEvent;
  namespace: string;
  name: string;
  uid: string;
  policy: string;
  labels: Record<string, string>;
  /** `repository:tag[@digest]`. */
  image: string;
  /** The latest started batch and the number of batches. */
  batch: number;
  batches: number;
  devices: number;
  updated: number;
  healthy: number;
  failed: number;
  /** The reason of the rollout's Progressing condition (PausedByUser, FailureBudgetExceeded, …). */
  reason: string;
  message: string;
  /** When the controller decided it (RFC 3339). */
  time: string;
}

/** The notifications of one planned pass over `rollout`; none when nothing changed. */
export function notificationsOf(
  rollout: ImageRollout,
  plan: Pick<RolloutPlan, 'events' | 'status' | 'effect'>,
  now: Date,
): RolloutNotification[] {
  const found = new Map<NotificationEvent, string>();
  for (const event of plan.events) {
    const kind = BY_EVENT_REASON[event.reason];
    if (kind && !found.has(kind)) found.set(kind, event.note);
  }
  const before = findCondition(rollout.status?.conditions, 'Progressing')?.reason;
  const after = findCondition(plan.status.conditions, 'Progressing');
  const waiting = RolloutReasons.WaitingForApproval;
  if (after?.reason === waiting && before !== waiting && !found.has('WaitingForApproval')) {
    found.set('WaitingForApproval', after.message);
  }
  return [...found].map(([event, message]) => build(rollout, plan, event, message, now));
}

function build(
  rollout: ImageRollout,
  plan: Pick<RolloutPlan, 'status' | 'effect'>,
  event: NotificationEvent,
  message: string,
  now: Date,
): RolloutNotification {
  const { status, effect } = plan;
  const { namespace = '', name = '', uid = '', generation = 0, labels = {} } = rollout.metadata;
  const batch = effect?.type === 'StartBatch' ? effect.batch : (status.currentBatch ?? 0);
  return {
    key: keyOf(uid, event, generation, batch),
    event,
    namespace,
    name,
    uid,
    policy: rollout.spec.policyRef?.name ?? '',
    labels,
    image: imageOf(rollout),
    batch,
    batches: status.totalBatches ?? status.batches?.length ?? 0,
    devices: status.devices ?? 0,
    updated: status.updated ?? 0,
    healthy: status.healthy ?? 0,
    failed: status.failed ?? 0,
    reason: findCondition(status.conditions, 'Progressing')?.reason ?? '',
    message,
    time: now.toISOString(),
  };
}

/**
 * `<rollout uid>/<event>[/<occurrence>]`: once per rollout, per batch, or per generation (a
 * pause, a failure, a budget trip can happen again after the spec changed).
 */
export function keyOf(uid: string, event: NotificationEvent, generation: number, batch: number) {
  switch (event) {
    case 'BatchStarted':
      return `${uid}/${event}/${batch}`;
    case 'WaitingForApproval':
      return `${uid}/${event}/${batch + 1}`;
    case 'Paused':
    case 'Failed':
      return `${uid}/${event}/${generation}`;
    case 'FailureBudgetExceeded':
      return `${uid}/${event}/${generation}/${batch}`;
    default:
      return `${uid}/${event}`;
  }
}
