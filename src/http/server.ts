import { STATUS_CODES } from 'node:http';
import { sql } from 'drizzle-orm';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyRequest,
} from 'fastify';
import type { Registry } from 'prom-client';
import type { Database } from '../db/client.js';
import { isConnectionError } from '../db/connection-errors.js';
import type { Logger } from '../telemetry/logger.js';
import { VERSION } from '../telemetry/metrics.js';
import { answerClientError } from './client-errors.js';
import { limitJsonBodies } from './json-body.js';
import { collectRoutes, OPENAPI_PATH } from './openapi.js';
import { databaseUnavailable, HttpProblem, sendProblem } from './problem.js';
import { instrumentRoutes } from './request-metrics.js';
import { jsonResponse, problemResponses } from './responses.js';
import {
  closeWhenBodyUnread,
  DEFAULT_HTTP_TIMEOUTS,
  type HttpTimeouts,
  limitBodyIdle,
  nodeServerTimeouts,
} from './timeouts.js';
import { answerUnmatched } from './unmatched.js';

/**
 * What a role mounts on the shared server: a fastify plugin, registered in its own encapsulated
 * context after the shared parts. Inside it:
 * - declare JSON schemas for params, querystring and body; validation failures become 400
 *   problems. Declare `response` too, every status the route answers (src/http/responses.ts):
 *   the OpenAPI document at /openapi.json is generated from these schemas (docs/openapi.md). Types are not coerced (query numbers arrive as strings: use a pattern) and
 *   unknown properties are rejected, not silently removed, where a schema forbids them.
 * - throw `HttpProblem` for client errors; any other error is logged and answered as a 500.
 * - headers and bodies that arrive too slowly are refused with 408 (HttpTimeouts).
 * - JSON bodies are already limited to 1 MiB (413) and 32 levels of nesting (400); set
 *   `bodyLimit` on a route to change the size. To see the raw body, call
 *   `removeContentTypeParser('application/json')` in your context, then add your own parser.
 * - every route gets request metrics; hot routes should not log per request, and may time
 *   themselves (`config: SELF_TIMED` and `routeTimer`) to spare fastify's response listeners.
 */
export type HttpPlugin = FastifyPluginAsync;

/** What the shared HTTP server is built from. */
export interface HttpServerDeps {
  logger: Logger;
  metrics: Registry;
  /**
   * Used by /readyz to check the database is reachable; requests that meet a connection error
   * report it to `connection`, which logs when the database is lost (not every request).
   */
  database: Pick<Database, 'query'> & Partial<Pick<Database, 'connection'>>;
  plugins: HttpPlugin[];
  /** Whether this server answers /metrics (default true; false when metrics have their own port). */
  serveMetrics?: boolean;
  /** Idle keep-alive connections stay open this long; longer than the device poll interval. */
  keepAliveTimeoutMs?: number;
  /** How long a client may take to send headers and body; DEFAULT_HTTP_TIMEOUTS when not given. */
  timeouts?: HttpTimeouts;
}

/** What the OpenAPI document of every server says about itself. */
const DOCUMENT_INFO = {
  title: 'fleet-rollout HTTP API',
  version: VERSION,
  description:
    'The device, admin, management and webhook APIs of fleet-rollout. Each port serves the document of the routes it has at /openapi.json; errors are RFC 9457 problems.',
};

/** Longest path parameter (a path segment) any route accepts. */
const MAX_PARAM_LENGTH = 256;

/** Largest request body of any route unless the route says otherwise. */
export const BODY_LIMIT = 1024 * 1024;

/**
 * Builds the HTTP server every role shares: /metrics, /healthz, /readyz, problem+json for every
 * error (validation, body too large, bad JSON, unknown route), request metrics, then the plugins.
 * Call `listen` to serve, or `inject` to test without a socket.
 */
