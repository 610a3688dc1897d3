import type { EventsV1Event } from '@kubernetes/client-node';
import type { BatchStatus, ImageRollout } from '../api/types.js';
import { pausedByBudget } from '../operations/rollout-actions.js';
import { isTerminal } from '../planner/siblings.js';
import { age, BAR_LEGEND, progressBar, table } from './text.js';

/** How many Events the status view shows, newest last. */
export const EVENTS_SHOWN = 5;

/**
 * The live view of one rollout, as text: identity and image, phase and what it waits for (with
 * the command that moves it on), each batch with a progress bar and its counts, conditions and
 * the last Events. Pure: the same rollout, Events and `now` give the same text.
 */
export function renderStatus(
  rollout: ImageRollout,
  events: readonly EventsV1Event[],
  now: Date,
): string {
  const status = rollout.status ?? {};
  const name = rollout.metadata.name ?? '';
  const digest = rollout.spec.digest ? `@${rollout.spec.digest}` : '';
  const header: Array<[string, string]> = [
    ['Name', name],
    ['Namespace', rollout.metadata.namespace ?? ''],
    ['Policy', rollout.spec.policyRef?.name ?? ''],
    ['Image', `${rollout.spec.image}:${rollout.spec.tag}${digest}`],
    ['Strategy', strategyText(rollout)],
    ['Phase', status.phase ?? 'Pending'],
    ['Message', status.message ?? '-'],
    ['Waiting for', waitingFor(rollout) ?? 'nothing'],
    ['Devices', devicesText(rollout)],
  ];
  if (status.rollback) {
    const { reason, restored, devices } = status.rollback;
    header.push(['Rollback', `${reason}: ${restored}/${devices} devices restored`]);
  }
  const sections = [header.map(([key, value]) => `${`${key}:`.padEnd(13)} ${value}`).join('\n')];
  sections.push(batchesText(status.batches ?? [], now));
  sections.push(conditionsText(rollout, now));
  sections.push(eventsText(events, now));
  return `${sections.join('\n\n')}\n`;
}

function strategyText(rollout: ImageRollout): string {
  const strategy = rollout.spec.strategy;
  if (!strategy) return "the policy's";
  const type = strategy.type ?? 'Staged';
  if (type === 'AllAtOnce') return 'AllAtOnce';
  const batches = (strategy.batches ?? [10, 50, 100]).map((p) => `${p}%`).join(' ');
  const approved = type === 'Manual' ? `, ${rollout.spec.approvedBatches ?? 0} approved` : '';
  const interval = type === 'Staged' ? `, ${strategy.interval ?? '10m'} apart` : '';
  return `${type}, batches ${batches}${approved}${interval}`;
}

function devicesText(rollout: ImageRollout): string {
  const s = rollout.status ?? {};
  if (s.devices === undefined) return '-';
  const batch = s.totalBatches ? `, batch ${s.currentBatch ?? 0}/${s.totalBatches}` : '';
  return `${s.devices}: ${s.updated ?? 0} updated, ${s.healthy ?? 0} healthy, ${s.failed ?? 0} failed${batch}`;
}

/** What the rollout waits for, and the command that moves it on; undefined when finished. */
export function waitingFor(rollout: ImageRollout): string | undefined {
  const status = rollout.status ?? {};
  const name = rollout.metadata.name ?? '';
  const phase = status.phase;
  if (isTerminal(phase)) return undefined;
  const next = (status.currentBatch ?? 0) + 1;
  switch (phase) {
    case 'WaitingForApproval':
      return `approval of batch ${next} (kubectl fleet approve ${name})`;
    case 'WaitingForWindow':
      return status.nextBatchAt
        ? `the maintenance window opening at ${status.nextBatchAt}`
        : 'a maintenance window, but none opens again';
    case 'Paused':
      return pausedByBudget(rollout)
        ? `an operator: the failure budget is spent (kubectl fleet retry ${name} accepts the failures, kubectl fleet abort ${name} rolls back)`
        : `kubectl fleet resume ${name}`;
    case 'Frozen':
      return `a FleetFreeze to lift: ${status.message ?? ''} (kubectl fleet get freezes)`;
    case 'RollingBack':
      return 'devices to report their previous images again';
    case 'Failed':
      return 'a fix of the rollout or its policy (see Message)';
    case undefined:
    case 'Pending':
      return status.message ?? 'the controller';
    case 'Progressing':
      if (status.nextBatchAt) {
        return `the batch interval, until ${status.nextBatchAt} (kubectl fleet approve ${name} skips it)`;
      }
      return inProgressText(status.batches?.[(status.currentBatch ?? 1) - 1]);
    default:
      // A phase this view does not know yet: the controller's message says what holds it.
      return status.message ?? 'the controller';
  }
}

function inProgressText(batch: BatchStatus | undefined): string {
  if (!batch) return 'the controller';
  const left = batch.devices - batch.healthy - batch.failed;
  return `batch ${batch.batch}: ${left} of ${batch.devices} devices to report healthy`;
}

function batchesText(batches: readonly BatchStatus[], now: Date): string {
  if (batches.length === 0) return 'Batches: none yet (the controller has not selected devices)';
  const rows = batches.map((batch) => [
    String(batch.batch),
    `${batch.percent}%`,
    String(batch.devices),
    progressBar(batch, 30),
    String(batch.updated),
    String(batch.healthy),
    String(batch.failed),
    String(batch.offline),
    String(batch.pending),
    batchState(batch, now),
  ]);
  const header = [
    'BATCH',
    'UP TO',
    'DEVICES',
    'PROGRESS',
    'UPDATED',
    'HEALTHY',
    'FAILED',
    'OFFLINE',
    'PENDING',
    'STATE',
  ];
  return `Batches:\n${table([header, ...rows])}\n${BAR_LEGEND}`;
}

function batchState(batch: BatchStatus, now: Date): string {
  if (batch.completedAt) return `Completed ${age(batch.completedAt, now)} ago`;
  if (batch.startedAt) return `Started ${age(batch.startedAt, now)} ago`;
  return 'Pending';
}

function conditionsText(rollout: ImageRollout, now: Date): string {
  const conditions = rollout.status?.conditions ?? [];
  if (conditions.length === 0) return 'Conditions: none';
  const rows = conditions.map((c) => [
    c.type,
    c.status,
    c.reason,
    age(c.lastTransitionTime, now),
    c.message,
  ]);
  return `Conditions:\n${table([['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'], ...rows])}`;
}

/** When an Event last happened: its series' last observation, else its time. */
export function eventTime(event: EventsV1Event): string | undefined {
  const time =
    event.series?.lastObservedTime ??
    event.eventTime ??
    event.deprecatedLastTimestamp ??
    event.metadata?.creationTimestamp;
  if (time === undefined || time === null) return undefined;
  return time instanceof Date ? time.toISOString() : String(time);
}

function eventsText(events: readonly EventsV1Event[], now: Date): string {
  if (events.length === 0) return 'Events: none';
  const last = [...events]
    .sort((a, b) => Date.parse(eventTime(a) ?? '') - Date.parse(eventTime(b) ?? ''))
    .slice(-EVENTS_SHOWN);
  const rows = last.map((event) => {
    const count = event.series?.count ? ` (x${event.series.count})` : '';
    return [
      age(eventTime(event), now),
      event.type ?? '',
      `${event.reason ?? ''}${count}`,
      event.note ?? '',
    ];
  });
  return `Events (last ${EVENTS_SHOWN}):\n${table([['AGE', 'TYPE', 'REASON', 'MESSAGE'], ...rows])}`;
}
