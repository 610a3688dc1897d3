/**
 * Device timers (offline, progress deadline) measured only over time the device API could take
 * reports. The device-API replicas record when none of them could (see docs/rollout-engine.md,
 * "When the device API is down"); these functions turn those records into cutoffs. Pure.
 */

/** A span of time during which no device-API replica took reports, as the replicas recorded it. */
export interface OutageWindow {
  from: Date;
  to: Date;
}

/** What the controller read about the device API before planning a rollout. */
export interface DeviceApiAvailability {
  /**
   * Some replica's heartbeat is fresh. Also true when no replica ever beat (a controller run
   * without a device API, e.g. from a script): there is nothing to judge by.
   */
  available: boolean;
  /** Why not: every replica's heartbeat expired, or the controller cannot reach Postgres. */
  cause?: 'NoReplica' | 'DatabaseUnreachable';
  /**
   * The latest heartbeat of any replica, on the planner's clock (`now` minus its age): the device
   * API is known to have taken reports until then, so device timers are judged as of then.
   */
  lastBeatAt?: Date;
  /** Ended outages that overlap the rollout's life, oldest first. */
  outages: OutageWindow[];
}

/** The availability assumed when the caller has none to give: available, no outages. */
export const DEVICE_API_ASSUMED: DeviceApiAvailability = { available: true, outages: [] };

/** The clock device timers run on: `now`, held back to the device API's latest heartbeat. */
export function timerClock(now: Date, api: DeviceApiAvailability | undefined): Date {
  const beat = api?.lastBeatAt;
  return beat && beat.getTime() < now.getTime() ? beat : now;
}

/**
 * The end of a span that starts at `start` and lasts `durationMs` of time the device API was
 * available: `start + durationMs`, moved on by the outage time inside it (a batch's progress
 * deadline).
 */
export function extendByOutages(
  start: Date,
  durationMs: number,
  outages: readonly OutageWindow[],
): Date {
  let end = start.getTime() + durationMs;
  for (const outage of sorted(outages)) {
    if (outage.from.getTime() >= end) break;
    const from = Math.max(outage.from.getTime(), start.getTime());
    end += Math.max(0, outage.to.getTime() - from);
  }
  return new Date(end);
}

/**
 * Devices last heard from before this time count as offline at `clock`. Silence counts only
 * while the device API could take reports, and an outage gives every device a fresh
 * `offlineAfter` once it ends: a device silent through an outage and for less than offlineAfter
 * since is not offline, while one already offline when the outage began stays offline.
 */
export function offlineCutoff(
  clock: Date,
  offlineAfterMs: number,
  outages: readonly OutageWindow[],
): Date {
  const windows = sorted(outages);
  let at = clock.getTime();
  for (;;) {
    const cutoff = at - offlineAfterMs;
    const latest = windows.findLast((outage) => outage.from.getTime() < at);
    if (!latest || latest.to.getTime() <= cutoff) return new Date(cutoff);
    at = latest.from.getTime();
  }
}

/**
 * When the devices of a batch started at `start` can first count as offline, if that is after
 * `clock` (undefined when they already can): offlineAfter after the batch started, or after the
 * latest outage ended, whichever is later.
 */
export function offlineFrom(
  start: Date,
  clock: Date,
  offlineAfterMs: number,
  outages: readonly OutageWindow[],
): Date | undefined {
  if (offlineCutoff(clock, offlineAfterMs, outages).getTime() >= start.getTime()) return undefined;
  const ended = Math.max(start.getTime(), ...outages.map((outage) => outage.to.getTime()));
  return new Date(ended + offlineAfterMs);
}

function sorted(outages: readonly OutageWindow[]): OutageWindow[] {
  return [...outages].sort((a, b) => a.from.getTime() - b.from.getTime());
}

/** What device timers are judged by in one planning pass. */
export interface DeviceTimers {
  /** See timerClock. */
  clock: Date;
  outages: readonly OutageWindow[];
}
