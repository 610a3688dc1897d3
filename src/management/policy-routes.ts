import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_VERSION, type ImagePolicySpec } from '../api/types.js';
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
  type PolicyCreateBody,
  type PolicyListQuery,
  type PolicyReplaceBody,
  policyCreateSchema,
  policyListQuerySchema,
  policyReplaceSchema,
  policySchema,
} from './policy-schemas.js';
import { type ObjectParams, objectParamsSchema, pageSchema } from './schemas.js';

const TAGS = ['management: policies'];
const DEFAULT_NAMESPACE = 'default';

/**
 * ImagePolicy CRUD and enable/disable (`spec.suspend`), each one Kubernetes API call on the
 * resource itself: what kubectl shows afterwards is what the answer showed.
 */
export function registerPolicyRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const policies = deps.kube.imagePolicies;
  const log = deps.logger;
  const one = { params: objectParamsSchema, tags: TAGS };

  app.get(
    '/api/v1/policies',
    {
      schema: {
        tags: TAGS,
        summary: 'List ImagePolicies; paginated',
        querystring: policyListQuerySchema,
        response: { 200: pageSchema(policySchema), ...problemResponses(400, 401, 403, 503) },
      },
    },
    handled(async (request: FastifyRequest) => {
      const query = request.query as PolicyListQuery;
      return pageOf(await policies.list(listNamespace(deps, query.namespace)), objectKey, query);
    }),
  );

  app.post(
    '/api/v1/policies',
    {
      schema: {
        tags: TAGS,
        summary: 'Create an ImagePolicy (the object kubectl would apply)',
        body: policyCreateSchema,
        response: { 201: policySchema, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    handled(async (request: FastifyRequest, reply: FastifyReply) => {
      const { metadata, spec } = request.body as PolicyCreateBody;
      const namespace = allowedNamespace(
        deps,
        metadata.namespace ?? deps.namespace ?? DEFAULT_NAMESPACE,
      );
      const created = await policies.create({
        apiVersion: API_VERSION,
        kind: 'ImagePolicy',
        metadata: { ...metadata, namespace },
        spec: spec as unknown as ImagePolicySpec,
      });
      log.info({ namespace, name: metadata.name }, 'policy created');
      return reply
        .code(201)
        .header('location', `/api/v1/policies/${namespace}/${metadata.name}`)
        .send(created);
    }),
  );

  app.get(
    '/api/v1/policies/:namespace/:name',
    {
      schema: {
        ...one,
        summary: 'One ImagePolicy with its status',
        response: { 200: policySchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    handled(async (request: FastifyRequest) => {
      const { namespace, name } = request.params as ObjectParams;
      return getPolicy(deps, namespace, name);
    }),
  );

  app.put(
    '/api/v1/policies/:namespace/:name',
    {
      schema: {
        ...one,
        summary: 'Replace the spec (and labels, annotations) of an ImagePolicy',
        body: policyReplaceSchema,
        response: { 200: policySchema, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    handled(async (request: FastifyRequest) => {
      const { namespace, name } = request.params as ObjectParams;
      const body = request.body as PolicyReplaceBody;
      requireSameName(body, namespace, name);
      const current = await getPolicy(deps, namespace, name);
      const { labels, annotations, resourceVersion } = body.metadata ?? {};
      const replaced = await policies.replace({
        ...current,
        metadata: {
          ...current.metadata,
          ...(labels ? { labels } : {}),
          ...(annotations ? { annotations } : {}),
          resourceVersion: resourceVersion ?? current.metadata.resourceVersion,
        },
        spec: body.spec as unknown as ImagePolicySpec,
      });
      log.info({ namespace, name }, 'policy replaced');
      return replaced;
    }),
  );

  app.delete(
    '/api/v1/policies/:namespace/:name',
    {
      schema: {
        ...one,
        summary: 'Delete an ImagePolicy',
        response: { 204: { type: 'null' }, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    handled(async (request: FastifyRequest, reply: FastifyReply) => {
      const { namespace, name } = request.params as ObjectParams;
      await policies.delete(allowedNamespace(deps, namespace), name);
      log.info({ namespace, name }, 'policy deleted');
      return reply.code(204).send();
    }),
  );

  for (const [action, suspend] of [
    ['enable', false],
    ['disable', true],
  ] as const) {
    app.post(
      `/api/v1/policies/:namespace/:name/${action}`,
      {
        schema: {
          ...one,
          summary: suspend
            ? 'Disable an ImagePolicy (spec.suspend: true): pushes create no rollouts; running ones continue'
            : 'Enable an ImagePolicy (spec.suspend: false): pushes create rollouts again',
          response: { 200: policySchema, ...problemResponses(400, 401, 403, 404, 503) },
        },
      },
      handled(async (request: FastifyRequest) => {
        const { namespace, name } = request.params as ObjectParams;
        const where = allowedNamespace(deps, namespace);
        const patched = await policies.mergePatch(where, name, { spec: { suspend } });
        log.info({ namespace, name, suspend }, suspend ? 'policy disabled' : 'policy enabled');
        return patched;
      }),
    );
  }
}

/** The policy, or a 404 naming it. */
async function getPolicy(deps: ManagementDeps, namespace: string, name: string) {
  const policy = await deps.kube.imagePolicies.get(allowedNamespace(deps, namespace), name);
  if (!policy) throw notFound('imagepolicies', namespace, name);
  return policy;
}

/** A body naming another policy than the path is a mistake, not a rename. */
function requireSameName(body: PolicyReplaceBody, namespace: string, name: string): void {
  const meta = body.metadata ?? {};
  const errors = [
    ...(meta.name !== undefined && meta.name !== name
      ? [{ path: '/metadata/name', message: `must be ${name}, the name in the path` }]
      : []),
    ...(meta.namespace !== undefined && meta.namespace !== namespace
      ? [
          {
            path: '/metadata/namespace',
            message: `must be ${namespace}, the namespace in the path`,
          },
        ]
      : []),
  ];
  if (errors.length > 0) {
    throw new HttpProblem(400, 'Invalid request', 'the body names another policy', errors);
  }
}
