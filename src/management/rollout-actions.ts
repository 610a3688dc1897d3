import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ImageRollout } from '../api/types.js';
import { problemResponses } from '../http/responses.js';
import {
  abortRollout,
  approveRollout,
  pauseRollout,
  resumeRollout,
  retryRollout,
} from '../operations/rollout-actions.js';
import { allowedNamespace, handled, type ManagementDeps } from './context.js';
import { operated } from './refusals.js';
import { approveBodySchema, rolloutDetailSchema } from './rollout-schemas.js';
import { rolloutDetail } from './rollout-view.js';
import { type ObjectParams, objectParamsSchema } from './schemas.js';

const TAGS = ['management: rollouts'];

type Ref = { namespace: string; name: string };

/** One action: the route's last path segment, what it does, and the operation it calls. */
interface Action {
  path: string;
  summary: string;
  run(deps: ManagementDeps, ref: Ref, request: FastifyRequest): Promise<ImageRollout>;
}

const ACTIONS: Action[] = [
  {
    path: 'pause',
    summary: 'Pause (spec.paused): no new batch starts; devices already scheduled continue',
    run: (deps, ref) => pauseRollout(deps.kube, ref),
  },
  {
    path: 'resume',
    summary: 'Resume a rollout paused by hand (a failure-budget pause needs retry)',
    run: (deps, ref) => resumeRollout(deps.kube, ref),
  },
  {
    path: 'approve',
    summary: 'Approve the next batch (spec.approvedBatches), or with {"all": true} every batch',
    run: (deps, ref, request) =>
      approveRollout(deps.kube, ref, { all: (request.body as { all?: boolean } | null)?.all }),
  },
  {
    path: 'retry',
    summary: 'Continue after a failure-budget pause: accept the failures of the started batches',
    run: (deps, ref) => retryRollout(deps.kube, ref),
  },
  {
    path: 'rollback-all',
    summary: 'Abort (spec.abort): stop and roll every updated device back to its previous image',
    run: (deps, ref) => abortRollout(deps.kube, ref),
  },
];

/**
 * The actions on one rollout, each a call of src/operations/rollout-actions.ts (the same code as
 * `kubectl fleet`): a spec patch with the resourceVersion read. The answer is the rollout as it
 * is after the patch; its status follows once the controller reconciled it.
 */
export function registerRolloutActions(app: FastifyInstance, deps: ManagementDeps): void {
  for (const action of ACTIONS) {
    app.post(
      `/api/v1/rollouts/:namespace/:name/${action.path}`,
      {
        schema: {
          tags: TAGS,
          summary: action.summary,
          params: objectParamsSchema,
          ...(action.path === 'approve' ? { body: approveBodySchema } : {}),
          response: { 200: rolloutDetailSchema, ...problemResponses(400, 401, 403, 404, 409, 503) },
        },
      },
      handled(async (request: FastifyRequest) => {
        const { namespace, name } = request.params as ObjectParams;
        const ref = { namespace: allowedNamespace(deps, namespace), name };
        const rollout = await operated(() => action.run(deps, ref, request));
        deps.logger.info({ namespace, name, action: action.path }, 'rollout action');
        return rolloutDetail(rollout);
      }),
    );
  }
}
