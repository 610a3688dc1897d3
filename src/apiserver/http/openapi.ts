import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { OBJECT_META_SCHEMA } from '../resources/object-meta.js';
import type { GroupVersion, ResourceRegistry } from '../resources/registry.js';
import { apiVersionOf, type ResourceType } from '../resources/types.js';
import { acceptedPatchTypes } from '../rest/update.js';
import type { JSONSchemaProps } from '../schema/index.js';
import { pathNotFound } from '../status.js';
import { SERVER_VERSION } from './discovery.js';

/**
 * OpenAPI v3 documents per group-version, built from the served schemas. kubectl reads them to
 * learn that PATCH accepts `fieldValidation` (so `kubectl apply` validates on the server rather
 * than fetching OpenAPI v2 for client-side validation), for strategic merge patches of built-in
 * kinds, and for `kubectl explain`.
 */

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const COMMON_SCHEMAS: Record<string, unknown> = {
  [`${META}.ObjectMeta`]: {
    ...OBJECT_META_SCHEMA,
    properties: {
      ...OBJECT_META_SCHEMA.properties,
      finalizers: {
        ...OBJECT_META_SCHEMA.properties?.finalizers,
        'x-kubernetes-patch-strategy': 'merge',
      },
      ownerReferences: {
        ...OBJECT_META_SCHEMA.properties?.ownerReferences,
        'x-kubernetes-patch-merge-key': 'uid',
        'x-kubernetes-patch-strategy': 'merge',
      },
    },
  },
  [`${META}.ListMeta`]: {
    type: 'object',
    description: 'ListMeta describes metadata that synthetic resources must have.',
    properties: {
      continue: { type: 'string' },
      remainingItemCount: { type: 'integer', format: 'int64' },
      resourceVersion: { type: 'string' },
    },
  },
  [`${META}.Status`]: {
    type: 'object',
    description: 'Status is a return value for calls that do not return other objects.',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      code: { type: 'integer', format: 'int32' },
      message: { type: 'string' },
      reason: { type: 'string' },
      status: { type: 'string' },
      details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  },
  [`${META}.Patch`]: {
    type: 'object',
    description:
      'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
  },
  [`${META}.DeleteOptions`]: {
    type: 'object',
    description: 'DeleteOptions may be provided when deleting an API object.',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      dryRun: { type: 'array', items: { type: 'string' } },
      gracePeriodSeconds: { type: 'integer', format: 'int64' },
      preconditions: {
        type: 'object',
        properties: { resourceVersion: { type: 'string' }, uid: { type: 'string' } },
      },
      propagationPolicy: { type: 'string' },
    },
  },
};

/** The OpenAPI definition name of a kind: `io.iotistic.fleet.v1alpha1.ImagePolicy`, `io.k8s.api.core.v1.Namespace`. */
function definitionName(type: ResourceType): string {
  if (type.custom) return [...type.group.split('.').reverse(), type.version, type.kind].join('.');
  const group = type.group ? type.group.replace(/\.k8s\.io$/, '') : 'core';
  return ['io.k8s.api', group, type.version, type.kind].join('.');
}

function kindSchema(type: ResourceType): JSONSchemaProps & Record<string, unknown> {
  return {
    ...type.schema,
    properties: {
      ...type.schema.properties,
      metadata: {
        description: 'Standard object metadata.',
        allOf: [ref(`${META}.ObjectMeta`)],
      } as JSONSchemaProps,
    },
    'x-kubernetes-group-version-kind': [
      { group: type.group, kind: type.kind, version: type.version },
    ],
  };
}

function listSchema(type: ResourceType) {
  return {
    type: 'object',
    description: `${type.kind}List is a list of ${type.kind}`,
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      items: { type: 'array', items: ref(definitionName(type)) },
      metadata: { allOf: [ref(`${META}.ListMeta`)] },
    },
    'x-kubernetes-group-version-kind': [
      { group: type.group, kind: `${type.kind}List`, version: type.version },
    ],
  };
}

const queryParam = (name: string, type = 'string') => ({
  name,
  in: 'query',
  schema: { type, uniqueItems: true },
});
const pathParam = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', uniqueItems: true },
});
const WRITE_PARAMS = [
  queryParam('dryRun'),
  queryParam('fieldManager'),
  queryParam('fieldValidation'),
];
const LIST_PARAMS = [
  'labelSelector',
  'fieldSelector',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
]
  .map((name) => queryParam(name))
  .concat([
    queryParam('limit', 'integer'),
    queryParam('timeoutSeconds', 'integer'),
    queryParam('watch', 'boolean'),
    queryParam('allowWatchBookmarks', 'boolean'),
  ]);

