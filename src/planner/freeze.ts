import type { FleetFreeze, ImageRollout } from '../api/types.js';
import { matchesRequirements } from './selector.js';

/**
 * Fleet freezes as the planner sees them: whether a FleetFreeze holds now (its window), and
 * whether it holds a given rollout (its namespace and scope). Pure: the time is an input.
 */

/** Where a freeze stands at a time: before its window, holding, or past its window. */
export type FreezeState = 'Scheduled' | 'Active' | 'Ended';

/** A freeze's state at `now` and the next time that state changes by itself (a window edge). */
export interface FreezeTiming {
  state: FreezeState;
  /** The window start (Scheduled) or end (Active); undefined when only a change or delete lifts it. */
  changesAt?: Date;
}

/** The state of `freeze` at `now`: a window holds from start (inclusive) to end (exclusive). */
export function freezeTiming(freeze: Pick<FleetFreeze, 'spec'>, now: Date): FreezeTiming {
  const start = parseTime(freeze.spec.window?.start);
  const end = parseTime(freeze.spec.window?.end);
  if (start && now.getTime() < start.getTime()) return { state: 'Scheduled', changesAt: start };
  if (end && now.getTime() >= end.getTime()) return { state: 'Ended' };
  return { state: 'Active', changesAt: end };
}

/** Whether `freeze` covers `rollout`: same namespace, and every scope field that is set matches. */
export function freezeCovers(freeze: FleetFreeze, rollout: ImageRollout): boolean {
  if (freeze.metadata.namespace !== rollout.metadata.namespace) return false;
  const scope = freeze.spec.scope ?? {};
  if (scope.policies?.length && !scope.policies.includes(rollout.spec.policyRef.name)) return false;
  const selector = scope.selector;
  if (!selector) return true;
  const labels = rollout.metadata.labels ?? {};
  const wanted = Object.entries(selector.matchLabels ?? {});
  if (!wanted.every(([key, value]) => Object.hasOwn(labels, key) && labels[key] === value)) {
    return false;
  }
  return matchesRequirements(selector.matchExpressions ?? [], labels);
}

/** What the freezes of a namespace mean for one rollout at `now`. */
export interface RolloutFreeze {
  /** The active freezes covering the rollout, by name; empty when none holds it. */
  holding: FleetFreeze[];
  /** The earliest window edge of a covering freeze still ahead: look at the rollout again then. */
  nextChangeAt?: Date;
}

/** Which of `freezes` hold `rollout` now, and when that may change by itself. */
export function rolloutFreeze(
  rollout: ImageRollout,
  freezes: readonly FleetFreeze[],
  now: Date,
): RolloutFreeze {
  const covering = freezes.filter(
    (freeze) => !freeze.metadata.deletionTimestamp && freezeCovers(freeze, rollout),
  );
  const timings = covering.map((freeze) => ({ freeze, timing: freezeTiming(freeze, now) }));
  const holding = timings
    .filter(({ timing }) => timing.state === 'Active')
    .map(({ freeze }) => freeze)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const edges = timings
    .map(({ timing }) => timing.changesAt?.getTime())
    .filter((time): time is number => time !== undefined && time > now.getTime());
  const nextChangeAt = edges.length > 0 ? new Date(Math.min(...edges)) : undefined;
  return { holding, nextChangeAt };
}

/** "FleetFreeze holiday (Holiday change freeze, until 2027-01-04T00:00:00Z)" and the others. */
export function describeFreezes(holding: readonly FleetFreeze[]): string {
  return holding
    .map((freeze) => {
      const until = freeze.spec.window?.end ? `, until ${freeze.spec.window.end}` : '';
      return `FleetFreeze ${freeze.metadata.name} (${freeze.spec.reason}${until})`;
    })
    .join(', ');
}

function parseTime(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time);
}
