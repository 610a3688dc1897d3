import { STATUS_CODES } from 'node:http';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

/*
 * Building blocks of route response schemas. A route's `schema.response` maps each status code it
 * can answer to an OpenAPI response object ({ description, headers?, content? }); the OpenAPI
 * document is generated from them (openapi.ts) and the schemathesis test checks every answer
 * against them. They document and are checked; they do not filter what a handler sends (the
 * shared server serializes with JSON.stringify, see server.ts).
 */

/** An OpenAPI response object as a route declares it in `schema.response`. */
export interface ResponseSpec {
  description: string;
  headers?: Record<string, HeaderSpec>;
  content?: Record<string, { schema: object }>;
}

/** An OpenAPI header object. */
export interface HeaderSpec {
  description: string;
  required?: boolean;
  schema: object;
}

/** The body of every error answer: an RFC 9457 problem (see problem.ts). */
export const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status'],
  additionalProperties: false,
  properties: {
    type: { type: 'string', description: 'always `about:blank`: the status says what happened' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string', description: 'what was wrong, for a human' },
    errors: {
      type: 'array',
      description: 'the fields that were wrong (JSON pointers from `body`, `params`, …)',
      items: {
        type: 'object',
        required: ['path', 'message'],
        additionalProperties: false,
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

/** `Retry-After` in seconds, on 429 and 503 answers. */
export const RETRY_AFTER: HeaderSpec = {
  description: 'seconds to wait before retrying',
  required: true,
  schema: { type: 'string', pattern: '^[0-9]+$' },
};

const WWW_AUTHENTICATE: HeaderSpec = {
  description: 'the scheme to authenticate with (`Bearer`)',
  required: true,
  schema: { type: 'string' },
};

/** What each problem status means on our APIs, where the status name alone says too little. */
const PROBLEM_MEANINGS: Record<number, string> = {
  400: 'the request is invalid: `errors` names the fields',
  401: 'no valid credential',
  403: 'the credential is valid but not for this resource',
  404: 'no such resource',
  409: 'the resource exists already or changed meanwhile',
  413: 'the body is larger than this route accepts',
  414: 'a path segment is longer than the server accepts',
  415: 'the body has a media type this route does not accept',
  431: 'the request line and headers together are larger than 16 KiB',
  429: 'too many requests from this client; retry after Retry-After seconds',
  503: 'a dependency (the database, the Kubernetes API) is unreachable; retry after Retry-After seconds',
};

/**
 * A problem+json answer with `status`, documented with `description` (a default per status) and
 * `headers` (by default WWW-Authenticate on 401, Retry-After on 429 and 503).
 */
export function problemResponse(
  status: number,
  description?: string,
  headers: Record<string, HeaderSpec> = defaultHeaders(status),
): ResponseSpec {
  return {
    description: description ?? PROBLEM_MEANINGS[status] ?? STATUS_CODES[status] ?? 'an error',
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_SCHEMA } },
  };
}

function defaultHeaders(status: number): Record<string, HeaderSpec> {
  if (status === 401) return { 'www-authenticate': WWW_AUTHENTICATE };
  if (status === 429 || status === 503) return { 'retry-after': RETRY_AFTER };
  return {};
}

/** Problem answers for each of `statuses`, with the default descriptions. */
export function problemResponses(...statuses: number[]): Record<number, ResponseSpec> {
  return Object.fromEntries(statuses.map((status) => [status, problemResponse(status)]));
}

/** A JSON answer of `schema`. */
export function jsonResponse(
  description: string,
  schema: object,
  headers?: Record<string, HeaderSpec>,
): ResponseSpec {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema } },
  };
}

/** An answer without a body (204, 304). */
export function emptyResponse(
  description: string,
  headers?: Record<string, HeaderSpec>,
): ResponseSpec {
  return { description, ...(headers ? { headers } : {}) };
}
