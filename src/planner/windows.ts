import { Cron } from 'croner';
import type { MaintenanceWindow } from '../api/types.js';
import { parseDuration } from './duration.js';

/** Any fixed instant works: a pattern that never fires has no run after it either. */
const REFERENCE = new Date('2000-01-01T00:00:00Z');

/** A maintenance window ready to evaluate: its start schedule and how long it stays open. */
interface Window {
  cron: Cron;
  durationMs: number;
}

/** Why a window is invalid, or undefined when it is valid. */
export function windowProblem(window: MaintenanceWindow): string | undefined {
  const zone = window.timeZone ?? 'UTC';
  if (!isTimeZone(zone)) return `unknown IANA time zone "${zone}"`;
  let durationMs: number;
  try {
    durationMs = parseDuration(window.duration);
  } catch (error) {
    return (error as Error).message;
  }
  if (durationMs <= 0) return `duration "${window.duration}" must be positive`;
  let cron: Cron;
  try {
    cron = toCron(window.schedule, zone);
  } catch (error) {
    return `invalid cron schedule "${window.schedule}": ${(error as Error).message}`;
  }
  if (cron.nextRun(REFERENCE) === null) return `cron schedule "${window.schedule}" never fires`;
  return undefined;
}

/** Whether an IANA time zone name is known to this runtime. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The earliest instant at or after `from` at which some window is open, or undefined when no
 * window ever opens again. A window opens at each run of its five-field cron `schedule`, read
 * in `timeZone` (UTC when unset; croner moves a start that falls in a DST gap to the first
 * valid time after it and starts once when a local time repeats), and stays open for
 * `duration` of elapsed time, so it may cross midnight. Windows must be valid (windowProblem).
 */
export function windowOpenAt(windows: readonly MaintenanceWindow[], from: Date): Date | undefined {
  const ready = windows.map(prepare);
  if (ready.some((window) => isOpen(window, from))) return from;
  const openings = ready
    .map((window) => window.cron.nextRun(from))
    .filter((run): run is Date => run !== null);
  if (openings.length === 0) return undefined;
  return new Date(Math.min(...openings.map((run) => run.getTime())));
}

function prepare(window: MaintenanceWindow): Window {
  return {
    cron: toCron(window.schedule, window.timeZone ?? 'UTC'),
    durationMs: parseDuration(window.duration),
  };
}

function isOpen(window: Window, at: Date): boolean {
  // The latest start at or before `at` (runs fall on whole seconds, so +1 ms includes `at`).
  const [start] = window.cron.previousRuns(1, new Date(at.getTime() + 1));
  return start !== undefined && at.getTime() < start.getTime() + window.durationMs;
}

/** A croner schedule without a callback: it only computes, it never starts a timer. */
function toCron(schedule: string, timeZone: string): Cron {
  return new Cron(schedule, { timezone: timeZone, mode: '5-part' });
}
