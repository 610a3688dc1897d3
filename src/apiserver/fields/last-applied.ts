import { isObject, type JsonObject } from '../json.js';
import {
  type Actor,
  applyConflict,
  applyFields,
  type FieldContext,
  type Managers,
} from './managed.js';
import { compare, toFieldSet } from './walk.js';

/**
 * Moving from client-side to server-side apply, as the real API server eases it for the
 * `kubectl` field manager: conflicts on fields whose live value still equals the
 * `kubectl.kubernetes.io/last-applied-configuration` annotation are not conflicts, and the
 * annotation follows what is applied so a later client-side apply does not revert it.
 */

/** Annotation kubectl's client-side apply keeps the applied configuration in. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const KUBECTL = 'kubectl';

function annotationsOf(object: unknown): Record<string, unknown> | undefined {
  const metadata = isObject(object) && isObject(object.metadata) ? object.metadata : undefined;
  return metadata && isObject(metadata.annotations) ? metadata.annotations : undefined;
}

/** Fields client-side apply set whose live value it still decides. */
function allowedByLastApplied(ctx: FieldContext, live: unknown) {
  const text = annotationsOf(live)?.[LAST_APPLIED];
  if (typeof text !== 'string' || !text) return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return undefined;
  }
  const changes = compare(lastApplied, live, ctx.type);
  return toFieldSet(lastApplied, ctx.type)
    .difference(changes.modified)
    .difference(changes.added)
    .difference(changes.removed);
}

/** `applyFields` that throws the upstream 409 on conflicts, with kubectl's upgrade path. */
export function recordApply(
  ctx: FieldContext,
  live: unknown,
  config: unknown,
  managers: Managers,
  actor: Actor,
  force: boolean,
): { object: unknown; managers: Managers } {
  let result = applyFields(ctx, live, config, managers, actor, force);
  if (result.conflicts.length > 0) {
    const allowed = actor.manager === KUBECTL ? allowedByLastApplied(ctx, live) : undefined;
    const remaining = result.conflicts
      .map((conflict) => ({
        ...conflict,
        paths: conflict.paths.filter((path) => !allowed?.has(path)),
      }))
      .filter((conflict) => conflict.paths.length > 0);
    if (remaining.length > 0) throw applyConflict(remaining);
    result = applyFields(ctx, live, config, managers, actor, true);
  }
  if (actor.manager === KUBECTL && annotationsOf(live)?.[LAST_APPLIED] !== undefined) {
    syncLastApplied(result.object, config);
  }
  return { object: result.object, managers: result.managers };
}

/** Sets the annotation to the applied configuration (without the annotation itself). */
function syncLastApplied(object: unknown, config: unknown) {
  if (!isObject(object) || !isObject(config)) return;
  const applied = structuredClone(config) as JsonObject;
  const appliedAnnotations = annotationsOf(applied);
  if (appliedAnnotations) {
    delete appliedAnnotations[LAST_APPLIED];
    if (Object.keys(appliedAnnotations).length === 0)
      delete (applied.metadata as JsonObject).annotations;
  }
  const metadata = isObject(object.metadata) ? object.metadata : {};
  metadata.annotations = {
    ...(annotationsOf(object) ?? {}),
    // Upstream writes it with a JSON encoder, which ends the text with a newline.
    [LAST_APPLIED]: `${JSON.stringify(applied)}\n`,
  };
  object.metadata = metadata;
}
