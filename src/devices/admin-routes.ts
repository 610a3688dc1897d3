import type { FastifyReply, FastifyRequest } from 'fastify';
import { sameSecret } from '../api/same-secret.js';
import type { Database, Db } from '../db/client.js';
import {
  DeviceExistsError,
  deleteDevice,
  getDevice,
  listDevices,
  registerDevice,
  rotateApiKey,
} from '../db/device-store.js';
import { getReport } from '../db/report-store.js';
import { loadEffectiveTarget, setBaseTarget } from '../db/target-store.js';
import { HttpProblem } from '../http/problem.js';
import type { HttpPlugin } from '../http/server.js';
import type { Logger } from '../telemetry/logger.js';
import { bearerToken } from './credentials.js';
import { LabelSelectorError, parseLabelSelector } from './label-selector.js';
import { unauthorized, unknownDevice } from './problems.js';
import {
  deleteSchema,
  listSchema,
  registerSchema,
  rotateSchema,
  setTargetSchema,
  showSchema,
} from './route-docs.js';
import { invalidHealthChecks, invalidImages } from './schemas.js';
import type { TargetApps } from './target-document.js';

const DEFAULT_PAGE = 100;

type Registration = {
  uuid?: string;
  fleet: string;
  labels?: Record<string, string>;
  apps?: TargetApps;
};
type ListQuery = { fleet?: string; labelSelector?: string; limit?: string; continue?: string };
type UuidParams = { uuid: string };

/** What the admin routes need; `changed` makes this process's cache see a write at once. */
export interface AdminRoutesDeps {
  database: Database;
  logger: Logger;
  adminToken: string;
  changed(uuids: string[]): Promise<void>;
}

/**
 * Admin API: register devices, list and read them, replace their target, rotate their key,
 * delete them. Admin bearer token.
 */
export function adminRoutes(deps: AdminRoutesDeps): HttpPlugin {
  const handlers = new AdminHandlers(deps.database.db, deps.logger, deps.changed);
  return async (app) => {
    app.addHook('onRequest', async (request) => {
      const token = bearerToken(request.headers.authorization);
      if (token === undefined || !sameSecret(token, deps.adminToken)) {
        throw unauthorized('admin token');
      }
    });
    app.post('/api/v1/devices', { schema: registerSchema }, handlers.register);
    app.get('/api/v1/devices', { schema: listSchema }, handlers.list);
    app.get('/api/v1/devices/:uuid', { schema: showSchema }, handlers.show);
    app.put('/api/v1/devices/:uuid/target', { schema: setTargetSchema }, handlers.setTarget);
    app.post('/api/v1/devices/:uuid/key', { schema: rotateSchema }, handlers.rotate);
    app.delete('/api/v1/devices/:uuid', { schema: deleteSchema }, handlers.remove);
  };
}

class AdminHandlers {
  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly changed: (uuids: string[]) => Promise<void>,
  ) {}

  /** `POST /api/v1/devices` → 201 `{ uuid, apiKey }`; the key is never shown again. */
  readonly register = async (request: FastifyRequest, reply: FastifyReply) => {
    const { uuid, fleet, labels = {}, apps = {} } = request.body as Registration;
    requireValidImages(apps);
    try {
      const device = await registerDevice(this.db, { uuid, fleet, labels, apps });
      await this.changed([device.uuid]);
      this.logger.info({ uuid: device.uuid, fleet }, 'device registered');
      return reply.code(201).header('location', `/api/v1/devices/${device.uuid}`).send(device);
    } catch (error) {
      if (error instanceof DeviceExistsError) throw new HttpProblem(409, 'Conflict', error.message);
      throw error;
    }
  };

  /** `GET /api/v1/devices?fleet=&labelSelector=&limit=&continue=` → `{ items, continue? }`. */
  readonly list = async (request: FastifyRequest) => {
    const query = request.query as ListQuery;
    const page = await listDevices(this.db, {
      fleet: query.fleet,
      selector: selectorOf(query.labelSelector),
      limit: Math.min(Number(query.limit ?? DEFAULT_PAGE), 1000),
      after: query.continue?.toLowerCase(),
    });
    return { items: page.items, ...(page.last ? { continue: page.last } : {}) };
  };

  /** `GET /api/v1/devices/:uuid` → the device with its effective target and last report. */
  readonly show = async (request: FastifyRequest) => {
    const uuid = (request.params as UuidParams).uuid.toLowerCase();
    const [device, target, reported] = await Promise.all([
      getDevice(this.db, uuid),
      loadEffectiveTarget(this.db, uuid),
      getReport(this.db, uuid),
    ]);
    if (!device || !target) throw unknownDevice(uuid);
    const rollouts = target.overlays.map(({ uid, namespace, name, image }) => ({
      uid,
      namespace,
      name,
      image,
    }));
    return {
      ...device,
      target: { etag: target.etag, apps: target.apps, rollouts },
      reported: reported ?? null,
    };
  };

  /** `PUT /api/v1/devices/:uuid/target` → the new effective target (rollouts still apply). */
  readonly setTarget = async (request: FastifyRequest) => {
    const uuid = (request.params as UuidParams).uuid.toLowerCase();
    const { apps } = request.body as { apps: TargetApps };
    requireValidImages(apps);
    if (!(await setBaseTarget(this.db, uuid, apps))) throw unknownDevice(uuid);
    await this.changed([uuid]);
    this.logger.info({ uuid }, 'device target replaced');
    const target = await loadEffectiveTarget(this.db, uuid);
    if (!target) throw unknownDevice(uuid);
    return { uuid, target: { etag: target.etag, apps: target.apps } };
  };

  /** `POST /api/v1/devices/:uuid/key` → `{ uuid, apiKey }`; the old key stops working. */
  readonly rotate = async (request: FastifyRequest) => {
    const uuid = (request.params as UuidParams).uuid.toLowerCase();
    const apiKey = await rotateApiKey(this.db, uuid);
    if (apiKey === undefined) throw unknownDevice(uuid);
    await this.changed([uuid]);
    this.logger.info({ uuid }, 'device key rotated');
    return { uuid, apiKey };
  };

  /** `DELETE /api/v1/devices/:uuid` → 204; the device, its target and report are gone. */
  readonly remove = async (request: FastifyRequest, reply: FastifyReply) => {
    const uuid = (request.params as UuidParams).uuid.toLowerCase();
    const deleted = await deleteDevice(this.db, uuid);
    if (!deleted) throw unknownDevice(uuid);
    await this.changed([uuid]);
    this.logger.info({ uuid, rollouts: deleted.rollouts.length }, 'device deleted');
    return reply.code(204).send();
  };
}

function requireValidImages(apps: TargetApps): void {
  const errors = invalidImages(apps, 'body/apps');
  if (errors.length > 0) {
    throw new HttpProblem(
      400,
      'Invalid request',
      'a service image is not a valid reference',
      errors,
    );
  }
  const checkErrors = invalidHealthChecks(apps, 'body/apps');
  if (checkErrors.length > 0) {
    throw new HttpProblem(400, 'Invalid request', 'a service health check is invalid', checkErrors);
  }
}

function selectorOf(input: string | undefined) {
  if (input === undefined) return undefined;
  try {
    return parseLabelSelector(input);
  } catch (error) {
    if (!(error instanceof LabelSelectorError)) throw error;
    throw new HttpProblem(400, 'Invalid request', `labelSelector: ${error.message}`);
  }
}
