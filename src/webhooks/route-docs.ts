import { jsonResponse, problemResponse, problemResponses } from '../http/responses.js';
import { REGISTRY_KINDS } from './push.js';

/*
 * The schemas of the receiver's routes, for fastify and the OpenAPI document. The body is read as
 * raw bytes (its signature is over them), so it is described here rather than validated by
 * fastify: each registry's parser checks it.
 */

/** The registry segment that detects the registry from the delivery. */
export const AUTO_DETECT = 'docker-registry';

const REGISTRY = {
  type: 'string',
  enum: [...REGISTRY_KINDS, AUTO_DETECT],
  description: `the registry that sends the delivery; \`${AUTO_DETECT}\` tells it from the delivery itself`,
  examples: ['generic'],
} as const;

/** Path tokens are the secrets of registries that can send no header (Docker Hub, Quay). */
const TOKEN = {
  type: 'string',
  minLength: 1,
  maxLength: 256,
  description: "the registry's configured secret, for registries that cannot send a header",
} as const;

const STRINGS = { type: 'array', items: { type: 'string' } } as const;

/** What the receiver answers to a delivery it processed. */
const OUTCOME = {
  type: 'object',
  required: ['registry', 'rollouts', 'duplicates', 'unmatched', 'ignored', 'warnings'],
  additionalProperties: false,
  properties: {
    registry: { type: 'string', enum: REGISTRY_KINDS },
    rollouts: {
      type: 'array',
      description: 'the ImageRollouts the pushes created (or found existing)',
      items: {
        type: 'object',
        required: ['namespace', 'name', 'policy', 'image', 'tag', 'created'],
        additionalProperties: false,
        properties: {
          namespace: { type: 'string' },
          name: { type: 'string' },
          policy: { type: 'string' },
          image: { type: 'string' },
          tag: { type: 'string' },
          digest: { type: 'string' },
          created: { type: 'boolean', description: 'false when it existed already' },
          error: { type: 'string', description: 'why the API server refused it' },
        },
      },
    },
    duplicates: { ...STRINGS, description: 'delivery ids already processed' },
    unmatched: { ...STRINGS, description: 'pushed images no active policy matches' },
    ignored: {
      type: 'array',
      description: 'events of the delivery that are not pushes',
      items: {
        type: 'object',
        required: ['reason', 'detail'],
        additionalProperties: false,
        properties: { reason: { type: 'string' }, detail: { type: 'string' } },
      },
    },
    warnings: STRINGS,
  },
} as const;

type Security = ReadonlyArray<Record<string, readonly string[]>>;
/** Bearer, GitHub's signature, or (where the registry is configured to accept it) nothing. */
const HEADERS: Security = [{ webhookBearer: [] }, { webhookSignature: [] }, {}];
const NO_HEADER: Security = [];

const ANY_JSON = { description: "the registry's own event format" };

/** `POST /api/v1/webhooks/:registry[/:token]`; `withToken` for the route with a path token. */
export function deliverySchema(withToken: boolean) {
  return {
    summary: withToken
      ? 'Receive a registry push event, authenticated by a token in the path'
      : 'Receive a registry push event',
    description:
      'Creates an ImageRollout for each push that an active ImagePolicy matches. Deliveries are de-duplicated by delivery id; a repeat answers 200 with the id under `duplicates`.',
    tags: ['webhooks'],
    security: withToken ? NO_HEADER : HEADERS,
    params: {
      type: 'object',
      required: withToken ? ['registry', 'token'] : ['registry'],
      properties: withToken ? { registry: REGISTRY, token: TOKEN } : { registry: REGISTRY },
    },
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: ANY_JSON,
          // The generic format (README): what a CI pipeline sends after pushing.
          example: { image: 'ghcr.io/acme/app', tag: '1.2.3' },
        },
        'application/x-www-form-urlencoded': {
          schema: {
            type: 'object',
            required: ['payload'],
            properties: { payload: { type: 'string', description: 'the JSON event (GitHub)' } },
          },
        },
      },
    },
    response: {
      200: jsonResponse('processed', OUTCOME),
      ...problemResponses(400, 413, 415, 429, 503),
      404: problemResponse(404, 'no receiver for this registry: `detail` names those there are'),
      // Registries send a secret or a signature they were configured with; no challenge helps.
      401: problemResponse(401, 'the delivery is not authentic (secret, signature or token)', {}),
    },
  } as const;
}

/** `GET /api/v1/webhooks/docker-registry/test`. */
export const testSchema = {
  summary: 'Check that the receiver is reachable (registries call it when a webhook is added)',
  tags: ['webhooks'],
  response: {
    200: jsonResponse('reachable', {
      type: 'object',
      required: ['status'],
      additionalProperties: false,
      properties: { status: { const: 'ok' } },
    }),
  },
} as const;
