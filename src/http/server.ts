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
import { limitJsonBodies } from './json-body.js';
import { databaseUnavailable, HttpProblem, sendProblem } from './problem.js';
import { instrumentRoutes } from './request-metrics.js';
import {
  closeWhenBodyUnread,
  DEFAULT_HTTP_TIMEOUTS,
  type HttpTimeouts,
  limitBodyIdle,
  nodeServerTimeouts,
} from './timeouts.js';

/**
 * What a role mounts on the shared server: a fastify plugin, registered in its own encapsulated
 * context after the shared parts. Inside it:
 * - declare JSON schemas for params, querystring and body; validation failures become 400
 *   problems. Types are not coerced (query numbers arrive as strings: use a pattern) and
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
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const log = deps.logger.child({ component: 'http' });
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
  app.setNotFoundHandler((request, reply) => {
    const started = performance.now();
    const detail = `no route for ${request.method} ${pathOf(request)}`;
    sendProblem(reply, new HttpProblem(404, 'Not Found', detail));
    timeUnmatched(request.method, 404, started);
    return reply;
  });
  registerOperationalRoutes(app, deps);
  for (const plugin of deps.plugins) await app.register(plugin);
  return app;
}

function registerOperationalRoutes(app: FastifyInstance, deps: HttpServerDeps): void {
  if (deps.serveMetrics ?? true) {
    app.get('/metrics', async (_request, reply) => {
      const body = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).send(body);
    });
  }
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    try {
      await deps.database.query(sql`select 1`);
    } catch (error) {
      deps.database.connection?.failed(error);
      throw databaseUnavailable();
    }
    return { status: 'ready' };
  });
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

function routeOf(request: FastifyRequest): string | undefined {
  return request.routeOptions.url;
}

/** The request path without its query, bounded for error messages. */
function pathOf(request: FastifyRequest): string {
  const url = request.url;
  const query = url.indexOf('?');
  return (query < 0 ? url : url.slice(0, query)).slice(0, 200);
}
