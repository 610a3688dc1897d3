import type { Managers } from '../fields/managed.js';
import { deepEqual, type JsonObject } from '../json.js';
import { alreadyExists, forbidden, notFound } from '../status.js';
import type { StoredObject, Writer } from '../storage/store.js';
import {
  groupResource,
  keyOf,
  meta,
  type RequestContext,
  type Services,
  toStorage,
  toView,
} from './context.js';
import { removeNow } from './remove.js';
import {
  admit,
  generateName,
  prepareForCreate,
  recordManagedFields,
  setManagedFields,
} from './strategy.js';

/** What an update decided: create a new object, or store this prepared next version. */
export type Plan = { create: JsonObject; managers?: Managers } | { update: JsonObject };

/** The result of a write: the object as served, and whether it was created. */
export interface Written {
  object: JsonObject;
  created: boolean;
}

/** Creates an object from a checked request body (POST, or PUT/apply of a missing object). */
export async function createObject(
  services: Services,
  ctx: RequestContext,
  body: JsonObject,
  managers?: Managers,
): Promise<JsonObject> {
  return services.store.write((writer) => insert(writer, services, ctx, body, managers));
}

/**
 * Reads the current object inside a write transaction, lets `plan` decide what to store, and
 * stores it: nothing when nothing changed, removal when the last finalizer of a deleting object
 * went away, else the next version.
 */
export async function updateObject(
  services: Services,
  ctx: RequestContext,
  name: string,
  plan: (current: JsonObject | undefined) => Plan,
): Promise<Written> {
  const key = keyOf(ctx, name);
  return services.store.write(async (writer) => {
    const stored = await writer.get(key);
    const current = stored ? toView(ctx, stored) : undefined;
    const decided = plan(current);
    if ('create' in decided) {
      // `name` was just read in this transaction and is free: insert need not look again.
      const object = await insert(writer, services, ctx, decided.create, decided.managers, name);
      return { object, created: true };
    }
    const next = decided.update;
    if (!stored || !current) throw notFound(groupResource(ctx.type), name);
    if (unchanged(current, next)) return { object: current, created: false };
    const nextMeta = meta(next);
    const finalizers = Array.isArray(nextMeta.finalizers) ? nextMeta.finalizers : [];
    if (nextMeta.deletionTimestamp && finalizers.length === 0) {
      if (ctx.dryRun) return { object: next, created: false };
      const removed = await removeNow(writer, services, key, stored, toStorage(ctx, next));
      return { object: toView(ctx, removed), created: false };
    }
    if (ctx.dryRun) return { object: next, created: false };
    const written = await writer.replace(key, stored, toStorage(ctx, next));
    return { object: toView(ctx, written), created: false };
  });
}

function unchanged(current: JsonObject, next: JsonObject): boolean {
  const { resourceVersion: _a, ...currentMeta } = meta(current);
  const { resourceVersion: _b, ...nextMeta } = meta(next);
  return deepEqual({ ...current, metadata: currentMeta }, { ...next, metadata: nextMeta });
}

async function insert(
  writer: Writer,
  services: Services,
  ctx: RequestContext,
  body: JsonObject,
  managers: Managers | undefined,
  freeName?: string,
): Promise<JsonObject> {
  const object = prepareForCreate(ctx, services, body);
  if (ctx.type.namespaced) await checkNamespace(writer, services, ctx, object);
  const admitted = admit(ctx, object);
  if (managers) setManagedFields(admitted, managers);
  else recordManagedFields(ctx, undefined, admitted);
  ctx.type.initializeUnmanaged?.(admitted);
  const metadata = meta(admitted);
  for (let attempt = 0; ; attempt += 1) {
    if (attempt === 0 && metadata.name === freeName) break;
    const existing = await writer.get(keyOf(ctx, String(metadata.name)));
    if (!existing) break;
    if (!meta(body).generateName || attempt >= 8) {
      throw alreadyExists(groupResource(ctx.type), String(metadata.name));
    }
    metadata.name = generateName(String(meta(body).generateName));
  }
  if (ctx.dryRun) return admitted;
  const stored = await writer.insert(keyOf(ctx, String(metadata.name)), toStorage(ctx, admitted));
  return toView(ctx, stored as StoredObject);
}

/** New objects need an existing namespace that is not being deleted. */
async function checkNamespace(
  writer: Writer,
  services: Services,
  ctx: RequestContext,
  object: JsonObject,
) {
  const namespace = await writer.get({
    resource: services.namespaceType.storage,
    namespace: '',
    name: ctx.namespace,
  });
  if (!namespace) throw notFound(groupResource(services.namespaceType), ctx.namespace);
  if (meta(namespace).deletionTimestamp) {
    const error = forbidden(
      groupResource(ctx.type),
      String(meta(object).name ?? ''),
      `unable to create new content in namespace ${ctx.namespace} because it is being terminated`,
    );
    if (error.details) {
      error.details.causes = [
        {
          reason: 'NamespaceTerminating',
          message: `namespace ${ctx.namespace} is being terminated`,
          field: 'metadata.namespace',
        },
      ];
    }
    throw error;
  }
}
