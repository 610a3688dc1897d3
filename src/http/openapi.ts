import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { PROBLEM_SCHEMA, problemResponse } from './responses.js';

declare module 'fastify' {
  /** What a route may add to its schemas for the OpenAPI document (fastify ignores these keys). */
  interface FastifySchema {
    /** One line: what the operation does. */
    summary?: string;
    description?: string;
    tags?: readonly string[];
    /** The security schemes (SECURITY_SCHEMES) any one of which the operation accepts. */
    security?: ReadonlyArray<Record<string, readonly string[]>>;
    /** A body the route reads as raw bytes (so fastify has no `body` schema to validate). */
    requestBody?: object;
    /** Leave the route out of the document. */
    hide?: boolean;
  }
}

/** Where the document is served on every server built by createHttpServer. */
export const OPENAPI_PATH = '/openapi.json';

/** The credentials our HTTP APIs take; operations name them in `schema.security`. */
export const SECURITY_SCHEMES = {
  deviceKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'the API key a device got when it was registered (or its key was rotated)',
  },
  adminToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'FLEET_ROLLOUT_ADMIN_TOKEN (`start` generates one into the data dir)',
  },
  webhookBearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      "the registry's configured secret (Harbor, Distribution, ECR, generic) or a Google-signed OIDC token (Artifact Registry)",
  },
  webhookSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature-256',
    description: "GitHub's `sha256=` HMAC of the body with the configured secret (GHCR)",
  },
} as const;

/** A route as the document needs it. */
interface DocumentedRoute {
  method: string;
  url: string;
  schema: NonNullable<RouteOptions['schema']>;
}

/**
 * Every route added to `app`'s context from now on documents `security` (the credentials its
 * context's authentication hook checks) unless its schema names its own.
 */
export function documentSecurity(
  app: FastifyInstance,
  security: NonNullable<NonNullable<RouteOptions['schema']>['security']>,
): void {
  app.addHook('onRoute', (route) => {
    if (route.schema?.security === undefined) route.schema = { security, ...route.schema };
  });
}

/** What the document says about itself. */
export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
}

/**
 * Records every route registered on `app` from now on (routes of child plugins included), and
 * returns a function that builds the OpenAPI 3.1 document of those routes. Call it first, before
 * any route is added.
 */
export function collectRoutes(app: FastifyInstance, info: DocumentInfo): () => object {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => void routes.push(route));
  // Read when the document is built: hooks of a route's own context run after this one.
  return () => {
    const documented: DocumentedRoute[] = [];
    for (const route of routes) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        // HEAD routes are the ones fastify adds beside each GET.
        if (method === 'HEAD' || route.schema?.hide) continue;
        documented.push({
          method: method.toLowerCase(),
          url: route.url,
          schema: route.schema ?? {},
        });
      }
    }
    return openApiDocument(documented, info);
  };
}

/** The OpenAPI 3.1 document of `routes`; the same routes always give the same document. */
export function openApiDocument(routes: readonly DocumentedRoute[], info: DocumentInfo): object {
  const paths: Record<string, Record<string, object>> = {};
  const schemes = new Set<string>();
  for (const route of [...routes].sort(byPathThenMethod)) {
    const path = openApiPath(route.url);
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
    for (const alternative of route.schema.security ?? []) {
      for (const name of Object.keys(alternative)) schemes.add(name);
    }
  }
  const securitySchemes = Object.fromEntries(
    Object.entries(SECURITY_SCHEMES).filter(([name]) => schemes.has(name)),
  );
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: { schemas: { Problem: copy(PROBLEM_SCHEMA) }, securitySchemes },
  };
}

const METHOD_ORDER = ['get', 'put', 'post', 'delete', 'options', 'patch', 'trace'];

/** By path (code point order, the same in every locale), then in METHOD_ORDER. */
function byPathThenMethod(a: DocumentedRoute, b: DocumentedRoute): number {
  const [left, right] = [openApiPath(a.url), openApiPath(b.url)];
  if (left !== right) return left < right ? -1 : 1;
  return METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method);
}

