import {
  emptyResponse,
  type HeaderSpec,
  jsonResponse,
  problemResponses,
} from '../http/responses.js';
import { POLL_INTERVAL_HEADER } from './poll-handler.js';
import {
  listQuerySchema,
  registrationSchema,
  reportSchema,
  targetAppsSchema,
  targetBodySchema,
  UUID_PATTERN,
  uuidParamsSchema,
} from './schemas.js';

/*
 * The full schemas of the device and admin routes: what fastify validates (schemas.ts) and every
 * answer each route gives, with its headers. The OpenAPI document is generated from these.
 */

const DEVICE = [{ deviceKey: [] }] as const;
const ADMIN = [{ adminToken: [] }] as const;

const ETAG: HeaderSpec = {
  description: 'the version of the target document; send it back in If-None-Match',
  required: true,
  schema: { type: 'string', pattern: '^"[A-Za-z0-9_-]+"$' },
};
const POLL_INTERVAL: HeaderSpec = {
  description: 'seconds the device should wait before its next poll',
  required: true,
  schema: { type: 'string', pattern: '^[0-9]+$' },
};
const POLL_HEADERS = { etag: ETAG, [POLL_INTERVAL_HEADER]: POLL_INTERVAL };

const UUID = { type: 'string', pattern: UUID_PATTERN } as const;
const TIME = { type: 'string', format: 'date-time' } as const;

/** A device as admins see it (never its key). */
const DEVICE_RECORD = {
  type: 'object',
  required: ['uuid', 'fleet', 'labels', 'createdAt', 'lastSeenAt'],
  properties: {
    uuid: UUID,
    fleet: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    createdAt: TIME,
    lastSeenAt: { anyOf: [TIME, { type: 'null' }], description: 'its last report' },
  },
} as const;

const CREDENTIAL = {
  type: 'object',
  required: ['uuid', 'apiKey'],
  additionalProperties: false,
  properties: {
    uuid: UUID,
    apiKey: { type: 'string', description: 'shown only in this answer' },
  },
} as const;

const ROLLOUT_REF = {
  type: 'object',
  required: ['uid', 'namespace', 'name', 'image'],
  additionalProperties: false,
  properties: {
    uid: { type: 'string' },
    namespace: { type: 'string' },
    name: { type: 'string' },
    image: { type: 'string' },
  },
} as const;

/** `{ "<uuid>": { "apps": … } }`: what a device is told to run. */
const TARGET_DOCUMENT = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  propertyNames: { pattern: UUID_PATTERN },
  additionalProperties: targetBodySchema,
} as const;

/** `GET /api/v1/device/:uuid/state`. */
export const pollSchema = {
  summary: "The device's target state (ETag, 304, long poll)",
  description:
    'Send the last ETag in If-None-Match: 304 while the target is unchanged, 200 with the new document otherwise. With `wait`, a 304 is held up to that many seconds (capped by the server) and answered as 200 as soon as the target changes.',
  tags: ['device'],
  security: DEVICE,
  params: uuidParamsSchema,
  querystring: {
    type: 'object',
    properties: {
      wait: {
        type: 'string',
        pattern: '^[0-9]{1,6}$',
        description: 'long poll: seconds to hold a 304 waiting for a change',
      },
    },
  },
  headers: {
    type: 'object',
    properties: {
      'if-none-match': {
        type: 'string',
        maxLength: 4096,
        description: 'the ETag of the target the device runs',
      },
    },
  },
  response: {
    200: jsonResponse('the target changed: the new document', TARGET_DOCUMENT, POLL_HEADERS),
    304: emptyResponse('the target is still the one If-None-Match names', POLL_HEADERS),
    ...problemResponses(401, 403, 404, 503),
  },
} as const;

/** `PATCH /api/v1/device/state`. */
export const reportRouteSchema = {
  summary: 'Report what the device runs',
  tags: ['device'],
  security: DEVICE,
  body: reportSchema,
  response: {
    204: emptyResponse('recorded'),
    ...problemResponses(401, 403, 404, 503),
  },
} as const;

/** `POST /api/v1/devices`. */
export const registerSchema = {
  summary: 'Register a device; the answer holds its API key, shown only once',
  tags: ['admin'],
  security: ADMIN,
  body: registrationSchema,
  response: {
    201: jsonResponse('registered', CREDENTIAL, {
      location: { description: 'the new device', required: true, schema: { type: 'string' } },
    }),
    ...problemResponses(401, 409, 503),
  },
} as const;

/** `GET /api/v1/devices`. */
export const listSchema = {
  summary: 'List devices by fleet and label selector, a page at a time',
  tags: ['admin'],
  security: ADMIN,
  querystring: listQuerySchema,
  response: {
    200: jsonResponse('a page of devices, ordered by uuid', {
      type: 'object',
      required: ['items'],
      additionalProperties: false,
      properties: {
        items: { type: 'array', items: DEVICE_RECORD },
        continue: { ...UUID, description: 'pass as `continue` for the next page' },
      },
    }),
    ...problemResponses(401, 503),
  },
} as const;

/** `GET /api/v1/devices/:uuid`. */
export const showSchema = {
  summary: 'A device with its effective target and last report',
  tags: ['admin'],
  security: ADMIN,
  params: uuidParamsSchema,
  response: {
    200: jsonResponse('the device', {
      ...DEVICE_RECORD,
      required: [...DEVICE_RECORD.required, 'target', 'reported'],
      properties: {
        ...DEVICE_RECORD.properties,
        target: {
          type: 'object',
          required: ['etag', 'apps', 'rollouts'],
          additionalProperties: false,
          properties: {
            etag: { type: 'string' },
            apps: targetAppsSchema,
            rollouts: {
              type: 'array',
              items: ROLLOUT_REF,
              description: 'the rollouts whose images the target runs',
            },
          },
        },
        reported: {
          anyOf: [
            {
              type: 'object',
              required: ['apps', 'reportedAt'],
              additionalProperties: false,
              properties: { apps: { type: 'object' }, reportedAt: TIME },
            },
            { type: 'null' },
          ],
        },
      },
    }),
    ...problemResponses(401, 404, 503),
  },
} as const;

/** `PUT /api/v1/devices/:uuid/target`. */
export const setTargetSchema = {
  summary: "Replace a device's base target (running rollouts still apply on top)",
  tags: ['admin'],
  security: ADMIN,
  params: uuidParamsSchema,
  body: targetBodySchema,
  response: {
    200: jsonResponse('the new effective target', {
      type: 'object',
      required: ['uuid', 'target'],
      additionalProperties: false,
      properties: {
        uuid: UUID,
        target: {
          type: 'object',
          required: ['etag', 'apps'],
          additionalProperties: false,
          properties: { etag: { type: 'string' }, apps: targetAppsSchema },
        },
      },
    }),
    ...problemResponses(401, 404, 503),
  },
} as const;

/** `POST /api/v1/devices/:uuid/key`. */
export const rotateSchema = {
  summary: "Rotate a device's API key; the old one stops working",
  tags: ['admin'],
  security: ADMIN,
  params: uuidParamsSchema,
  response: {
    200: jsonResponse('the new key, shown only once', CREDENTIAL),
    ...problemResponses(401, 404, 503),
  },
} as const;

/** `DELETE /api/v1/devices/:uuid`. */
export const deleteSchema = {
  summary: 'Delete a device with its target and report',
  tags: ['admin'],
  security: ADMIN,
  params: uuidParamsSchema,
  response: {
    204: emptyResponse('deleted'),
    ...problemResponses(401, 404, 503),
  },
} as const;
