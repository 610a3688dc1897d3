import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JsonObject } from '../json.js';
import type { ApiServerMetrics } from '../metrics.js';
import type { ResourceRegistry } from '../resources/registry.js';
import type { ResourceType } from '../resources/types.js';
import { checkBody, groupResource, type RequestContext, type Services } from '../rest/context.js';
import { decodeBody } from '../rest/decode.js';
import {
  type DeleteOptions,
  deleteCollection,
  deleteObject,
  parseDeleteOptions,
} from '../rest/delete.js';
import { getObject, type ListOptions, listObjects, objectFilter } from '../rest/read.js';
import { applyObject, PATCH_TYPES, patchObject, replaceObject } from '../rest/update.js';
import type { Written } from '../rest/write.js';
import { createObject } from '../rest/write.js';
import {
  badRequest,
  groupResourceString,
  methodNotAllowed,
  notAcceptable,
  pathNotFound,
  resourceNotFound,
} from '../status.js';
import type { ChangeFeed } from '../storage/change-feed.js';
import { parseIncludeObject } from '../table.js';
import { chooseRepresentation } from './negotiate.js';
import { parseResourcePath, pathSegments } from './paths.js';
import { sendList, sendObject } from './render.js';
import {
  bodyText,
  contextOf,
  decodeObjectBody,
  flag,
  integerParam,
  limitParam,
  mediaTypeOf,
  type Query,
  queryOf,
} from './request.js';
import { warningHeaders } from './warnings.js';
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
  segments: string[],
): Target {
  const path = parseResourcePath(segments);
  // A path whose segments name nothing (NUL, too many): the JSON NotFound it always answered.
  if (!path) throw resourceNotFound();
  const type = deps.registry.find(group, version, path.plural);
  if (!type) throw pathNotFound();
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
  const segments = pathSegments(rest);
  if (segments[0] === 'watch' && request.method === 'GET') {
    return watchPath(
      deps,
      request,
      reply,
      resolveTarget(deps, request, group, version, segments.slice(1)),
    );
  }
  const target = resolveTarget(deps, request, group, version, segments);
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
  const rendering = {
    representation,
    includeObject: parseIncludeObject(query.includeObject),
    now: deps.clock(),
  };
  if (result.list) return sendList(reply, ctx.type, result.list, rendering);
  reply.code(result.created ? 201 : 200);
  const plain = { ...rendering, representation: { kind: 'object' } as const };
  return sendObject(
    reply,
    ctx.type,
    result.object as JsonObject,
    method === 'GET' ? rendering : plain,
  );
}

function verbOf(method: string, name: string | undefined): string {
  const verbs: Record<string, string> = name
    ? { GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }
    : { GET: 'list', POST: 'create', DELETE: 'deletecollection' };
  const verb = verbs[method];
  // Upstream routes a PUT or PATCH without a name to the item handler, which wants one.
  if (!verb && !name && (method === 'PUT' || method === 'PATCH')) {
    throw badRequest('name must be provided');
  }
  if (!verb) throw methodNotAllowed();
  return verb;
}

interface Outcome {
  object?: JsonObject;
  created?: boolean;
  list?: Awaited<ReturnType<typeof listObjects>>;
}

function dispatch(deps: ResourceDeps, target: Target, request: FastifyRequest): Promise<Outcome> {
  return target.name
    ? dispatchItem(deps.services, target, target.name, request)
    : dispatchCollection(deps.services, target, request);
}

async function dispatchCollection(services: Services, target: Target, request: FastifyRequest) {
  const { ctx, query } = target;
  if (request.method === 'GET')
    return { list: await listObjects(services, ctx, listOptions(query)) };
  if (request.method === 'POST') {
    if (ctx.subresource) throw methodNotAllowed();
    const object = await createObject(services, ctx, checkBody(ctx, decodeObjectBody(request)));
    return { object, created: true };
  }
  const matches = objectFilter(ctx, listOptions(query));
  const options = parseDeleteOptions(optionalJson(request), query);
  return {
    object: await deleteCollection(services, deleteContext(ctx, options), matches, options),
  };
}

async function dispatchItem(
  services: Services,
  target: Target,
  name: string,
  request: FastifyRequest,
): Promise<Outcome> {
  const { ctx, query } = target;
  const written = (w: Written): Outcome => ({ object: w.object, created: w.created });
  switch (request.method) {
    case 'GET':
      return { object: await getObject(services, ctx, name) };
    case 'PUT':
      return written(await replaceObject(services, ctx, name, decodeObjectBody(request)));
    case 'PATCH': {
      if (mediaTypeOf(request) !== PATCH_TYPES.apply) {
        return written(
          await patchObject(services, ctx, name, mediaTypeOf(request), bodyText(request)),
        );
      }
      const options = {
        force: flag(query, 'force'),
        managerGiven: query.fieldManager !== undefined,
      };
      return written(await applyObject(services, ctx, name, bodyText(request), options));
    }
    default: {
      const options = parseDeleteOptions(optionalJson(request), query);
      return {
        object: (await deleteObject(services, deleteContext(ctx, options), name, options)).body,
      };
    }
  }
}

/** A delete is a dry run when the query or the DeleteOptions body says so. */
function deleteContext(ctx: RequestContext, options: DeleteOptions): RequestContext {
  return options.dryRun ? { ...ctx, dryRun: true } : ctx;
}

/** A JSON body if there is one (DELETE may carry DeleteOptions). */
function optionalJson(request: FastifyRequest): unknown {
  return bodyText(request) ? decodeBody(bodyText(request), 'json') : undefined;
}

function listOptions(query: Query): ListOptions {
  return {
    labelSelector: query.labelSelector,
    fieldSelector: query.fieldSelector,
    limit: limitParam(query),
    continue: query.continue,
    resourceVersion: query.resourceVersion,
    resourceVersionMatch: query.resourceVersionMatch,
  };
}

/**
 * The deprecated `watch/<resource path>` form (Ruby's kubeclient 4 still uses it): a watch of the
 * collection, narrowed to the named object by `metadata.name`, as upstream serves it.
 */
function watchPath(
  deps: ResourceDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  target: Target,
) {
  if (target.ctx.subresource !== undefined) throw pathNotFound();
  request.resourceLabel = resourceLabel(target);
  request.verb = 'watch';
  const { name, query } = target;
  const byName = name === undefined ? [] : [`metadata.name=${name}`];
  const fieldSelector = [query.fieldSelector, ...byName].filter(Boolean).join(',');
  const narrowed = { ...query, ...(fieldSelector ? { fieldSelector } : {}) };
  return watch(deps, { ...target, name: undefined, query: narrowed }, request, reply);
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
