import { InvalidImageReference, parseImageReference } from '../api/image-reference.js';
import {
  healthCheckErrors,
  type TargetHealthCheck,
  targetHealthChecksSchema,
} from './health-checks.js';
import { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from './label-selector.js';
import type { TargetApps } from './target-document.js';

/*
 * JSON schemas of the device API, checked at the edge by fastify. Every object has a bound on
 * its number of properties and every string a maximum length; nesting is bounded by the body
 * parser and size by the body limit, so no body can make us do unbounded work.
 */

/** A device uuid, any case. */
export const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** App and service names: no `/`, since `app/service` names a service in rollout records. */
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';
/** Fleet names are DNS labels, as selectors in ImagePolicy refer to them. */
const FLEET = { type: 'string', pattern: '^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$' } as const;
const MAX_APPS = 32;
const MAX_SERVICES = 32;
const MAX_SETTINGS = 64;

const names = (maxProperties: number) => ({
  maxProperties,
  propertyNames: { pattern: NAME_PATTERN },
});

/** apps → services → `service`, with bounded names and counts at every level. */
function appsSchema(service: object, appRequired: string[]) {
  return {
    type: 'object',
    ...names(MAX_APPS),
    additionalProperties: {
      type: 'object',
      required: appRequired,
      maxProperties: MAX_SETTINGS,
      properties: {
        services: { type: 'object', ...names(MAX_SERVICES), additionalProperties: service },
      },
    },
  };
}

/** The target document: apps → services → image (other settings pass through). */
export const targetAppsSchema = appsSchema(
  {
    type: 'object',
    required: ['image'],
    maxProperties: MAX_SETTINGS,
    properties: {
      image: { type: 'string', minLength: 1, maxLength: 512 },
      healthChecks: targetHealthChecksSchema,
    },
  },
  ['services'],
);

const labelsSchema = {
  type: 'object',
  maxProperties: 64,
  propertyNames: { pattern: LABEL_KEY_PATTERN, maxLength: 317 },
  additionalProperties: { type: 'string', pattern: LABEL_VALUE_PATTERN },
} as const;

/** `POST /api/v1/devices`. */
export const registrationSchema = {
  type: 'object',
  required: ['fleet'],
  additionalProperties: false,
  properties: {
    uuid: { type: 'string', pattern: UUID_PATTERN },
    fleet: FLEET,
    labels: labelsSchema,
    apps: targetAppsSchema,
  },
} as const;

/** `PUT /api/v1/devices/:uuid/target`. */
export const targetBodySchema = {
  type: 'object',
  required: ['apps'],
  additionalProperties: false,
  properties: { apps: targetAppsSchema },
} as const;

/** `GET /api/v1/devices` query. */
export const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    fleet: FLEET,
    labelSelector: { type: 'string', maxLength: 4096 },
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' },
    continue: { type: 'string', pattern: UUID_PATTERN },
  },
} as const;

/** `:uuid` path parameter. */
export const uuidParamsSchema = {
  type: 'object',
  required: ['uuid'],
  properties: { uuid: { type: 'string', pattern: UUID_PATTERN } },
} as const;

/** `PATCH /api/v1/device/state`: `{ "<uuid>": { "apps": { … services: { image, status, health } } } }`. */
export const reportSchema = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  propertyNames: { pattern: UUID_PATTERN },
  additionalProperties: {
    type: 'object',
    required: ['apps'],
    maxProperties: MAX_SETTINGS,
    properties: {
      apps: appsSchema(
        {
          type: 'object',
          maxProperties: MAX_SETTINGS,
          properties: {
            image: { type: 'string', maxLength: 512 },
            status: { type: 'string', maxLength: 64 },
            health: { enum: ['healthy', 'unhealthy', 'unknown'] },
            /** Why the service is unhealthy (a failed check), for operators. */
            healthReason: { type: 'string', maxLength: 1024 },
          },
        },
        [],
      ),
    },
  },
} as const;

/** Field errors for every service image that is not a valid reference. */
export function invalidImages(apps: TargetApps, at: string) {
  const errors: Array<{ path: string; message: string }> = [];
  for (const [appName, app] of Object.entries(apps)) {
    for (const [serviceName, service] of Object.entries(app.services)) {
      try {
        parseImageReference(service.image);
      } catch (error) {
        if (!(error instanceof InvalidImageReference)) throw error;
        errors.push({
          path: `${at}/${appName}/services/${serviceName}/image`,
          message: error.message,
        });
      }
    }
  }
  return errors;
}

/** Field errors of every service's `healthChecks` the schema cannot catch (see healthCheckErrors). */
export function invalidHealthChecks(apps: TargetApps, at: string) {
  const errors: Array<{ path: string; message: string }> = [];
  for (const [appName, app] of Object.entries(apps)) {
    for (const [serviceName, service] of Object.entries(app.services)) {
      const checks = service.healthChecks as TargetHealthCheck[] | undefined;
      if (checks === undefined) continue;
      const where = `${at}/${appName}/services/${serviceName}/healthChecks`;
      errors.push(...healthCheckErrors(checks, where));
    }
  }
  return errors;
}
