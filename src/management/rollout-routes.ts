import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidImageReference, parseImageReference } from '../api/image-reference.js';
import type { ImageRollout } from '../api/types.js';
import { HttpProblem } from '../http/problem.js';
import { problemResponses } from '../http/responses.js';
import {
  allowedNamespace,
  handled,
  listNamespace,
  type ManagementDeps,
  notFound,
} from './context.js';
import { objectKey, pageOf } from './pages.js';
import {
  type RolloutListQuery,
  rolloutDetailSchema,
  rolloutListQuerySchema,
  rolloutSummarySchema,
} from './rollout-schemas.js';
import { rolloutDetail, rolloutSummary } from './rollout-view.js';
import { type ObjectParams, objectParamsSchema, pageSchema } from './schemas.js';

const TAGS = ['management: rollouts'];

/** Rollout reads: the filtered, paginated list and one rollout with per-batch progress. */
export function registerRolloutReads(app: FastifyInstance, deps: ManagementDeps): void {
  const rollouts = deps.kube.imageRollouts;
  app.get(
    '/api/v1/rollouts',
    {
      schema: {
        tags: TAGS,
        summary: 'List rollouts, filtered by namespace, policy, phase and image; paginated',
        querystring: rolloutListQuerySchema,
        response: {
          200: pageSchema(rolloutSummarySchema),
          ...problemResponses(400, 401, 403, 503),
        },
      },
    },
    handled(async (request: FastifyRequest) => {
      const query = request.query as RolloutListQuery;
      const matches = imageFilter(query.image);
      const items = (await rollouts.list(listNamespace(deps, query.namespace))).filter(
        (rollout) =>
          (query.policy === undefined || rollout.spec.policyRef.name === query.policy) &&
          (query.phase === undefined || rollout.status?.phase === query.phase) &&
          matches(rollout),
      );
      const page = pageOf(items, objectKey, query);
      return { ...page, items: page.items.map(rolloutSummary) };
    }),
  );
  app.get(
    '/api/v1/rollouts/:namespace/:name',
    {
      schema: {
        tags: TAGS,
        summary: 'One rollout with its per-batch progress, rollback and conditions',
        params: objectParamsSchema,
        response: { 200: rolloutDetailSchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    handled(async (request: FastifyRequest) => {
      const { namespace, name } = request.params as ObjectParams;
      const rollout = await rollouts.get(allowedNamespace(deps, namespace), name);
      if (!rollout) throw notFound('imagerollouts', namespace, name);
      return rolloutDetail(rollout);
    }),
  );
}

/** `image=nginx` keeps rollouts of docker.io/library/nginx; `image=nginx:1.27` also the tag. */
function imageFilter(image: string | undefined): (rollout: ImageRollout) => boolean {
  if (image === undefined) return () => true;
  let reference: ReturnType<typeof parseImageReference>;
  try {
    reference = parseImageReference(image);
  } catch (error) {
    if (!(error instanceof InvalidImageReference)) throw error;
    throw new HttpProblem(400, 'Invalid request', `image: ${error.message}`, [
      { path: '/image', message: error.message },
    ]);
  }
  return (rollout) =>
    rollout.spec.image === reference.repository &&
    (reference.tag === undefined || rollout.spec.tag === reference.tag) &&
    (reference.digest === undefined || rollout.spec.digest === reference.digest);
}
