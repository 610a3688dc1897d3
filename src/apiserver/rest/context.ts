import { randomUUID } from 'node:crypto';
import type { FieldSet } from '../fields/fieldset.js';
import { fieldSetOf } from '../fields/fieldset.js';
import type { FieldContext } from '../fields/managed.js';
import { clone, isObject, type JsonObject } from '../json.js';
import { objectMetaTypeErrors } from '../resources/object-meta.js';
import type { ResourceType } from '../resources/types.js';
import { apiVersionOf } from '../resources/types.js';
import { fieldError } from '../schema/field-errors.js';
import type { FieldValidation } from '../schema/index.js';
import { badRequest, type GroupResource, invalid } from '../status.js';
import type { ObjectKey, ObjectStore, StoredObject } from '../storage/store.js';
import { checkDepth } from './decode.js';

/** What every operation on one resource needs to know about its request. */
export interface RequestContext {
  type: ResourceType;
  /** '' for cluster-scoped resources and cluster-wide lists. */
  namespace: string;
  subresource: 'status' | undefined;
  dryRun: boolean;
  fieldValidation: FieldValidation;
  /** The field manager named by the request, or derived from its User-Agent. */
  fieldManager: string;
  now: Date;
  /** Warnings for `Warning: 299` headers. */
  warnings: string[];
}

/** The services operations run against. */
export interface Services {
  store: ObjectStore;
  namespaceType: ResourceType;
  newUid?: () => string;
}

/** The group and plural of a type, for error messages. */
export function groupResource(type: ResourceType): GroupResource {
  return { group: type.group, resource: type.plural };
}

/** The storage key of one object of the request's type. */
export function keyOf(ctx: RequestContext, name: string): ObjectKey {
  return { resource: ctx.type.storage, namespace: ctx.type.namespaced ? ctx.namespace : '', name };
}

/** The metadata of a JSON object (created when missing). */
export function meta(object: JsonObject): JsonObject {
  if (!isObject(object.metadata)) object.metadata = {};
  return object.metadata as JsonObject;
}

/** A stored object in the form this request's type serves. */
export function toView(ctx: RequestContext, stored: StoredObject): JsonObject {
  return ctx.type.convert ? ctx.type.convert.fromStorage(stored) : stored;
}

/** A served object in its storage form. */
export function toStorage(ctx: RequestContext, object: JsonObject): StoredObject {
  const converted = ctx.type.convert ? ctx.type.convert.toStorage(object) : object;
  return converted as StoredObject;
}

/** The name Go's encoding/json gives a JSON value's type in unmarshal errors. */
function goJsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  return 'object';
}

/** RFC 3339 with seconds, as Kubernetes writes `metav1.Time`. */
export function timestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** A new object uid. */
export function newUid(services: Services): string {
  return services.newUid ? services.newUid() : randomUUID();
}

/**
 * Checks a request body against the endpoint: an object of the served apiVersion and kind, in
 * the request's namespace. Fills in a missing apiVersion, kind and namespace; returns a copy.
 */
export function checkBody(ctx: RequestContext, body: unknown, name?: string): JsonObject {
  if (!isObject(body)) throw badRequest('the body of the request must be a JSON or YAML object');
  checkDepth(body);
  const object = clone(body);
  for (const field of ['apiVersion', 'kind']) {
    const value = object[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      // Upstream reads both as Go strings before anything else, and says so.
      throw badRequest(
        `the object provided is unrecognized (must be of type ${ctx.type.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${goJsonType(value)} into Go struct field .${field} of type string`,
      );
    }
  }
  const apiVersion = apiVersionOf(ctx.type);
  // Like upstream's decoder, a body without apiVersion or kind gets the endpoint's.
  object.apiVersion ??= apiVersion;
  object.kind ??= ctx.type.kind;
  if (object.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  }
  if (object.kind !== ctx.type.kind && ctx.type.custom) {
    // Upstream decodes a custom resource without checking its kind; validation then refuses it.
    const named = isObject(object.metadata) ? object.metadata.name : undefined;
    throw invalid(
      { group: ctx.type.group, kind: String(object.kind) },
      typeof named === 'string' ? named : '',
      [fieldError.invalid('kind', object.kind, `must be ${ctx.type.kind}`)],
    );
  }
  if (object.kind !== ctx.type.kind) {
    throw badRequest(
      `the kind in the data (${String(object.kind)}) does not match the expected kind (${ctx.type.kind})`,
    );
  }
  const metadataErrors = objectMetaTypeErrors(object.metadata);
  if (metadataErrors.length > 0) {
    const given = isObject(object.metadata) ? object.metadata.name : undefined;
    const invalidName = typeof given === 'string' ? given : (name ?? '');
    throw invalid({ group: ctx.type.group, kind: ctx.type.kind }, invalidName, metadataErrors);
  }
  const metadata = meta(object);
  if (ctx.type.namespaced) {
    if (
      metadata.namespace !== undefined &&
      metadata.namespace !== '' &&
      metadata.namespace !== ctx.namespace
    ) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    metadata.namespace = ctx.namespace;
  } else delete metadata.namespace;
  if (name !== undefined && metadata.name !== undefined && metadata.name !== name) {
    throw badRequest(
      `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
    );
  }
  if (name !== undefined) metadata.name = name;
  return object;
}

const ALL_BUT_STATUS = fieldSetOf('apiVersion', 'kind', 'metadata', 'spec');

/** The field manager's view of this request's type and endpoint. */
export function fieldContext(ctx: RequestContext): FieldContext {
  let resetFields: FieldSet = fieldSetOf();
  if (ctx.type.statusSubresource) {
    resetFields = ctx.subresource === 'status' ? ALL_BUT_STATUS : fieldSetOf('status');
  }
  return {
    type: ctx.type.fieldType,
    apiVersion: apiVersionOf(ctx.type),
    resetFields,
    now: timestamp(ctx.now),
  };
}

/** The object without `metadata.managedFields`, as the field manager compares objects. */
export function withoutManagedFields(object: JsonObject | undefined): JsonObject | undefined {
  if (!object) return undefined;
  const { managedFields: _, ...metadata } = meta({
    ...object,
    metadata: { ...(object.metadata as object) },
  });
  return { ...object, metadata };
}