function operation(
  type: ResourceType,
  action: string,
  extra: Record<string, unknown>,
  suffix = '',
) {
  const ok = (schema: unknown) => ({
    description: 'OK',
    content: { 'application/json': { schema } },
  });
  const kindRef = ref(definitionName(type));
  const responses =
    action === 'list'
      ? { 200: ok(ref(`${definitionName(type)}List`)) }
      : { 200: ok(kindRef), 201: ok(kindRef) };
  return {
    operationId: `${action}${type.kind}${suffix}`,
    responses,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': {
      group: type.group,
      version: type.version,
      kind: type.kind,
    },
    ...extra,
  };
}

function paths(type: ResourceType, base: string) {
  const kindRef = ref(definitionName(type));
  const body = { content: { 'application/json': { schema: kindRef } }, required: true };
  const patchBody = {
    content: Object.fromEntries(
      acceptedPatchTypes(type.custom).map((t) => [t, { schema: ref(`${META}.Patch`) }]),
    ),
    required: true,
  };
  const patchParams = [...WRITE_PARAMS, queryParam('force', 'boolean')];
  const patch = operation(type, 'patch', { parameters: patchParams, requestBody: patchBody });
  const collection = type.namespaced
    ? `${base}/namespaces/{namespace}/${type.plural}`
    : `${base}/${type.plural}`;
  const scope = type.namespaced ? [pathParam('namespace')] : [];
  const item = {
    get: operation(type, 'get', {}),
    put: operation(type, 'put', { parameters: WRITE_PARAMS, requestBody: body }),
    patch,
    delete: operation(type, 'delete', { parameters: [queryParam('dryRun')] }),
    parameters: [pathParam('name'), ...scope],
  };
  const result: Record<string, unknown> = {
    [collection]: {
      get: operation(type, 'list', { parameters: LIST_PARAMS }),
      post: operation(type, 'post', { parameters: WRITE_PARAMS, requestBody: body }),
      delete: operation(type, 'deletecollection', { parameters: LIST_PARAMS }),
      parameters: scope,
    },
    [`${collection}/{name}`]: item,
  };
  if (type.statusSubresource) {
    result[`${collection}/{name}/status`] = {
      get: operation(type, 'get', {}, 'Status'),
      put: operation(type, 'put', { parameters: WRITE_PARAMS, requestBody: body }, 'Status'),
      patch: operation(
        type,
        'patch',
        { parameters: patchParams, requestBody: patchBody },
        'Status',
      ),
      parameters: item.parameters,
    };
  }
  if (type.namespaced) {
    result[`${base}/${type.plural}`] = {
      get: operation(type, 'list', { parameters: LIST_PARAMS }, 'ForAllNamespaces'),
    };
  }
  return result;
}

/** The OpenAPI v3 document of one group-version. */
function openApiDocument(gv: GroupVersion) {
  const base = gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`;
  const schemas: Record<string, unknown> = { ...COMMON_SCHEMAS };
  let allPaths: Record<string, unknown> = {};
  for (const type of gv.resources) {
    schemas[definitionName(type)] = kindSchema(type);
    schemas[`${definitionName(type)}List`] = listSchema(type);
    allPaths = { ...allPaths, ...paths(type, base) };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths: allPaths,
    components: { schemas },
  };
}

/** Registers `/openapi/v3` and its per-group-version documents. */
export function registerOpenApi(app: FastifyInstance, registry: ResourceRegistry) {
  const documents = new Map<string, { body: string; hash: string }>();
  for (const gv of registry.groupVersions) {
    const body = JSON.stringify(openApiDocument(gv));
    const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
    documents.set(gv.group ? `apis/${apiVersionOf(gv)}` : `api/${gv.version}`, { body, hash });
  }
  app.get('/openapi/v3', async () => ({
    paths: Object.fromEntries(
      [...documents].map(([path, { hash }]) => [
        path,
        { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` },
      ]),
    ),
  }));
  app.get<{ Params: { '*': string } }>('/openapi/v3/*', async (request, reply) => {
    const document = documents.get(request.params['*']);
    if (!document) throw pathNotFound();
    return reply
      .type('application/json')
      .header('Etag', `"${document.hash}"`)
      .header('Cache-Control', 'no-cache, private')
      .send(document.body);
  });
}
