import type { FastifyInstance, FastifyRequest } from 'fastify';
import { problemResponses } from '../http/responses.js';
import { matchImage } from '../operations/match.js';
import { previewRollout } from '../operations/preview.js';
import { allowedNamespace, handled, listNamespace, type ManagementDeps } from './context.js';
import {
  type MatchQuery,
  matchQuerySchema,
  matchReportSchema,
  type PreviewBody,
  previewBodySchema,
  previewSchema,
} from './policy-schemas.js';
import { operated } from './refusals.js';
import { type ObjectParams, objectParamsSchema } from './schemas.js';

const TAGS = ['management: policies'];

/**
 * What a push would do, answered by src/operations (the webhook's own verdict, the planner's
 * own membership and batches) and writing nothing: which policies an image triggers, and the
 * rollout a policy would make of it.
 */
export function registerPolicyChecks(app: FastifyInstance, deps: ManagementDeps): void {
  app.get(
    '/api/v1/policies/match',
    {
      schema: {
        tags: TAGS,
        summary:
          'Test matching: which policies a push of IMAGE[:TAG] triggers, and why not the others',
        querystring: matchQuerySchema,
        response: { 200: matchReportSchema, ...problemResponses(400, 401, 403, 503) },
      },
    },
    handled(async (request: FastifyRequest) => {
      const query = request.query as MatchQuery;
      const namespace = listNamespace(deps, query.namespace);
      return operated(() => matchImage(deps.kube, query.image, namespace));
    }),
  );
  app.post(
    '/api/v1/policies/:namespace/:name/preview',
    {
      schema: {
        tags: TAGS,
        summary:
          'Preview: the devices a push of TAG would select, batch by batch, the next maintenance window and the first step; writes nothing',
        params: objectParamsSchema,
        body: previewBodySchema,
        response: { 200: previewSchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    handled(async (request: FastifyRequest) => {
      const { namespace, name } = request.params as ObjectParams;
      const body = request.body as PreviewBody;
      const policy = { namespace: allowedNamespace(deps, namespace), name };
      const now = deps.now?.() ?? new Date();
      return operated(() =>
        previewRollout({ kube: deps.kube, db: deps.db, now }, { ...body, policy }),
      );
    }),
  );
}