export async function createHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const timeouts = deps.timeouts ?? DEFAULT_HTTP_TIMEOUTS;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    http: nodeServerTimeouts(timeouts),
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: deps.keepAliveTimeoutMs ?? 72_000,
    return503OnClosing: true,
    // Path parameters up to a resource name (253) or a path token fit; longer ones are 414.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Malformed URLs and overlong path segments, refused by the router before any route runs.
    frameworkErrors: (error, _request, reply) => sendProblem(reply, routerProblem(error)),
    clientErrorHandler: answerClientError,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const log = deps.logger.child({ component: 'http' });
  const document = collectRoutes(app, DOCUMENT_INFO);
  // Response schemas document and are checked (by the schemathesis test) but never reshape an
  // answer: fast-json-stringify would drop undeclared fields and coerce types, hiding a handler
  // that disagrees with its schema.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const timeUnmatched = instrumentRoutes(app, deps.metrics);
  limitJsonBodies(app);
  limitBodyIdle(app, timeouts.bodyIdleMs);
  closeWhenBodyUnread(app);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = problemOf(error);
    // An unreachable database is logged once, by the connection state, not per request; a
    // thrown HttpProblem is a deliberate answer (e.g. /readyz's 503), not a failure to log.
    if (isConnectionError(error)) deps.database.connection?.failed(error);
    else if (problem.status >= 500 && !(error instanceof HttpProblem)) {
      log.error({ err: error, method: request.method, route: routeOf(request) }, 'request failed');
    }
    return sendProblem(reply, problem);
  });
  await answerUnmatched(app, timeUnmatched);
  registerOperationalRoutes(app, deps);
  for (const plugin of deps.plugins) await app.register(plugin);
  let served: string | undefined;
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async (_request, reply) => {
    served ??= JSON.stringify(document());
    return reply.type('application/json').send(served);
  });
  return app;
}

function registerOperationalRoutes(app: FastifyInstance, deps: HttpServerDeps): void {
  if (deps.serveMetrics ?? true) {
    const metrics = {
      summary: 'Prometheus metrics of this process',
      tags: ['operations'],
      response: {
        200: {
          description: 'the metrics in the Prometheus text format',
          content: { [deps.metrics.contentType]: { schema: { type: 'string' } } },
        },
      },
    };
    app.get('/metrics', { schema: metrics }, async (_request, reply) => {
      const body = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).send(body);
    });
  }
  const healthz = {
    summary: 'Liveness: the process serves HTTP',
    tags: ['operations'],
    response: { 200: jsonResponse('alive', statusSchema('ok')) },
  };
  app.get('/healthz', { schema: healthz }, async () => ({ status: 'ok' }));
  const readyz = {
    summary: 'Readiness: the database answers',
    tags: ['operations'],
    response: {
      200: jsonResponse('ready to serve', statusSchema('ready')),
      ...problemResponses(503),
    },
  };
  app.get('/readyz', { schema: readyz }, async () => {
    try {
      await deps.database.query(sql`select 1`);
    } catch (error) {
      deps.database.connection?.failed(error);
      throw databaseUnavailable();
    }
    return { status: 'ready' };
  });
}

function statusSchema(status: string) {
  return {
    type: 'object',
    required: ['status'],
    additionalProperties: false,
    properties: { status: { const: status } },
  };
}

/** Maps any error to the problem the client gets. */
export function problemOf(error: FastifyError | HttpProblem): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (isConnectionError(error)) return databaseUnavailable();
  if (error.validation) {
    const errors = error.validation.map((issue) => ({
      path: `${error.validationContext ?? ''}${issue.instancePath}`,
      message: issue.message ?? 'is invalid',
    }));
    return new HttpProblem(400, 'Invalid request', error.message, errors);
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new HttpProblem(status, STATUS_CODES[status] ?? 'Bad Request', error.message);
  }
  return new HttpProblem(500, 'Internal Server Error', 'the server failed to handle this request');
}

/** The problem for a URL the router refuses: overlong segment (414) or bad percent-encoding (400). */
function routerProblem(error: FastifyError): HttpProblem {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const detail = `a path segment is longer than ${MAX_PARAM_LENGTH} characters`;
    return new HttpProblem(414, 'URI Too Long', detail);
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    return new HttpProblem(400, 'Bad Request', 'the path is not a valid percent-encoded URL');
  }
  return problemOf(error);
}

function routeOf(request: FastifyRequest): string | undefined {
  return request.routeOptions.url;
}
