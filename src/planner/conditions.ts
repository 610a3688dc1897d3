import type { Condition } from '../api/types.js';

/** A condition to set: everything but the transition time, which setCondition decides. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/**
 * Returns `conditions` with `next` set in place of the condition of its type (appended when
 * absent). `lastTransitionTime` stays as it was unless `status` flips; then it becomes `now`.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionInput,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === next.type);
  const current = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    current && current.status === next.status ? current.lastTransitionTime : formatTime(now);
  const condition: Condition = { ...next, lastTransitionTime };
  if (index >= 0) list[index] = condition;
  else list.push(condition);
  return list;
}

/** The condition of a type, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/**
 * RFC 3339 at whole seconds, as Kubernetes writes `metav1.Time`: a timestamp that survives a
 * round trip through the API server unchanged, so a deep compare does not see a change.
 */
export function formatTime(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Deep equality of JSON-like values (statuses): object key order is ignored, and so are keys
 * whose value is undefined, since they do not survive serialization either.
 */
export function statusEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => statusEqual(item, b[i]));
  }
  const keysA = definedKeys(a as Record<string, unknown>);
  const keysB = definedKeys(b as Record<string, unknown>);
  return (
    keysA.length === keysB.length &&
    keysA.every((key) =>
      statusEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
    )
  );
}

function definedKeys(object: Record<string, unknown>): string[] {
  return Object.keys(object).filter((key) => object[key] !== undefined);
}