/** `/a/:b/c` → `/a/{b}/c`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operation(route: DocumentedRoute): object {
  const { schema } = route;
  const parameters = [
    ...parametersOf(schema.params, 'path', pathParameterNames(route.url)),
    ...parametersOf(schema.querystring, 'query'),
    ...parametersOf(schema.headers, 'header'),
  ];
  const requestBody = schema.requestBody ?? jsonBody(schema.body);
  return {
    ...(schema.summary ? { summary: schema.summary } : {}),
    ...(schema.description ? { description: schema.description } : {}),
    ...(schema.tags ? { tags: [...schema.tags] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody: copy(requestBody) } : {}),
    responses: responsesOf(route, parameters, requestBody !== undefined),
    security: schema.security ? copy(schema.security) : [],
  };
}

function pathParameterNames(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1] as string);
}

type ObjectSchema = {
  properties?: Record<string, { description?: string }>;
  required?: readonly string[];
};

/**
 * One parameter per property of an object schema. A path parameter the route has no schema for
 * is still declared (OpenAPI requires it), as any string.
 */
function parametersOf(schema: unknown, where: 'path' | 'query' | 'header', names: string[] = []) {
  const object = (schema ?? {}) as ObjectSchema;
  const properties = { ...object.properties };
  for (const name of names) properties[name] ??= { type: 'string' } as object;
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    ...(property.description ? { description: property.description } : {}),
    required: where === 'path' || (object.required ?? []).includes(name),
    schema: copy(property),
  }));
}

function jsonBody(body: unknown): object | undefined {
  if (body === undefined) return undefined;
  return { required: true, content: { 'application/json': { schema: copy(body) } } };
}

/**
 * The route's declared responses, plus the problems the shared server answers for any route: 400
 * when a parameter or body fails its schema or the JSON is malformed, 414 for an overlong path
 * parameter, 431 when query and headers together pass 16 KiB, 413 and 415 for bodies.
 */
function responsesOf(route: DocumentedRoute, parameters: Array<{ in: string }>, hasBody: boolean) {
  const declared = (route.schema.response ?? {}) as Record<string, object>;
  const responses: Record<string, object> = {};
  if (parameters.length > 0 || hasBody) responses['400'] = problemResponse(400);
  if (parameters.some((parameter) => parameter.in === 'path')) {
    responses['414'] = problemResponse(414);
  }
  if (parameters.some((parameter) => parameter.in === 'query' || parameter.in === 'header')) {
    responses['431'] = problemResponse(431);
  }
  if (hasBody) {
    responses['413'] = problemResponse(413);
    responses['415'] = problemResponse(415);
  }
  for (const [status, response] of Object.entries(declared)) {
    responses[status] = responseObject(status, response);
  }
  const sorted = Object.keys(responses).sort(); // status codes: three digits, or `2xx`
  return Object.fromEntries(sorted.map((status) => [status, withRefs(copy(responses[status]))]));
}

const RESPONSE_KEYS = new Set(['description', 'headers', 'content', 'links']);

/**
 * A declared response as an OpenAPI response object. A bare JSON schema documents a JSON body;
 * for an error status it is replaced by the problem every error of the shared server is.
 */
function responseObject(status: string, declared: object): object {
  const keys = Object.keys(declared);
  if ('description' in declared && keys.every((key) => RESPONSE_KEYS.has(key))) return declared;
  if (/^[45]/.test(status)) return problemResponse(Number(status.replace(/xx$/, '00')));
  const description = STATUS_CODES[status] ?? 'the answer';
  return { description, content: { 'application/json': { schema: declared } } };
}

/** Replaces every inline copy of the problem schema by a reference to the named one. */
function withRefs(value: unknown): object {
  const problem = JSON.stringify(PROBLEM_SCHEMA);
  const visit = (node: unknown): unknown => {
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map(visit);
    if (JSON.stringify(node) === problem) return { $ref: '#/components/schemas/Problem' };
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, visit(child)]));
  };
  return visit(value) as object;
}

/** A deep copy of plain JSON (route schemas are shared and frozen `as const` objects). */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
