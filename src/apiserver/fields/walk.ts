import { deepEqual, isObject } from '../json.js';
import { FieldSet } from './fieldset.js';
import { fieldType, isAtomic, itemElement, resolve, type TypeNode, UNTYPED } from './types.js';

/**
 * Typed walks over JSON values, following structured-merge-diff: the field set a value sets,
 * the comparison of two values, the merge of an applied configuration, and removal of paths.
 */

/** The fields an applied configuration sets (structured-merge-diff's `ToFieldSet`). */
export function toFieldSet(value: unknown, type: TypeNode): FieldSet {
  const set = new FieldSet();
  collect(value, type, [], set);
  return set;
}

function collect(value: unknown, type: TypeNode, path: string[], set: FieldSet): void {
  const t = resolve(type, value);
  if (t.kind === 'list' && t.listType !== 'atomic' && Array.isArray(value)) {
    value.forEach((item, index) => {
      const itemPath = [...path, itemElement(t, item, index)];
      collect(item, t.items, itemPath, set);
      set.insert(itemPath);
    });
    return;
  }
  if (t.kind === 'map' && !t.atomic && isObject(value)) {
    for (const [name, child] of Object.entries(value)) {
      const childType = fieldType(t, name);
      if (!childType) continue;
      const childPath = [...path, `f:${name}`];
      collect(child, childType, childPath, set);
      const empty = child === null || (isObject(child) && Object.keys(child).length === 0);
      if (empty || !Object.hasOwn(t.fields, name)) set.insert(childPath);
    }
    return;
  }
  if (path.length > 0) set.insert(path);
}

/** What changed from `before` to `after`, as paths. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Compares two values of one type (structured-merge-diff's `Compare`). */
export function compare(before: unknown, after: unknown, type: TypeNode): Comparison {
  const result = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareAt(before, after, type, [], result);
  return result;
}

function compareAt(
  before: unknown,
  after: unknown,
  type: TypeNode,
  path: string[],
  out: Comparison,
): void {
  if (before === undefined && after === undefined) return;
  if (before === undefined || after === undefined) {
    if (before === undefined) insertAll(after, type, path, out.added);
    else insertAll(before, type, path, out.removed);
    return;
  }
  const t = resolve(type, after);
  const children = childrenOf(before, t);
  const afterChildren = childrenOf(after, t);
  if (!isAtomic(t) && children && afterChildren) {
    const elements = new Set([...children.keys(), ...afterChildren.keys()]);
    for (const element of elements) {
      const childType = childTypeOf(t, element);
      if (!childType) continue;
      compareAt(
        children.get(element),
        afterChildren.get(element),
        childType,
        [...path, element],
        out,
      );
    }
    return;
  }
  if (!deepEqual(before, after) && path.length > 0) out.modified.insert(path);
}

function insertAll(value: unknown, type: TypeNode, path: string[], set: FieldSet): void {
  if (path.length > 0) set.insert(path);
  const t = resolve(type, value);
  if (isAtomic(t)) return;
  for (const [element, child] of childrenOf(value, t) ?? []) {
    const childType = childTypeOf(t, element);
    if (childType) insertAll(child, childType, [...path, element], set);
  }
}

/** The children of a granular map or list, by path element. */
function childrenOf(value: unknown, type: TypeNode): Map<string, unknown> | undefined {
  if (type.kind === 'map' && isObject(value)) {
    return new Map(Object.entries(value).map(([name, child]) => [`f:${name}`, child]));
  }
  if (type.kind === 'list' && Array.isArray(value)) {
    return new Map(value.map((item, index) => [itemElement(type, item, index), item]));
  }
  return undefined;
}

function childTypeOf(type: TypeNode, element: string): TypeNode | undefined {
  if (type.kind === 'map') return fieldType(type, element.slice(2));
  if (type.kind === 'list') return type.items;
  return undefined;
}

/** Merges an applied configuration into the live object (structured-merge-diff's `Merge`). */
export function merge(live: unknown, config: unknown, type: TypeNode): unknown {
  if (config === undefined) return live;
  if (live === undefined) return config;
  const t = resolve(type, config);
  if (t.kind === 'map' && !t.atomic && isObject(live) && isObject(config)) {
    const result: Record<string, unknown> = { ...live };
    for (const [name, value] of Object.entries(config)) {
      result[name] = merge(live[name], value, fieldType(t, name) ?? UNTYPED);
    }
    return result;
  }
  if (
    t.kind === 'list' &&
    t.listType !== 'atomic' &&
    Array.isArray(live) &&
    Array.isArray(config)
  ) {
    const result = [...live];
    const positions = new Map(live.map((item, index) => [itemElement(t, item, index), index]));
    config.forEach((item, index) => {
      const position = positions.get(itemElement(t, item, index));
      if (position === undefined) result.push(item);
      else result[position] = merge(result[position], item, t.items);
    });
    return result;
  }
  return config;
}

/** The value without the member paths of `set` (each removed with everything below it). */
export function removeItems(value: unknown, set: FieldSet, type: TypeNode): unknown {
  const t = resolve(type, value);
  if (t.kind === 'map' && isObject(value)) {
    const result: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(value)) {
      const node = set.child(`f:${name}`);
      if (node?.member) continue;
      result[name] = node ? removeItems(child, node, fieldType(t, name) ?? UNTYPED) : child;
    }
    return result;
  }
  if (t.kind === 'list' && Array.isArray(value)) {
    return value.flatMap((item, index) => {
      const node = set.child(itemElement(t, item, index));
      if (node?.member) return [];
      return [node ? removeItems(item, node, t.items) : item];
    });
  }
  return value;
}

/** Makes declared (struct) fields with members below them members themselves. */
export function ensureNamedFieldsAreMembers(set: FieldSet, type: TypeNode): FieldSet {
  const result = new FieldSet();
  result.member = set.member;
  for (const [element, child] of set.children) {
    const declared =
      type.kind === 'map' &&
      element.startsWith('f:') &&
      Object.hasOwn(type.fields, element.slice(2));
    const node = ensureNamedFieldsAreMembers(child, childTypeOf(type, element) ?? UNTYPED);
    if (declared) node.member = true;
    result.children.set(element, node);
  }
  return result;
}
