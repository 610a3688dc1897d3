import type { ImageRollout, RolloutPhase } from '../api/types.js';

/** Phases a rollout never leaves. */
export const TERMINAL_PHASES: ReadonlySet<RolloutPhase> = new Set([
  'Succeeded',
  'RolledBack',
  'Superseded',
]);

/** Whether a phase is terminal. */
export function isTerminal(phase: RolloutPhase | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.has(phase);
}

/**
 * The rollout that supersedes this one: the newest sibling of the same policy and repository
 * created after it, leaving out those that were rolled back (they delivered nothing).
 */
export function newerRollout(
  rollout: ImageRollout,
  siblings: readonly ImageRollout[],
): ImageRollout | undefined {
  return sameLine(rollout, siblings)
    .filter((other) => compareAge(other, rollout) > 0 && other.status?.phase !== 'RolledBack')
    .at(-1);
}

/** Older siblings of the same policy and repository that are not terminal yet, oldest first. */
export function olderRunningRollouts(
  rollout: ImageRollout,
  siblings: readonly ImageRollout[],
): ImageRollout[] {
  return sameLine(rollout, siblings).filter(
    (other) => compareAge(other, rollout) < 0 && !isTerminal(other.status?.phase),
  );
}

/** Siblings of the same namespace, policy and repository, oldest first, without `rollout`. */
function sameLine(rollout: ImageRollout, siblings: readonly ImageRollout[]): ImageRollout[] {
  return siblings
    .filter(
      (other) =>
        other.metadata.name !== rollout.metadata.name &&
        other.metadata.namespace === rollout.metadata.namespace &&
        other.spec.policyRef?.name === rollout.spec.policyRef?.name &&
        other.spec.image === rollout.spec.image,
    )
    .sort(compareAge);
}

/** Orders by creationTimestamp, then name, so two rollouts of the same second still order. */
export function compareAge(a: ImageRollout, b: ImageRollout): number {
  const byTime = timeOf(a) - timeOf(b);
  if (byTime !== 0) return byTime;
  const nameA = a.metadata.name ?? '';
  const nameB = b.metadata.name ?? '';
  return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
}

function timeOf(rollout: ImageRollout): number {
  const time = Date.parse(rollout.metadata.creationTimestamp ?? '');
  return Number.isNaN(time) ? 0 : time;
}
