import type { BatchStatus, ImageRolloutStatus } from '../api/types.js';
import { formatTime } from './conditions.js';
import { endsToSizes, planBatches } from './membership.js';
import { type DeviceTimers, extendByOutages } from './outages.js';
import type { RolloutSettings } from './settings.js';
import type { BatchProgress } from './types.js';

/**
 * One batch as the planner sees it: layout, effective counts and what it waits for. Once the
 * progress deadline has passed, and until the batch completes, `failed` includes the devices
 * still scheduled or updating and those offline on the new image (`offline` then keeps only
 * the devices that went silent before reporting it).
 */
export interface BatchView extends BatchProgress {
  percent: number;
  started: boolean;
  startedAt?: string;
  completedAt?: string;
  /**
   * When the batch's progress deadline passes (started batches, with settings): the deadline
   * after the start, moved on by the device-API outages inside it.
   */
  deadlineAt?: Date;
  /** Only offline devices keep the batch from completing. */
  waitingOnOffline: boolean;
  budgetExceeded: boolean;
  complete: boolean;
}

/** The batch layout of a rollout with membership, and whether the stored one must change. */
export interface Layout {
  views: BatchView[];
  /** Cumulative ends the members should have; differs from the stored ones when rebatching. */
  ends: number[];
  needsRebatch: boolean;
}

/**
 * Lays out batches from the stored membership counts: started batches stay as stored; the rest
 * follow the current percentages (a changed `strategy.batches` only moves devices that have not
 * started). Without settings (configuration problems, rollback) the stored layout is shown.
 * Deadlines are judged on `timers.clock` (default `now`), over the device API's uptime.
 */
export function layoutBatches(
  progress: readonly BatchProgress[],
  startedBatches: number,
  prev: ImageRolloutStatus,
  settings: RolloutSettings | undefined,
  now: Date,
  timers: DeviceTimers = { clock: now, outages: [] },
): Layout {
  const stored = storedSizes(progress);
  const memberCount = stored.reduce((sum, size) => sum + size, 0);
  const startedEnds = cumulative(stored.slice(0, startedBatches));
  const planned = settings ? planBatches(memberCount, settings.batches, startedEnds) : [];
  const ends = settings
    ? [...startedEnds, ...planned.map((batch) => batch.end)]
    : cumulative(stored);
  const sizes = endsToSizes(ends);
  const needsRebatch = sizes.length !== stored.length || sizes.some((s, i) => s !== stored[i]);
  const views = sizes.map((size, i) => {
    const batch = i + 1;
    const replanned = batch > startedBatches ? planned[i - startedBatches] : undefined;
    const percent =
      replanned?.percent ??
      prev.batches?.[i]?.percent ??
      Math.ceil((100 * (ends[i] as number)) / memberCount);
    if (batch > startedBatches) return pendingView(batch, percent, size);
    const counts = progress.find((p) => p.batch === batch);
    return startedView(batch, percent, counts, prev.batches?.[i], settings, now, timers);
  });
  return { views, ends, needsRebatch };
}

/** Stored batch sizes by batch number (1-based; index 0 is batch 1); missing batches are 0. */
function storedSizes(progress: readonly BatchProgress[]): number[] {
  const count = Math.max(0, ...progress.filter((p) => p.devices > 0).map((p) => p.batch));
  const sizes = new Array<number>(count).fill(0);
  for (const p of progress) if (p.batch >= 1 && p.batch <= count) sizes[p.batch - 1] = p.devices;
  return sizes;
}

function cumulative(sizes: readonly number[]): number[] {
  let sum = 0;
  return sizes.map((size) => {
    sum += size;
    return sum;
  });
}

function pendingView(batch: number, percent: number, devices: number): BatchView {
  const flags = { started: false, waitingOnOffline: false, budgetExceeded: false, complete: false };
  return { ...EMPTY_PROGRESS, batch, devices, pending: devices, percent, ...flags };
}

