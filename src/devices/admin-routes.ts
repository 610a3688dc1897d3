import type { Database } from '../db/client.js';
import { DeviceExistsError, getDevice, listDevices, registerDevice } from '../db/device-store.js';
import { getReport } from '../db/report-store.js';
import { loadEffectiveTarget, setBaseTarget } from '../db/target-store.js';
import { HttpProblem } from '../http/problem.js';
import type { HttpPlugin } from '../http/server.js';
import { bearerToken, sameSecret } from './credentials.js';
import { LabelSelectorError, parseLabelSelector } from './label-selector.js';
import { unauthorized, unknownDevice } from './problems.js';
import {
  invalidImages,
  listQuerySchema,
  registrationSchema,
  targetBodySchema,
  uuidParamsSchema,
} from './schemas.js';
import type { TargetApps } from './target-document.js';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

type UuidParams = { uuid: string };

/** What the admin routes need; `changed` makes this process's cache see a write at once. */
export interface AdminRoutesDeps {
  database: Database;
  adminToken: string;
  changed(uuids: string[]): Promise<void>;
}

/** Admin API: register devices, list and read them, replace their target. Admin bearer token. */
export function adminRoutes(deps: AdminRoutesDeps): HttpPlugin {
  const { db } = deps.database;
  return async (app) => {
    app.addHook('onRequest', async (request) => {
      const token = bearerToken(request.headers.authorization);
      if (token === undefined || !sameSecret(token, deps.adminToken))
        throw unauthorized('admin token');
    });

    app.post<{
      Body: { uuid?: string; fleet: string; labels?: Record<string, string>; apps?: TargetApps };
    }>('/api/v1/devices', { schema: { body: registrationSchema } }, async (request, reply) => {
      const { uuid, fleet, labels = {}, apps = {} } = request.body;
      requireValidImages(apps);
      try {
        const device = await registerDevice(db, { uuid, fleet, labels, apps });
        await deps.changed([device.uuid]);
        return reply.code(201).header('location', `/api/v1/devices/${device.uuid}`).send(device);
      } catch (error) {
        if (error instanceof DeviceExistsError)
          throw new HttpProblem(409, 'Conflict', error.message);
        throw error;
      }
    });

    app.get<{
      Querystring: { fleet?: string; labelSelector?: string; limit?: string; continue?: string };
    }>('/api/v1/devices', { schema: { querystring: listQuerySchema } }, async (request) => {
      const query = request.query;
      const limit = Math.min(Number(query.limit ?? DEFAULT_PAGE), MAX_PAGE);
      const page = await listDevices(db, {
        fleet: query.fleet,
        selector: selectorOf(query.labelSelector),
        limit,
        after: query.continue?.toLowerCase(),
      });
      return { items: page.items, ...(page.last ? { continue: page.last } : {}) };
    });

    app.get<{ Params: UuidParams }>(
      '/api/v1/devices/:uuid',
      { schema: { params: uuidParamsSchema } },
      async (request) => {
        const uuid = request.params.uuid.toLowerCase();
        const [device, target, reported] = await Promise.all([
          getDevice(db, uuid),
          loadEffectiveTarget(db, uuid),
          getReport(db, uuid),
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
      },
    );

    app.put<{ Params: UuidParams; Body: { apps: TargetApps } }>(
      '/api/v1/devices/:uuid/target',
      { schema: { params: uuidParamsSchema, body: targetBodySchema } },
      async (request) => {
        const uuid = request.params.uuid.toLowerCase();
        requireValidImages(request.body.apps);
        if (!(await setBaseTarget(db, uuid, request.body.apps))) throw unknownDevice(uuid);
        await deps.changed([uuid]);
        const target = await loadEffectiveTarget(db, uuid);
        if (!target) throw unknownDevice(uuid);
        return { uuid, target: { etag: target.etag, apps: target.apps } };
      },
    );
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
}

function selectorOf(input: string | undefined) {
  if (input === undefined) return undefined;
  try {
    return parseLabelSelector(input);
  } catch (error) {
    if (error instanceof LabelSelectorError) {
      throw new HttpProblem(400, 'Invalid request', `labelSelector: ${error.message}`);
    }
    throw error;
  }
}
