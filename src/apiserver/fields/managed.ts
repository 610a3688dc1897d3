import { deepEqual, isObject } from '../json.js';
import { ApiError } from '../status.js';
import { FieldSet, fieldSetOf, pathToString } from './fieldset.js';
import type { TypeNode } from './types.js';
import { compare, ensureNamedFieldsAreMembers, merge, removeItems, toFieldSet } from './walk.js';

/** One `metadata.managedFields` entry. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

interface Manager extends Omit<ManagedFieldsEntry, 'fieldsType' | 'fieldsV1'> {
  set: FieldSet;
}

/** Managers by identity (name, operation, subresource, and apiVersion for updaters). */
export type Managers = Map<string, Manager>;

/** Who writes: the field manager name and the subresource written (`status` or none). */
export interface Actor {
  manager: string;
  subresource?: string;
}

/** What the field manager knows about one resource. */
export interface FieldContext {
  type: TypeNode;
  apiVersion: string;
  /** Fields the written endpoint resets (status for the main resource, all but status for /status). */
  resetFields: FieldSet;
  /** RFC 3339 time of this write. */
  now: string;
}

/** Server-set fields nobody owns. */
const STRIPPED = fieldSetOf(
  'apiVersion',
  'kind',
  'metadata',
  'metadata.name',
  'metadata.namespace',
  'metadata.creationTimestamp',
  'metadata.selfLink',
  'metadata.uid',
  'metadata.clusterName',
  'metadata.generation',
  'metadata.managedFields',
  'metadata.resourceVersion',
);

function identity(m: {
  manager: string;
  operation: string;
  apiVersion: string;
  subresource?: string;
}) {
  const apiVersion = m.operation === 'Apply' ? '' : m.apiVersion;
  return JSON.stringify([m.manager, m.operation, apiVersion, m.subresource ?? '']);
}

/** Reads `metadata.managedFields`; undefined when it is malformed. */
export function decodeManagedFields(raw: unknown): Managers | undefined {
  if (raw === undefined || raw === null) return new Map();
  if (!Array.isArray(raw)) return undefined;
  const managers: Managers = new Map();
  for (const entry of raw) {
    if (!isObject(entry) || typeof entry.manager !== 'string') return undefined;
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') return undefined;
    if (entry.fieldsType !== undefined && entry.fieldsType !== 'FieldsV1') return undefined;
    const manager: Manager = {
      manager: entry.manager,
      operation: entry.operation,
      apiVersion: typeof entry.apiVersion === 'string' ? entry.apiVersion : '',
      ...(typeof entry.time === 'string' ? { time: entry.time } : {}),
      ...(typeof entry.subresource === 'string' && entry.subresource
        ? { subresource: entry.subresource }
        : {}),
      set: FieldSet.fromFieldsV1(entry.fieldsV1),
    };
    managers.set(identity(manager), manager);
  }
  return managers;
}

