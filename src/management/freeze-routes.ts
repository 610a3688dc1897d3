import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problemResponses } from '../http/responses.js';
import {
  type FreezeSummary,
  freeze,
  listFreezes,
  summarize,
  unfreeze,
  unfreezeAll,
} from '../operations/freeze.js';
import { allowedNamespace, handled, listNamespace, type ManagementDeps } from './context.js';
import { type FreezeCreateBody, freezeCreateSchema, freezeSchema } from './freeze-schemas.js';
import { pageOf } from './pages.js';
import { type PolicyListQuery, policyListQuerySchema } from './policy-schemas.js';
import { operated } from './refusals.js';
import {
  namespaceParamsSchema,
  type ObjectParams,
  objectParamsSchema,
  pageSchema,
} from './schemas.js';

const TAGS = ['management: freeze'];
const DEFAULT_NAMESPACE = 'default';

/**
 * Fleet freeze ("stop the line") through src/operations/freeze.ts: list, freeze, lift one or
 * every freeze of a namespace. The controller does the holding; these only write FleetFreezes.
 */
export function registerFreezeRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger;
  app.get(
    '/api/v1/freezes',
    {
      schema: {
        tags: TAGS,
        summary: 'List fleet freezes with their state now and the rollouts they hold; paginated',
        querystring: policyListQuerySchema,
        response: { 200: pageSchema(freezeSchema), ...problemResponses(400, 401, 403, 503) },
      },
    },
    handled(async (request: FastifyRequest) => {
      const query = request.query as PolicyListQuery;
      const namespace = listNamespace(deps, query.namespace);
      const items = await operated(() => listFreezes(deps.kube, { namespace, now: now() }));
      return pageOf(items, keyOf, query);
    }),
  );
  app.post(
    '/api/v1/freezes',
    {
      schema: {
        tags: TAGS,
        summary:
          'Freeze: hold every rollout of a namespace (or of a scope), optionally in a window',
        body: freezeCreateSchema,
        response: { 201: freezeSchema, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    handled(async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body as FreezeCreateBody;
      const namespace = allowedNamespace(
        deps,
        body.namespace ?? deps.namespace ?? DEFAULT_NAMESPACE,
      );
      const at = now();
      const created = await operated(() => freeze(deps.kube, { ...body, namespace }, at));
      const summary = summarize(created, at);
      log.info({ namespace, name: summary.name, reason: summary.reason }, 'fleet frozen');
      return reply
        .code(201)
        .header('location', `/api/v1/freezes?namespace=${namespace}`)
        .send(summary);
    }),
  );
  app.delete(
    '/api/v1/freezes/:namespace/:name',
    {
      schema: {
        tags: TAGS,
        summary: 'Lift one freeze (delete it): what it held resumes, unless paused by hand',
        params: objectParamsSchema,
        response: { 200: freezeSchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    handled(async (request: FastifyRequest) => {
      const { namespace, name } = request.params as ObjectParams;
      const where = { namespace: allowedNamespace(deps, namespace), name };
      const lifted = await operated(() => unfreeze(deps.kube, where));
      log.info({ namespace, name }, 'fleet freeze lifted');
      return summarize(lifted, now());
    }),
  );
  app.delete(
    '/api/v1/freezes/:namespace',
    {
      schema: {
        tags: TAGS,
        summary: 'Lift every freeze of a namespace',
        params: namespaceParamsSchema,
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: freezeSchema } },
          },
          ...problemResponses(400, 401, 403, 503),
        },
      },
    },
    handled(async (request: FastifyRequest) => {
      const { namespace } = request.params as { namespace: string };
      const lifted = await operated(() =>
        unfreezeAll(deps.kube, { namespace: allowedNamespace(deps, namespace) }),
      );
      log.info({ namespace, lifted: lifted.length }, 'every fleet freeze lifted');
      const at = now();
      return { items: lifted.map((item) => summarize(item, at)) };
    }),
  );
}

function keyOf(summary: FreezeSummary): string {
  return `${summary.namespace}/${summary.name}`;
}
