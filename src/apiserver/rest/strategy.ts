import { randomInt } from 'node:crypto';
import {
  decodeManagedFields,
  encodeManagedFields,
  type Managers,
  recordUpdate,
} from '../fields/managed.js';
import { clone, deepEqual, type JsonObject } from '../json.js';
import { fieldError } from '../schema/field-errors.js';
import { strictDecodingError } from '../schema/index.js';
import { badRequest, invalid } from '../status.js';
import {
  fieldContext,
  meta,
  newUid,
  type RequestContext,
  type Services,
  timestamp,
  withoutManagedFields,
} from './context.js';

/**
 * The rules every write follows, as upstream's REST strategies: what the server sets on create,
 * what an update may not change, when `metadata.generation` moves, and schema admission.
 */

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `generateName` plus five random characters, as upstream's name generator. */
export function generateName(prefix: string): string {
  const base = prefix.slice(0, 58);
  let suffix = '';
  for (let i = 0; i < 5; i += 1) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return base + suffix;
}

/** Sets what the server owns on a new object: uid, creation time, generation; drops status. */
export function prepareForCreate(ctx: RequestContext, services: Services, object: JsonObject) {
  const metadata = meta(object);
  if (metadata.resourceVersion !== undefined && metadata.resourceVersion !== '') {
    throw badRequest('resourceVersion should not be set on objects to be created');
  }
  if (!metadata.name && typeof metadata.generateName === 'string' && metadata.generateName) {
    metadata.name = generateName(metadata.generateName);
  }
  metadata.uid = newUid(services);
  metadata.creationTimestamp = timestamp(ctx.now);
  for (const field of [
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'selfLink',
    'resourceVersion',
  ]) {
    delete metadata[field];
  }
  if (ctx.type.generation) metadata.generation = 1;
  else delete metadata.generation;
  if (ctx.type.statusSubresource) delete object.status;
  ctx.type.prepareForCreate?.(object);
  return object;
}

const SERVER_OWNED = [
  'uid',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
];

/**
 * Builds the object an update stores from the current one and the requested one: `/status`
 * takes only status; the main resource keeps the current status (with a status subresource)
 * and every server-owned metadata field.
 */
export function prepareForUpdate(ctx: RequestContext, current: JsonObject, requested: JsonObject) {
  const currentMeta = meta(current);
  const requestedMeta = meta(requested);
  if (ctx.subresource === 'status') {
    const next = clone(current);
    meta(next).managedFields = requestedMeta.managedFields;
    if (requested.status === undefined) delete next.status;
    else next.status = requested.status;
    return next;
  }
  const next = clone(requested);
  const nextMeta = meta(next);
  if (
    requestedMeta.uid !== undefined &&
    requestedMeta.uid !== '' &&
    requestedMeta.uid !== currentMeta.uid
  ) {
    throw invalid({ group: ctx.type.group, kind: ctx.type.kind }, String(currentMeta.name), [
      fieldError.invalid('metadata.uid', requestedMeta.uid, 'field is immutable'),
    ]);
  }
  for (const field of SERVER_OWNED) {
    if (currentMeta[field] === undefined) delete nextMeta[field];
    else nextMeta[field] = currentMeta[field];
  }
  if (ctx.type.statusSubresource) {
    if (current.status === undefined) delete next.status;
    else next.status = current.status;
  }
  checkFinalizersWhileDeleting(ctx, currentMeta, nextMeta);
  ctx.type.prepareForUpdate?.(next, current);
  return next;
}

function checkFinalizersWhileDeleting(ctx: RequestContext, current: JsonObject, next: JsonObject) {
  if (!current.deletionTimestamp) return;
  const before = new Set(Array.isArray(current.finalizers) ? current.finalizers : []);
  const added = (Array.isArray(next.finalizers) ? next.finalizers : []).filter(
    (f) => !before.has(f),
  );
  if (added.length > 0) {
    throw invalid({ group: ctx.type.group, kind: ctx.type.kind }, String(current.name), [
      fieldError.forbidden(
        'metadata.finalizers',
        `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
      ),
    ]);
  }
}

/** Increments `metadata.generation` when anything but metadata (and status, when separate) changed. */
export function bumpGeneration(ctx: RequestContext, current: JsonObject, next: JsonObject) {
  if (!ctx.type.generation) return;
  const content = (object: JsonObject) => {
    const { metadata: _, status, ...rest } = object;
    return ctx.type.statusSubresource ? rest : { ...rest, status };
  };
  if (!deepEqual(content(current), content(next))) {
    meta(next).generation = (Number(meta(current).generation) || 0) + 1;
  }
}

/**
 * Schema admission: 400 when Strict field validation finds unknown fields, 422 with the field
 * causes when the object is invalid; warnings go to the response. Returns the pruned and
 * defaulted object.
 */
export function admit(ctx: RequestContext, object: JsonObject, oldObject?: JsonObject): JsonObject {
  const result = ctx.type.admit(object, {
    fieldValidation: ctx.fieldValidation,
    oldObject,
    statusUpdate: ctx.subresource === 'status',
  });
  const { kind, version } = ctx.type;
  if (result.unknownFields.length > 0 && ctx.fieldValidation === 'Strict') {
    throw badRequest(
      `${kind} in version "${version}" cannot be handled as a ${kind}: ${strictDecodingError(result.unknownFields)}`,
    );
  }
  ctx.warnings.push(...result.warnings);
  const name = String(meta(object).name ?? '');
  if (result.errors.length > 0) throw invalid({ group: ctx.type.group, kind }, name, result.errors);
  return result.object as JsonObject;
}

/**
 * Sets `metadata.managedFields` of `next` after a non-apply write. Managed fields sent with the
 * request replace the stored ones (that is how clients reset them); otherwise the live ones count.
 */
export function recordManagedFields(
  ctx: RequestContext,
  live: JsonObject | undefined,
  next: JsonObject,
) {
  const requested = meta(next).managedFields;
  const requestedManagers =
    Array.isArray(requested) && requested.length > 0 ? decodeManagedFields(requested) : undefined;
  const managers: Managers =
    requestedManagers ??
    decodeManagedFields(live ? meta(live).managedFields : undefined) ??
    new Map();
  const updated = recordUpdate(
    fieldContext(ctx),
    withoutManagedFields(live) ?? {},
    withoutManagedFields(next),
    managers,
    { manager: ctx.fieldManager, ...(ctx.subresource ? { subresource: ctx.subresource } : {}) },
  );
  setManagedFields(next, updated);
}

/** Writes managers into `metadata.managedFields` (removing it when empty). */
export function setManagedFields(object: JsonObject, managers: Managers) {
  const entries = encodeManagedFields(managers);
  if (entries.length > 0) meta(object).managedFields = entries;
  else delete meta(object).managedFields;
}
