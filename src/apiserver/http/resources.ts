import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type JsonObject, withConventionalKeyOrder } from '../json.js';
import type { ApiServerMetrics } from '../metrics.js';
import type { ResourceRegistry } from '../resources/registry.js';
import { apiVersionOf, type ResourceType } from '../resources/types.js';
import { checkBody, groupResource, type RequestContext, type Services } from '../rest/context.js';
import { deleteCollection, deleteObject, parseDeleteOptions } from '../rest/delete.js';
import { getObject, type ListOptions, listObjects, objectFilter } from '../rest/read.js';
import {
  applyObject,
  PATCH_TYPES,
  parseJsonBody,
  patchObject,
  replaceObject,
} from '../rest/update.js';
import type { Written } from '../rest/write.js';
import { createObject } from '../rest/write.js';
import { groupResourceString, methodNotAllowed, notAcceptable, pathNotFound } from '../status.js';
import type { ChangeFeed } from '../storage/change-feed.js';
import { parseIncludeObject, partialMetadata, toTable } from '../table.js';
import { chooseRepresentation, type Representation, sendAs } from './negotiate.js';
import { parseResourcePath, pathSegments } from './paths.js';
import {
  bodyText,
  contextOf,
  decodeObjectBody,
  flag,
  integerParam,
  mediaTypeOf,
  type Query,
  queryOf,
  warningHeaders,
} from './request.js';
import { serveWatch, type WatchSettings } from './watch-stream.js';

/** What the resource endpoints need. */
export interface ResourceDeps {
  registry: ResourceRegistry;
  services: Services;
  feed: ChangeFeed;
  metrics: ApiServerMetrics;
  watch: WatchSettings;
  clock: () => Date;
}

interface Target {
  type: ResourceType;
  ctx: RequestContext;
  name: string | undefined;
  query: Query;
}

/** Registers every resource endpoint below `/api/v1/` and `/apis/<group>/<version>/`. */
export function registerResources(app: FastifyInstance, deps: ResourceDeps) {
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  app.route<{ Params: { '*': string } }>({
    method: [...methods],
    url: '/api/v1/*',
    handler: (request, reply) => handle(deps, request, reply, '', 'v1', request.params['*']),
  });
  app.route<{ Params: { group: string; version: string; '*': string } }>({
    method: [...methods],
    url: '/apis/:group/:version/*',
    handler: (request, reply) => {
      const { group, version } = request.params;
      return handle(deps, request, reply, group, version, request.params['*']);
    },
  });
}

function resolveTarget(
  deps: ResourceDeps,
  request: FastifyRequest,
  group: string,
  version: string,
  rest: string,
): Target {
  const path = parseResourcePath(pathSegments(rest));
  const type = path && deps.registry.find(group, version, path.plural);
  if (!path || !type) throw pathNotFound();
  if (path.namespace !== undefined && !type.namespaced) throw pathNotFound();
  if (
    path.subresource !== undefined &&
    (path.subresource !== 'status' || !type.statusSubresource)
  ) {
    throw pathNotFound();
  }
  const query = queryOf(request);
  const ctx = contextOf(
    request,
    query,
    type,
    { namespace: path.namespace ?? '', subresource: path.subresource as 'status' | undefined },
    deps.clock(),
  );
  return { type, ctx, name: path.name, query };
}

/** The metrics label of a request's resource: `plural.group` of a served type, else `unknown`. */
function resourceLabel(target: Target | undefined): string {
  return target ? groupResourceString(groupResource(target.type)) : 'unknown';
}

async function handle(
  deps: ResourceDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  group: string,
  version: string,
  rest: string,
) {
  const target = resolveTarget(deps, request, group, version, rest);
  request.resourceLabel = resourceLabel(target);
  const { ctx, name, query } = target;
  const method = request.method;
  if (method === 'GET' && !name && flag(query, 'watch')) {
    request.verb = 'watch';
    return watch(deps, target, request, reply);
  }
  if (ctx.type.namespaced && !ctx.namespace && !(method === 'GET' && !name)) throw pathNotFound();
  request.verb = verbOf(method, name);
  const representation = chooseRepresentation(request.headers.accept);
  if (!representation)
    throw notAcceptable(['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io']);
  const result = await dispatch(deps, target, request);
  if (ctx.warnings.length > 0) reply.header('Warning', warningHeaders(ctx.warnings));
  if (result.list) return sendList(deps, target, reply, representation, result.list);
  const object = result.object as JsonObject;
  reply.code(result.created ? 201 : 200);
  if (method === 'GET' && representation.kind === 'table') {
    const table = toTable(ctx.type, [object], {
      includeObject: parseIncludeObject(query.includeObject),
      now: deps.clock(),
    });
    return sendAs(reply, representation.contentType, table);
  }
  if (method === 'GET' && representation.kind === 'metadata') {
    return sendAs(reply, representation.contentType, partialMetadata(object));
  }
  return reply.type('application/json').send(withConventionalKeyOrder(object));
}