/** Writes managers as `metadata.managedFields`, sorted as the real API server sorts them. */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  return [...managers.values()]
    .filter((m) => !m.set.isEmpty())
    .sort(
      (p, q) =>
        p.operation.localeCompare(q.operation) ||
        (p.time ?? '').localeCompare(q.time ?? '') ||
        p.manager.localeCompare(q.manager) ||
        p.apiVersion.localeCompare(q.apiVersion) ||
        (p.subresource ?? '').localeCompare(q.subresource ?? ''),
    )
    .map(({ set, ...m }) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      ...(m.time ? { time: m.time } : {}),
      fieldsType: 'FieldsV1' as const,
      fieldsV1: set.toFieldsV1(),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

function ownFields(ctx: FieldContext, set: FieldSet): FieldSet {
  return set.recursiveDifference(ctx.resetFields).difference(STRIPPED);
}

/**
 * Records a non-apply write (create, update, patch): the actor takes the fields it added or
 * changed from every other manager; removed fields leave every manager.
 */
export function recordUpdate(
  ctx: FieldContext,
  live: unknown,
  next: unknown,
  managers: Managers,
  actor: Actor,
): Managers {
  const changes = compare(live, next, ctx.type);
  const result = cloneManagers(managers);
  for (const manager of result.values()) {
    manager.set = manager.set
      .difference(changes.added.union(changes.modified))
      .difference(changes.removed);
  }
  const taken = ownFields(ctx, changes.added.union(changes.modified));
  if (!taken.isEmpty()) {
    const key = identity({ ...actor, operation: 'Update', apiVersion: ctx.apiVersion });
    const previous = result.get(key);
    result.set(key, {
      manager: actor.manager,
      operation: 'Update',
      apiVersion: ctx.apiVersion,
      time: ctx.now,
      ...(actor.subresource ? { subresource: actor.subresource } : {}),
      set: previous ? previous.set.union(taken) : taken,
    });
  }
  return withoutEmpty(result);
}

/** Fields an apply would change that other managers own. */
export interface Conflict {
  manager: Manager;
  paths: string[][];
}

/**
 * Server-side apply: merges `config` into `live`, removes what this manager applied before and
 * nobody owns now, and takes ownership of the applied fields. Without `force`, changing a field
 * another manager owns is a conflict, reported instead of a result.
 */
export function applyFields(
  ctx: FieldContext,
  live: unknown,
  config: unknown,
  managers: Managers,
  actor: Actor,
  force: boolean,
): { object: unknown; managers: Managers; conflicts: Conflict[] } {
  const key = identity({ ...actor, operation: 'Apply', apiVersion: ctx.apiVersion });
  const result = cloneManagers(managers);
  const previous = result.get(key);
  result.set(key, {
    manager: actor.manager,
    operation: 'Apply',
    apiVersion: ctx.apiVersion,
    ...(previous?.time ? { time: previous.time } : {}),
    ...(actor.subresource ? { subresource: actor.subresource } : {}),
    set: ownFields(ctx, toFieldSet(config, ctx.type)),
  });
  const merged = merge(live, config, ctx.type);
  const object = previous ? prune(ctx, merged, previous.set, result) : merged;

  const changes = compare(live, object, ctx.type);
  const changed = changes.added.union(changes.modified);
  const conflicts: Conflict[] = [];
  for (const [otherKey, other] of result) {
    if (otherKey === key) continue;
    const overlap = other.set.intersection(changed);
    if (!overlap.isEmpty()) conflicts.push({ manager: other, paths: overlap.paths() });
    other.set = (force ? other.set.difference(overlap) : other.set).difference(changes.removed);
  }
  const applier = result.get(key) as Manager;
  if (!deepEqual(live, object)) applier.time = ctx.now;
  return { object, managers: withoutEmpty(result), conflicts: force ? [] : conflicts };
}

/**
 * Removes fields this manager applied last time, does not apply now, and nobody owns (as
 * structured-merge-diff's prune, addBackOwnedItems and addBackDanglingItems).
 */
function prune(ctx: FieldContext, merged: unknown, lastSet: FieldSet, managers: Managers) {
  const named = (value: unknown) =>
    ensureNamedFieldsAreMembers(toFieldSet(value, ctx.type), ctx.type);
  const last = ensureNamedFieldsAreMembers(lastSet, ctx.type);
  let owned = new FieldSet();
  for (const manager of managers.values()) owned = owned.union(manager.set);
  const mergedSet = named(merged);
  const withoutLast = removeItems(merged, last, ctx.type);
  const unowned = mergedSet.difference(
    named(withoutLast).union(ensureNamedFieldsAreMembers(owned, ctx.type)),
  );
  const ownedKept = removeItems(merged, unowned, ctx.type);
  return removeItems(merged, mergedSet.difference(named(ownedKept)).intersection(last), ctx.type);
}

function cloneManagers(managers: Managers): Managers {
  return new Map([...managers].map(([key, m]) => [key, { ...m, set: m.set.copy() }]));
}

function withoutEmpty(managers: Managers): Managers {
  return new Map([...managers].filter(([, m]) => !m.set.isEmpty()));
}

function describeManager(m: Manager): string {
  const name = m.subresource
    ? `"${m.manager}" with subresource "${m.subresource}"`
    : `"${m.manager}"`;
  return m.operation === 'Update' ? `${name} using ${m.apiVersion}` : name;
}

/** The 409 of an apply that changes fields other managers own, worded as upstream. */
export function applyConflict(conflicts: Conflict[]): ApiError {
  const all = conflicts.flatMap(({ manager, paths }) =>
    paths.map((path) => ({ manager: describeManager(manager), field: pathToString(path) })),
  );
  let message: string;
  if (all.length === 1) {
    const [only] = all as [(typeof all)[0]];
    message = `Apply failed with 1 conflict: conflict with ${only.manager}: ${only.field}`;
  } else {
    const lines = [...conflicts]
      .sort((a, b) => a.manager.manager.localeCompare(b.manager.manager))
      .flatMap(({ manager, paths }) => [
        `conflicts with ${describeManager(manager)}:`,
        ...paths.map((path) => `- ${pathToString(path)}`),
      ]);
    message = `Apply failed with ${all.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, {
    causes: all.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${c.manager}`,
      field: c.field,
    })),
  });
}
