import { isObject, type JsonObject } from '../json.js';
import type { ObjectKey, StoredObject, Writer } from '../storage/store.js';
import { meta, type Services, timestamp } from './context.js';

/**
 * Deletion inside a write transaction: objects with finalizers are marked (deletionTimestamp)
 * and stay until the finalizers are gone; objects without are removed. Removing an object
 * removes what it owns (garbage collection, background propagation) and lets a terminating
 * namespace that became empty go.
 */

/** How dependents of a removed object are treated. */
export type Propagation = 'Background' | 'Foreground' | 'Orphan';

/** The outcome of a delete: the object's last state and whether it is gone. */
export interface Deletion {
  object: StoredObject;
  removed: boolean;
}

function finalizersOf(object: JsonObject): unknown[] {
  const finalizers = meta(object).finalizers;
  return Array.isArray(finalizers) ? finalizers : [];
}

/** Marks an object with finalizers as deleting, or removes it right away. */
export async function markOrRemove(
  writer: Writer,
  services: Services,
  key: ObjectKey,
  stored: StoredObject,
  now: Date,
  propagation: Propagation = 'Background',
): Promise<Deletion> {
  if (finalizersOf(stored).length > 0) {
    if (meta(stored).deletionTimestamp) return { object: stored, removed: false };
    const marked = structuredClone(stored);
    const metadata = meta(marked);
    metadata.deletionTimestamp = timestamp(now);
    metadata.deletionGracePeriodSeconds = 0;
    if (Number(metadata.generation) > 0) metadata.generation = Number(metadata.generation) + 1;
    return { object: await writer.replace(key, stored, marked), removed: false };
  }
  return {
    object: await removeNow(writer, services, key, stored, stored, propagation),
    removed: true,
  };
}

/** Removes an object now, then its dependents and, if it was the last, its terminating namespace. */
export async function removeNow(
  writer: Writer,
  services: Services,
  key: ObjectKey,
  stored: StoredObject,
  last: StoredObject,
  propagation: Propagation = 'Background',
): Promise<StoredObject> {
  const removed = await writer.remove(key, stored, last);
  const uid = String(meta(stored).uid);
  await collectDependents(writer, services, uid, key.namespace || undefined, propagation);
  if (key.namespace) await finishNamespaceIfEmpty(writer, services, key.namespace);
  return removed;
}

/**
 * Deletes objects owned by the removed `uid` whose owners are all gone; drops the dangling
 * reference from those that still have an owner (or from all, when orphaning).
 */
async function collectDependents(
  writer: Writer,
  services: Services,
  uid: string,
  namespace: string | undefined,
  propagation: Propagation,
) {
  for (const dependent of await writer.dependentsOf(uid, namespace)) {
    const key = {
      resource: dependent.resource,
      namespace: dependent.namespace,
      name: dependent.name,
    };
    const current = await writer.get(key);
    if (!current) continue;
    const references = meta(current).ownerReferences as JsonObject[];
    const others = references.filter((ref) => isObject(ref) && ref.uid !== uid);
    const alive = await writer.existingUids(others.map((ref) => String(ref.uid)));
    if (propagation === 'Orphan' || alive.size > 0) {
      const next = structuredClone(current);
      const remaining = others.filter((ref) => alive.has(String(ref.uid)));
      if (remaining.length > 0) meta(next).ownerReferences = remaining;
      else delete meta(next).ownerReferences;
      await writer.replace(key, current, next);
    } else {
      await markOrRemove(writer, services, key, current, new Date(), propagation);
    }
  }
}

/** Removes a terminating namespace once nothing is left in it. */
async function finishNamespaceIfEmpty(writer: Writer, services: Services, namespace: string) {
  const key = { resource: services.namespaceType.storage, namespace: '', name: namespace };
  const stored = await writer.get(key);
  if (!stored || !meta(stored).deletionTimestamp || finalizersOf(stored).length > 0) return;
  if ((await writer.listNamespace(namespace)).length > 0) return;
  await writer.remove(key, stored, stored);
}

/**
 * Deletes a namespace: marks it Terminating, deletes everything in it, and removes it when
 * nothing remains (objects held by finalizers keep it Terminating until they go).
 */
export async function deleteNamespace(
  writer: Writer,
  services: Services,
  stored: StoredObject,
  now: Date,
): Promise<StoredObject> {
  const name = String(meta(stored).name);
  const key = { resource: services.namespaceType.storage, namespace: '', name };
  let current = stored;
  if (!meta(stored).deletionTimestamp) {
    const marked = structuredClone(stored);
    meta(marked).deletionTimestamp = timestamp(now);
    meta(marked).deletionGracePeriodSeconds = 0;
    marked.status = { ...(isObject(marked.status) ? marked.status : {}), phase: 'Terminating' };
    current = await writer.replace(key, stored, marked);
  }
  for (const row of await writer.listNamespace(name)) {
    const objectKey = { resource: row.resource, namespace: row.namespace, name: row.name };
    const latest = await writer.get(objectKey);
    if (latest) await markOrRemove(writer, services, objectKey, latest, now);
  }
  await finishNamespaceIfEmpty(writer, services, name);
  return (await writer.get(key)) ?? current;
}