function verbOf(method: string, name: string | undefined): string {
  const verbs: Record<string, string> = name
    ? { GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }
    : { GET: 'list', POST: 'create', DELETE: 'deletecollection' };
  const verb = verbs[method];
  if (!verb) throw methodNotAllowed();
  return verb;
}

interface Outcome {
  object?: JsonObject;
  created?: boolean;
  list?: Awaited<ReturnType<typeof listObjects>>;
}

async function dispatch(
  deps: ResourceDeps,
  target: Target,
  request: FastifyRequest,
): Promise<Outcome> {
  const { services } = deps;
  const { ctx, name, query } = target;
  const written = (w: Written): Outcome => ({ object: w.object, created: w.created });
  if (!name) {
    if (request.method === 'GET')
      return { list: await listObjects(services, ctx, listOptions(query)) };
    if (request.method === 'POST') {
      if (ctx.subresource) throw methodNotAllowed();
      const object = await createObject(services, ctx, checkBody(ctx, decodeObjectBody(request)));
      return { object, created: true };
    }
    const body = bodyText(request) ? parseJsonBody(bodyText(request)) : undefined;
    const matches = objectFilter(ctx, listOptions(query));
    return {
      object: await deleteCollection(services, ctx, matches, parseDeleteOptions(body, query)),
    };
  }
  switch (request.method) {
    case 'GET':
      return { object: await getObject(services, ctx, name) };
    case 'PUT':
      return written(await replaceObject(services, ctx, name, decodeObjectBody(request)));
    case 'PATCH': {
      const mediaType = mediaTypeOf(request);
      if (mediaType === PATCH_TYPES.apply) {
        const options = {
          force: flag(query, 'force'),
          managerGiven: query.fieldManager !== undefined,
        };
        return written(await applyObject(services, ctx, name, bodyText(request), options));
      }
      return written(await patchObject(services, ctx, name, mediaType, bodyText(request)));
    }
    default: {
      const body = bodyText(request) ? parseJsonBody(bodyText(request)) : undefined;
      const deleted = await deleteObject(services, ctx, name, parseDeleteOptions(body, query));
      return { object: deleted.body };
    }
  }
}

function listOptions(query: Query): ListOptions {
  return {
    labelSelector: query.labelSelector,
    fieldSelector: query.fieldSelector,
    limit: integerParam(query, 'limit'),
    continue: query.continue,
    resourceVersion: query.resourceVersion,
    resourceVersionMatch: query.resourceVersionMatch,
  };
}

function sendList(
  deps: ResourceDeps,
  target: Target,
  reply: FastifyReply,
  representation: Representation,
  list: NonNullable<Outcome['list']>,
) {
  const { type, query } = target;
  const metadata = {
    resourceVersion: list.resourceVersion,
    ...(list.continueToken ? { continue: list.continueToken } : {}),
  };
  if (representation.kind === 'table') {
    const table = toTable(type, list.items, {
      includeObject: parseIncludeObject(query.includeObject),
      now: deps.clock(),
      resourceVersion: list.resourceVersion,
      continueToken: list.continueToken,
    });
    return sendAs(reply, representation.contentType, table);
  }
  if (representation.kind === 'metadata') {
    const items = list.items.map(partialMetadata);
    return reply
      .type(representation.contentType)
      .send({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items });
  }
  const items = list.items.map((item) => withConventionalKeyOrder(item));
  return reply
    .type('application/json')
    .send({ apiVersion: apiVersionOf(type), kind: type.listKind, metadata, items });
}

async function watch(
  deps: ResourceDeps,
  target: Target,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const { query, ctx } = target;
  const representation = chooseRepresentation(request.headers.accept);
  if (!representation)
    throw notAcceptable(['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io']);
  const sendInitialEvents =
    query.sendInitialEvents === undefined ? undefined : flag(query, 'sendInitialEvents');
  await serveWatch(
    {
      services: deps.services,
      feed: deps.feed,
      metrics: deps.metrics,
      settings: deps.watch,
      ctx,
      options: {
        ...listOptions(query),
        allowWatchBookmarks: flag(query, 'allowWatchBookmarks'),
        ...(sendInitialEvents === undefined ? {} : { sendInitialEvents }),
        ...(integerParam(query, 'timeoutSeconds') === undefined
          ? {}
          : { timeoutSeconds: integerParam(query, 'timeoutSeconds') }),
      },
      representation,
      includeObject: parseIncludeObject(query.includeObject),
      resource: resourceLabel(target),
      clock: deps.clock,
    },
    request,
    reply,
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Verb for metrics (get, list, watch, create, …). */
    verb?: string;
    /** Resource for metrics (`plural.group`). */
    resourceLabel?: string;
  }
}
