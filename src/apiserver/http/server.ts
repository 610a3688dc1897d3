import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Registry } from 'prom-client';
import { sameSecret } from '../../api/same-secret.js';
import { DATABASE_RETRY_AFTER_SECONDS, isConnectionError } from '../../db/connection-errors.js';
import {
  closeWhenBodyUnread,
  type HttpTimeouts,
  limitBodyIdle,
  nodeServerTimeouts,
} from '../../http/timeouts.js';
import type { Logger } from '../../telemetry/logger.js';
import type { ApiServerMetrics } from '../metrics.js';
import {
  ApiError,
  databaseUnavailable,
  PathNotFound,
  requestTooLarge,
  unauthorized,
} from '../status.js';
import { registerDiscovery } from './discovery.js';
import { registerOpenApi } from './openapi.js';
import { registerOpenApiV2 } from './openapi-v2.js';
import { PROTOBUF_MEDIA_TYPE } from './protobuf.js';
import { type ResourceDeps, registerResources } from './resources.js';
import { bodyAsBytesWithWarnings } from './warnings.js';

/** Request bodies above this are refused, as the real API server's 3 MiB limit. */
export const BODY_LIMIT_BYTES = 3 * 1024 * 1024;

/** Paths anyone may read, as a cluster's anonymous public-info role allows. */
const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);

/** What the HTTP layer needs besides the resource endpoints' dependencies. */
export interface AppOptions extends ResourceDeps {
  logger: Logger;
  metrics: ApiServerMetrics;
  /** Registry rendered at `/metrics`. */
  metricsRegistry: Registry;
  token: string;
  /** Whether the database answers, for `/readyz`. */
  ready: () => Promise<boolean>;
  /** The serving certificate: the server speaks HTTPS only. */
  tls: { cert: string; key: string };
  /** How long a client may take to send headers and body (a watch's answer is not limited). */
  timeouts: HttpTimeouts;
}

/** Builds the fastify app of the local API server (without listening). */
export function buildApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    https: { ...options.tls, ...nodeServerTimeouts(options.timeouts) },
    requestTimeout: options.timeouts.requestMs,
    bodyLimit: BODY_LIMIT_BYTES,
    logger: false,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.addContentTypeParser(PROTOBUF_MEDIA_TYPE, { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );

  registerHooks(app, options);
  limitBodyIdle(app, options.timeouts.bodyIdleMs);
  closeWhenBodyUnread(app);
  for (const path of ['/healthz', '/livez']) app.get(path, async () => 'ok');
  app.get('/readyz', async (_request, reply) => {
    if (await options.ready()) return 'ok';
    return reply.code(503).send('database unavailable');
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(options.metricsRegistry.contentType).send(await options.metricsRegistry.metrics()),
  );
  registerDiscovery(app, options.registry);
  registerOpenApi(app, options.registry);
  registerOpenApiV2(app, options.registry);
  registerResources(app, options);
  return app;
}

/** Authentication, metrics and request logs, and Status answers for every error. */
function registerHooks(app: FastifyInstance, options: AppOptions) {
  app.addHook('onRequest', async (request) => {
    request.startedAt = performance.now();
    if (PUBLIC_PATHS.has(request.url.split('?')[0] ?? '')) return;
    if (!authorized(request, options.token)) throw unauthorized();
  });
  app.addHook('onSend', bodyAsBytesWithWarnings);
  app.addHook('onResponse', async (request, reply) => {
    const verb = request.verb ?? 'other';
    const resource = request.resourceLabel ?? 'none';
    options.metrics.requests.inc({ verb, resource, code: String(reply.statusCode) });
    options.metrics.duration.observe(
      { verb, resource },
      (performance.now() - (request.startedAt ?? 0)) / 1000,
    );
    options.logger.debug(
      { method: request.method, url: request.url, code: reply.statusCode },
      'request',
    );
  });
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    const apiError = toApiError(error);
    const where = { method: request.method, url: request.url };
    // An unreachable database is logged once by the connection state, not on every request.
    if (apiError.reason === 'ServiceUnavailable')
      options.logger.debug(where, 'database unavailable');
    else if (apiError.code >= 500) options.logger.error({ err: error, ...where }, 'request failed');
    if (apiError instanceof PathNotFound) return sendPathNotFound(reply);
    const retryAfter = apiError.details?.retryAfterSeconds;
    if (retryAfter) reply.header('retry-after', String(retryAfter));
    return reply.code(apiError.code).type('application/json').send(apiError.toStatus());
  });
  app.setNotFoundHandler((_request, reply) => sendPathNotFound(reply));
}

function sendPathNotFound(reply: FastifyReply) {
  return reply
    .code(404)
    .header('x-content-type-options', 'nosniff')
    .type('text/plain; charset=utf-8')
    .send(PathNotFound.TEXT);
}

function authorized(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) return false;
  return sameSecret(match[1] ?? '', token);
}

function toApiError(error: FastifyError | ApiError): ApiError {
  if (error instanceof ApiError) return error;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return requestTooLarge(BODY_LIMIT_BYTES);
  if (isConnectionError(error)) return databaseUnavailable(DATABASE_RETRY_AFTER_SECONDS, error);
  const status = error.statusCode ?? 500;
  if (status === 408) return new ApiError(408, 'Timeout', error.message);
  if (status >= 400 && status < 500) return new ApiError(status, 'BadRequest', error.message);
  return new ApiError(
    500,
    'InternalError',
    'Internal error occurred: the server could not handle the request',
    undefined,
    {
      cause: error,
    },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    startedAt?: number;
  }
}
