/**
 * Kubernetes `Status` errors: every failed request of the local API server answers with one, in
 * the shape and wording of the real API server, so kubectl and client libraries print and
 * classify them as users know.
 */

/** One cause of a failure, usually an invalid field. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** What the failure is about. `kind` holds the resource (plural) for most reasons, as upstream. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A `v1` Status object. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A group and resource (plural), for messages like `imagepolicies.fleet.iotistic.io "x"`. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** A group and kind, for messages like `ImagePolicy.fleet.iotistic.io "x" is invalid`. */
export interface GroupKind {
  group: string;
  kind: string;
}

/** One field error: `message` is the body without the path (`Invalid value: 5: must be ...`). */
export interface FieldCause {
  type: string;
  field: string;
  message: string;
}

/** An API failure that becomes a `Status` answer. Throw it from handlers and storage. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The `Status` body of this error. */
  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `imagepolicies.fleet.iotistic.io`, or `namespaces` for the core group. */
export function groupResourceString({ group, resource }: GroupResource): string {
  return group ? `${resource}.${group}` : resource;
}

function groupKindString({ group, kind }: GroupKind): string {
  return group ? `${kind}.${group}` : kind;
}

/** 404 NotFound for a named object. */
export function notFound(gr: GroupResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${groupResourceString(gr)} "${name}" not found`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

/** 409 AlreadyExists for a create of a taken name. */
export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${groupResourceString(gr)} "${name}" already exists`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });
}

/** 409 Conflict: a stale resourceVersion or a failed precondition. */
export function conflict(gr: GroupResource, name: string, detail: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${groupResourceString(gr)} "${name}": ${detail}`,
    { name, ...(gr.group ? { group: gr.group } : {}), kind: gr.resource },
  );
}

/** The detail of a Conflict caused by a stale resourceVersion. */
export const MODIFIED_CONFLICT =
  'the object has been modified; please apply your changes to the latest version and try again';

/** 422 Invalid with field causes; kubectl prints `The Kind "name" is invalid: field: message`. */
export function invalid(gk: GroupKind, name: string, causes: FieldCause[]): ApiError {
  const errors = causes.map((cause) => `${cause.field}: ${cause.message}`);
  const aggregate = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${groupKindString(gk)} "${name}" is invalid: ${aggregate}`, {
    ...(name ? { name } : {}),
    ...(gk.group ? { group: gk.group } : {}),
    kind: gk.kind,
    causes: causes.map((cause) => ({
      reason: cause.type,
      message: cause.message,
      field: cause.field,
    })),
  });
}

/** 403 Forbidden on a named object. */
export function forbidden(gr: GroupResource, name: string, detail: string): ApiError {
  return new ApiError(
    403,
    'Forbidden',
    `${groupResourceString(gr)} "${name}" is forbidden: ${detail}`,
    { name, ...(gr.group ? { group: gr.group } : {}), kind: gr.resource },
  );
}

/** 400 BadRequest. */
export function badRequest(message: string, options?: { cause?: unknown }): ApiError {
  return new ApiError(400, 'BadRequest', message, undefined, options);
}

/** 410 Expired: a resourceVersion or continue token older than the retained change log. */
export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

/**
 * 504 Timeout for a resourceVersion the server has not reached, in upstream's words, with the
 * `ResourceVersionTooLarge` cause clients look for before they relist.
 */
export function resourceVersionTooLarge(requested: string, current: number): ApiError {
  return new ApiError(
    504,
    'Timeout',
    `Timeout: Too large resource version: ${requested}, current: ${current}`,
    {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    },
  );
}

/**
 * 503 ServiceUnavailable while the database cannot be reached, with the delay clients wait
 * before they retry (also sent as `Retry-After`, as upstream does for any Status that has one).
 */
export function databaseUnavailable(retryAfterSeconds: number, cause: unknown): ApiError {
  return new ApiError(
    503,
    'ServiceUnavailable',
    'the server cannot reach its database; retry later',
    { retryAfterSeconds },
    { cause },
  );
}

/** A path that names no served resource: answered, as upstream's mux does, in plain text. */
export class PathNotFound extends ApiError {
  /** The body upstream's Go mux answers (`http.NotFound`). */
  static readonly TEXT = '404 page not found\n';
}

/** 404 as a JSON Status for a resource path that cannot name anything. */
export function resourceNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** 404 for a path that names no served resource. */
export function pathNotFound(): ApiError {
  return new PathNotFound(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** 405 for a verb the resource does not support. */
export function methodNotAllowed(): ApiError {
  return new ApiError(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
    {},
  );
}

/** 415 for a body in a media type the endpoint does not accept. */
export function unsupportedMediaType(accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/** 406 when none of the Accept header's media types can be produced. */
export function notAcceptable(accepted: string[]): ApiError {
  return new ApiError(
    406,
    'NotAcceptable',
    `only the following media types are accepted: ${accepted.join(', ')}`,
  );
}

/** 401 without valid credentials. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** 413 for a body over the size limit. */
export function requestTooLarge(limitBytes: number): ApiError {
  return new ApiError(
    413,
    'RequestEntityTooLarge',
    `Request entity too large: limit is ${limitBytes}`,
  );
}