/** Counts of a batch no device of which has done anything (batch 0, no devices). */
export const EMPTY_PROGRESS: BatchProgress = {
  batch: 0,
  devices: 0,
  pending: 0,
  scheduled: 0,
  updating: 0,
  soaking: 0,
  healthy: 0,
  failed: 0,
  offline: 0,
  offlineOnNewImage: 0,
};

function startedView(
  batch: number,
  percent: number,
  counts: BatchProgress | undefined,
  prev: BatchStatus | undefined,
  settings: RolloutSettings | undefined,
  now: Date,
  timers: DeviceTimers,
): BatchView {
  const startedAt = prev?.startedAt ?? formatTime(now);
  const deadlineAt =
    settings &&
    extendByOutages(new Date(Date.parse(startedAt)), settings.progressDeadlineMs, timers.outages);
  const finished = prev?.completedAt !== undefined;
  const pastDeadline = deadlineAt !== undefined && timers.clock.getTime() >= deadlineAt.getTime();
  // The deadline judges a batch until it completes; after that a device is judged by what it
  // reports, so one that was offline at the deadline may still update. A device that went silent
  // after reporting the new image fails at the deadline: the image may have cut its network.
  const late = pastDeadline && !finished;
  const c = counts ?? EMPTY_PROGRESS;
  const view: BatchView = {
    batch,
    percent,
    devices: c.devices,
    started: true,
    pending: c.pending,
    scheduled: late ? 0 : c.scheduled,
    updating: late ? 0 : c.updating,
    soaking: c.soaking,
    healthy: c.healthy,
    failed: c.failed + (late ? c.scheduled + c.updating + c.offlineOnNewImage : 0),
    offline: late ? c.offline - c.offlineOnNewImage : c.offline,
    offlineOnNewImage: late ? 0 : c.offlineOnNewImage,
    startedAt,
    deadlineAt,
    soakingUntil: c.soakingUntil,
    waitingOnOffline: false,
    budgetExceeded: false,
    complete: false,
  };
  view.waitingOnOffline = view.offline > 0 && !pastDeadline && !finished;
  view.budgetExceeded =
    settings !== undefined &&
    batch > settings.acceptedFailureBatches &&
    budgetExceeded(view, settings);
  const settled = view.scheduled + view.updating + view.soaking === 0 && !view.waitingOnOffline;
  view.complete = finished || (settled && !view.budgetExceeded);
  view.completedAt = prev?.completedAt ?? (view.complete ? formatTime(now) : undefined);
  return view;
}

/**
 * failed / (healthy + soaking + failed) above maxFailurePercent, once at least minSample devices
 * reported — or every device that is not offline, when the batch has fewer than minSample.
 */
function budgetExceeded(view: BatchView, settings: RolloutSettings): boolean {
  const reported = reportedDevices(view);
  const minSample = Math.min(settings.minSample, view.devices - view.offline);
  return (
    reported > 0 &&
    reported >= minSample &&
    view.failed * 100 > settings.maxFailurePercent * reported
  );
}

/** The devices of a batch that reported the new image: what the failure budget divides by. */
export function reportedDevices(view: BatchProgress): number {
  return view.healthy + view.soaking + view.failed;
}

/** Devices of the started batches: those a rollback restores. */
export function startedDevices(layout: Layout): number {
  return layout.views.filter((view) => view.started).reduce((sum, view) => sum + view.devices, 0);
}

/** A batch view as status shows it. */
export function toBatchStatus(view: BatchView): BatchStatus {
  return {
    batch: view.batch,
    percent: view.percent,
    devices: view.devices,
    updated: view.updating + view.soaking + view.healthy,
    healthy: view.healthy,
    failed: view.failed,
    offline: view.offline,
    pending: view.pending + view.scheduled,
    startedAt: view.startedAt,
    completedAt: view.completedAt,
  };
}
