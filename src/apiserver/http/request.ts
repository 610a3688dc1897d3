import type { FastifyRequest } from 'fastify';
import type { ResourceType } from '../resources/types.js';
import type { RequestContext } from '../rest/context.js';
import { decodeBody } from '../rest/decode.js';
import type { FieldValidation } from '../schema/index.js';
import { badRequest, unsupportedMediaType } from '../status.js';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from './protobuf.js';

/** Query parameters as single strings (the last value wins, as upstream). */
export type Query = Record<string, string | undefined>;

/** Flattens fastify's parsed query. */
export function queryOf(request: FastifyRequest): Query {
  const query: Query = {};
  for (const [key, value] of Object.entries(request.query as Record<string, unknown>)) {
    query[key] = Array.isArray(value)
      ? String(value.at(-1))
      : value === undefined
        ? undefined
        : String(value);
  }
  return query;
}

/** Reads a boolean query parameter as upstream converts it: anything but `false`/`f`/`0` is true. */
export function flag(query: Query, name: string): boolean {
  const value = query[name];
  if (value === undefined || value === '') return false;
  return !['0', 'f', 'false'].includes(value.toLowerCase());
}

/** Reads a non-negative integer query parameter. */
export function integerParam(query: Query, name: string): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw))
    throw badRequest(`${name}: Invalid value: "${raw}": must be a non-negative integer`);
  return Number(raw);
}

/** `limit`: upstream reads an int64 and pages only when it is positive, so a negative one means all. */
export function limitParam(query: Query): number | undefined {
  if (query.limit !== undefined && /^-\d+$/.test(query.limit)) return undefined;
  return integerParam(query, 'limit');
}

/** The media type of the request body, lower-cased, without parameters. */
export function mediaTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The body text of a request (every content type is read as a string). */
export function bodyText(request: FastifyRequest): string {
  return typeof request.body === 'string' ? request.body : '';
}

/** Decodes a POST/PUT body: JSON, YAML, or the protobuf Namespace kubectl sends; else 415. */
export function decodeObjectBody(request: FastifyRequest): unknown {
  const text = bodyText(request);
  const mediaType = mediaTypeOf(request);
  if (mediaType === PROTOBUF_MEDIA_TYPE && Buffer.isBuffer(request.body)) {
    return decodeProtobufObject(request.body);
  }
  if (mediaType === 'application/json' || mediaType === '') return decodeBody(text, 'json');
  if (mediaType === 'application/yaml') return decodeBody(text, 'yaml');
  throw unsupportedMediaType([
    'application/json',
    'application/yaml',
    'application/vnd.kubernetes.protobuf',
  ]);
}

const FIELD_VALIDATION: FieldValidation[] = ['Strict', 'Warn', 'Ignore'];

/** The field manager of a request: `?fieldManager=` or the User-Agent's product name. */
function fieldManagerOf(request: FastifyRequest, query: Query): string {
  const given = query.fieldManager;
  if (given !== undefined) {
    if (given.length > 128 || given.length === 0) {
      throw badRequest(
        `fieldManager: Invalid value: "${given}": must be between 1 and 128 characters long`,
      );
    }
    // As upstream's ValidateFieldManager; a NUL could not be stored either.
    if (/\p{Cc}/u.test(given)) {
      throw badRequest(
        `fieldManager: Invalid value: ${JSON.stringify(given)}: must only contain printable characters`,
      );
    }
    return given;
  }
  const agent = String(request.headers['user-agent'] ?? 'unknown');
  return agent.split('/')[0]?.slice(0, 128) || 'unknown';
}

/** Builds the context of one request on a resource. */
export function contextOf(
  request: FastifyRequest,
  query: Query,
  type: ResourceType,
  scope: { namespace: string; subresource: 'status' | undefined },
  now: Date,
): RequestContext {
  const dryRun = query.dryRun;
  if (dryRun !== undefined && dryRun !== 'All') {
    throw badRequest(`dryRun: Unsupported value: "${dryRun}": supported values: "All"`);
  }
  const fieldValidation = (query.fieldValidation ?? 'Warn') as FieldValidation;
  if (!FIELD_VALIDATION.includes(fieldValidation)) {
    throw badRequest(
      `fieldValidation: Unsupported value: "${fieldValidation}": supported values: "Ignore", "Strict", "Warn"`,
    );
  }
  return {
    type,
    namespace: scope.namespace,
    subresource: scope.subresource,
    dryRun: dryRun === 'All',
    fieldValidation,
    fieldManager: fieldManagerOf(request, query),
    now,
    warnings: [],
  };
}
