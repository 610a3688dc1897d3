import { isObject, type JsonObject } from '../json.js';
import { DEFAULT_NAMESPACE } from '../resources/builtins.js';
import { badRequest, conflict, forbidden, notFound } from '../status.js';
import type { StoredObject } from '../storage/store.js';
import {
  groupResource,
  keyOf,
  meta,
  type RequestContext,
  type Services,
  toView,
} from './context.js';
import { deleteNamespace, markOrRemove, type Propagation } from './remove.js';

/** The parts of `DeleteOptions` the server honors. */
export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: Propagation;
  /** `dryRun: ["All"]` in the body (kubectl `delete --dry-run=server` sends it there). */
  dryRun?: boolean;
}

/** Reads DeleteOptions from a request body (JSON, may be empty) and query parameters. */
export function parseDeleteOptions(
  body: unknown,
  query: Record<string, string | undefined>,
): DeleteOptions {
  const options: DeleteOptions = {};
  const source = isObject(body) ? body : {};
  const policy = source.propagationPolicy ?? query.propagationPolicy;
  if (policy !== undefined) {
    if (policy !== 'Background' && policy !== 'Foreground' && policy !== 'Orphan') {
      throw badRequest(
        `propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan"`,
      );
    }
    options.propagationPolicy = policy;
  }
  if (source.orphanDependents === true || query.orphanDependents === 'true')
    options.propagationPolicy = 'Orphan';
  if (source.dryRun !== undefined && source.dryRun !== null) {
    const values = Array.isArray(source.dryRun) ? source.dryRun : [source.dryRun];
    const unsupported = values.find((value) => value !== 'All');
    if (unsupported !== undefined) {
      throw badRequest(
        `dryRun: Unsupported value: "${String(unsupported)}": supported values: "All"`,
      );
    }
    if (values.length > 0) options.dryRun = true;
  }
  if (isObject(source.preconditions)) {
    const { uid, resourceVersion } = source.preconditions;
    options.preconditions = {
      ...(typeof uid === 'string' ? { uid } : {}),
      ...(typeof resourceVersion === 'string' ? { resourceVersion } : {}),
    };
  }
  return options;
}

/** The answer to a DELETE: the object while finalizers hold it, a Success Status once gone. */
export interface DeleteResult {
  body: JsonObject;
}

/** Deletes one object (DELETE on an item). */
export async function deleteObject(
  services: Services,
  ctx: RequestContext,
  name: string,
  options: DeleteOptions,
): Promise<DeleteResult> {
  const gr = groupResource(ctx.type);
  const key = keyOf(ctx, name);
  return services.store.write(async (writer) => {
    const stored = await writer.get(key);
    if (!stored) throw notFound(gr, name);
    checkPreconditions(ctx, name, stored, options);
    if (ctx.type === services.namespaceType) {
      if (name === DEFAULT_NAMESPACE)
        throw forbidden(gr, name, 'this namespace may not be deleted');
      if (ctx.dryRun) return { body: toView(ctx, stored) };
      return { body: toView(ctx, await deleteNamespace(writer, services, stored, ctx.now)) };
    }
    if (ctx.dryRun) return { body: success(ctx, stored) };
    const deletion = await markOrRemove(
      writer,
      services,
      key,
      stored,
      ctx.now,
      options.propagationPolicy,
    );
    return {
      body: deletion.removed ? success(ctx, deletion.object) : toView(ctx, deletion.object),
    };
  });
}

/** Deletes every object a list would return (DELETE on a collection); answers a Success Status. */
export async function deleteCollection(
  services: Services,
  ctx: RequestContext,
  matches: (object: JsonObject) => boolean,
  options: DeleteOptions,
): Promise<JsonObject> {
  return services.store.write(async (writer) => {
    const objects = await writer.list(ctx.type.storage, ctx.namespace || undefined);
    for (const stored of objects) {
      if (!matches(toView(ctx, stored))) continue;
      const name = String(meta(stored).name);
      if (ctx.type === services.namespaceType) {
        if (name !== DEFAULT_NAMESPACE && !ctx.dryRun) {
          await deleteNamespace(writer, services, stored, ctx.now);
        }
        continue;
      }
      const key = keyOf({ ...ctx, namespace: String(meta(stored).namespace ?? '') }, name);
      const latest = await writer.get(key);
      if (latest && !ctx.dryRun) {
        await markOrRemove(writer, services, key, latest, ctx.now, options.propagationPolicy);
      }
    }
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  });
}

function checkPreconditions(
  ctx: RequestContext,
  name: string,
  stored: StoredObject,
  options: DeleteOptions,
) {
  const { uid, resourceVersion } = options.preconditions ?? {};
  const metadata = meta(stored);
  if (uid !== undefined && uid !== metadata.uid) {
    throw conflict(
      groupResource(ctx.type),
      name,
      `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${String(metadata.uid)}`,
    );
  }
  if (resourceVersion !== undefined && resourceVersion !== metadata.resourceVersion) {
    throw conflict(
      groupResource(ctx.type),
      name,
      `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${String(metadata.resourceVersion)}`,
    );
  }
}

function success(ctx: RequestContext, object: StoredObject): JsonObject {
  const metadata = meta(object);
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: {
      name: metadata.name,
      ...(ctx.type.group ? { group: ctx.type.group } : {}),
      kind: ctx.type.plural,
      uid: metadata.uid,
    },
  };
}
