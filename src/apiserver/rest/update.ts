import { recordApply } from '../fields/last-applied.js';
import { decodeManagedFields } from '../fields/managed.js';
import { isObject, type JsonObject } from '../json.js';
import { applyJsonPatch, applyMergePatch, parseJsonPatch } from '../patch/json-patch.js';
import { applyStrategicMergePatch } from '../patch/strategic.js';
import { fieldError, OMIT_VALUE } from '../schema/field-errors.js';
import {
  badRequest,
  conflict,
  invalid,
  MODIFIED_CONFLICT,
  notFound,
  unsupportedMediaType,
} from '../status.js';
import {
  checkBody,
  fieldContext,
  groupResource,
  meta,
  type RequestContext,
  type Services,
  withoutManagedFields,
} from './context.js';
import { decodeBody } from './decode.js';
import {
  admit,
  bumpGeneration,
  prepareForUpdate,
  recordManagedFields,
  setManagedFields,
} from './strategy.js';
import { updateObject, type Written } from './write.js';

/** The patch media types, as in the `Content-Type` of a PATCH. */
export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** Media types a PATCH of this kind accepts. */
export function acceptedPatchTypes(custom: boolean): string[] {
  const { json, merge, strategic, apply } = PATCH_TYPES;
  return custom ? [json, merge, apply] : [json, merge, strategic, apply];
}

/** PUT: replaces an object or, on `/status`, its status. */
export function replaceObject(
  services: Services,
  ctx: RequestContext,
  name: string,
  body: unknown,
) {
  const requested = checkBody(ctx, body, name);
  return updateObject(services, ctx, name, (current) => {
    if (!current) {
      if (!ctx.type.allowCreateOnUpdate || ctx.subresource)
        throw notFound(groupResource(ctx.type), name);
      return { create: requested };
    }
    checkResourceVersion(ctx, name, current, requested, !ctx.type.unconditionalUpdate);
    return { update: finishUpdate(ctx, current, requested) };
  });
}

/** PATCH with a JSON patch, merge patch or strategic merge patch. */
export function patchObject(
  services: Services,
  ctx: RequestContext,
  name: string,
  mediaType: string,
  body: string,
): Promise<Written> {
  const patch = parsePatch(ctx, mediaType, body);
  return updateObject(services, ctx, name, (current) => {
    if (!current) throw notFound(groupResource(ctx.type), name);
    const patched = checkBody(ctx, patch(current), name);
    checkResourceVersion(ctx, name, current, patched, false);
    return { update: finishUpdate(ctx, current, patched) };
  });
}

function parsePatch(
  ctx: RequestContext,
  mediaType: string,
  body: string,
): (current: JsonObject) => unknown {
  switch (mediaType) {
    case PATCH_TYPES.json: {
      const operations = parseJsonPatch(decodeBody(body, 'json'));
      return (current) => applyJsonPatch(current, operations);
    }
    case PATCH_TYPES.merge: {
      const patch = decodeBody(body, 'json');
      return (current) => applyMergePatch(current, patch);
    }
    case PATCH_TYPES.strategic: {
      const lists = ctx.type.strategicMergeLists;
      if (ctx.type.custom || !lists) throw unsupportedMediaType(acceptedPatchTypes(true));
      const patch = decodeBody(body, 'json');
      return (current) => applyStrategicMergePatch(current, patch, lists);
    }
    default:
      throw unsupportedMediaType(acceptedPatchTypes(ctx.type.custom));
  }
}

/**
 * Server-side apply (`application/apply-patch+yaml`): merges the applied configuration with
 * field ownership; creates the object when it does not exist.
 */
export function applyObject(
  services: Services,
  ctx: RequestContext,
  name: string,
  body: string,
  options: { force: boolean; managerGiven: boolean },
): Promise<Written> {
  if (!options.managerGiven) {
    throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be specified');
  }
  const config = checkBody(ctx, requireTypeMeta(decodeBody(body, 'yaml')), name);
  if (meta(config).managedFields !== undefined) {
    throw badRequest('metadata.managedFields must be nil');
  }
  const actor = {
    manager: ctx.fieldManager,
    ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
  };
  return updateObject(services, ctx, name, (current) => {
    if (!current && ctx.subresource) throw notFound(groupResource(ctx.type), name);
    if (current) checkResourceVersion(ctx, name, current, config, false);
    const managers = (current && decodeManagedFields(meta(current).managedFields)) || new Map();
    const live = current ? withoutManagedFields(current) : {};
    const applied = recordApply(fieldContext(ctx), live, config, managers, actor, options.force);
    const object = applied.object as JsonObject;
    if (!current) return { create: object, managers: applied.managers };
    setManagedFields(object, applied.managers);
    const next = prepareForUpdate(ctx, current, object);
    const admitted = admit(ctx, next, current);
    bumpGeneration(ctx, current, admitted);
    return { update: admitted };
  });
}

function finishUpdate(ctx: RequestContext, current: JsonObject, requested: JsonObject): JsonObject {
  const next = prepareForUpdate(ctx, current, requested);
  const admitted = admit(ctx, next, current);
  bumpGeneration(ctx, current, admitted);
  recordManagedFields(ctx, current, admitted);
  return admitted;
}

/** A stale resourceVersion is a 409; a missing one is a 422 where updates must name one. */
function checkResourceVersion(
  ctx: RequestContext,
  name: string,
  current: JsonObject,
  requested: JsonObject,
  required: boolean,
) {
  const version = meta(requested).resourceVersion;
  if (version === undefined || version === '' || version === null) {
    if (!required) return;
    // Upstream names the resource (custom resources, Leases) and prints the int64 as `0`.
    throw invalid({ group: ctx.type.group, kind: ctx.type.plural }, name, [
      fieldError.invalid(
        'metadata.resourceVersion',
        OMIT_VALUE,
        '0: must be specified for an update',
      ),
    ]);
  }
  if (version !== meta(current).resourceVersion) {
    throw conflict(groupResource(ctx.type), name, MODIFIED_CONFLICT);
  }
}

/** An applied configuration must name its apiVersion and kind (upstream: `invalid object type`). */
function requireTypeMeta(config: unknown): unknown {
  if (!isObject(config) || (config.apiVersion && config.kind)) return config;
  const apiVersion = typeof config.apiVersion === 'string' ? config.apiVersion : '';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const kind = typeof config.kind === 'string' ? config.kind : '';
  throw badRequest(`invalid object type: ${group}/${version}, Kind=${kind}`);
}
