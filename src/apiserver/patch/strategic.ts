import { clone, isObject } from '../json.js';
import { badRequest } from '../status.js';

/**
 * Strategic merge patch for the built-in kinds (custom resources answer 415, as upstream).
 * Like a merge patch, except that lists declared with a merge strategy merge: lists of objects by
 * their merge key, lists of scalars as sets. Understands the directives kubectl sends:
 * `$patch` (replace/delete/merge), `$retainKeys`, `$setElementOrder/<list>` and
 * `$deleteFromPrimitiveList/<list>`.
 */

/** Lists that merge, by dotted path (`metadata.finalizers`): a merge key, or none for scalars. */
export type MergeLists = Record<string, { mergeKey?: string }>;

/** Applies a strategic merge patch to `original`. */
export function applyStrategicMergePatch(
  original: unknown,
  patch: unknown,
  lists: MergeLists,
): unknown {
  if (!isObject(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return mergeMap(isObject(original) ? original : {}, patch, lists, '');
}

function mergeMap(
  original: Record<string, unknown>,
  patch: Record<string, unknown>,
  lists: MergeLists,
  path: string,
): Record<string, unknown> | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return withoutDirectives(patch) as Record<string, unknown>;
  const result: Record<string, unknown> = { ...original };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const list = key.slice('$deleteFromPrimitiveList/'.length);
      const removed = Array.isArray(value) ? value : [];
      if (Array.isArray(result[list])) {
        result[list] = (result[list] as unknown[]).filter((item) => !removed.includes(item));
      }
      continue;
    }
    if (key.startsWith('$')) continue;
    const childPath = path ? `${path}.${key}` : key;
    if (value === null) delete result[key];
    else if (isObject(value)) {
      const merged = mergeMap(
        isObject(result[key]) ? (result[key] as Record<string, unknown>) : {},
        value,
        lists,
        childPath,
      );
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value) && lists[childPath]) {
      result[key] = mergeList(result[key], value, lists[childPath].mergeKey, lists, childPath);
    } else result[key] = clone(value);
  }
  applyElementOrder(result, patch, lists, path);
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

function mergeList(
  original: unknown,
  patch: unknown[],
  mergeKey: string | undefined,
  lists: MergeLists,
  path: string,
): unknown[] {
  const current = Array.isArray(original) ? [...original] : [];
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch
      .filter((item) => !(isObject(item) && item.$patch === 'replace'))
      .map(withoutDirectives);
  }
  if (!mergeKey) {
    for (const item of patch) if (!current.includes(item)) current.push(item);
    return current;
  }
  for (const item of patch) {
    if (!isObject(item)) throw badRequest(`${path}: items must be objects with "${mergeKey}"`);
    const index = current.findIndex((c) => isObject(c) && c[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (index >= 0) current.splice(index, 1);
    } else if (index >= 0) {
      current[index] = mergeMap(current[index] as Record<string, unknown>, item, lists, path);
    } else current.push(withoutDirectives(item));
  }
  return current;
}

/** Orders merged lists as `$setElementOrder/<list>` says; items it does not name keep their place at the end. */
function applyElementOrder(
  result: Record<string, unknown>,
  patch: Record<string, unknown>,
  lists: MergeLists,
  path: string,
): void {
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith('$setElementOrder/') || !Array.isArray(order)) continue;
    const list = key.slice('$setElementOrder/'.length);
    const items = result[list];
    if (!Array.isArray(items)) continue;
    const mergeKey = lists[path ? `${path}.${list}` : list]?.mergeKey;
    const identify = (item: unknown) => (mergeKey && isObject(item) ? item[mergeKey] : item);
    const wanted = order.map(identify);
    const rank = (item: unknown) => {
      const position = wanted.indexOf(identify(item));
      return position < 0 ? wanted.length : position;
    };
    result[list] = [...items].sort((a, b) => rank(a) - rank(b));
  }
}

function withoutDirectives(value: unknown): unknown {
  if (!isObject(value)) return clone(value);
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !key.startsWith('$'))
      .map(([key, child]) => [key, withoutDirectives(child)]),
  );
}
