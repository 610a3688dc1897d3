import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/client.js';
import { createDeviceApi, type DeviceApi } from '../../src/devices/device-api.js';
import type { TargetApps } from '../../src/devices/target-document.js';
import { createHttpServer } from '../../src/http/server.js';
import { type Logger, silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';

/** The admin token every test server uses. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A device API instance (one "process") on a shared database, ready for inject or HTTP. */
export interface TestDeviceApi {
  app: FastifyInstance;
  api: DeviceApi;
  close(): Promise<void>;
}

/**
 * Builds and starts a device API server on `database`; `listen` also binds port 0; `logger`
 * receives what the API and the HTTP server log (silent by default).
 */
export async function startDeviceApi(
  database: Database,
  options: {
    pollIntervalSeconds?: number;
    maxLongPollSeconds?: number;
    listen?: boolean;
    progressWindowMs?: number;
    heartbeatIntervalMs?: number;
    shedLagMs?: number;
    /** With `listen`: the port to bind (default any free one), e.g. a stopped replica's. */
    port?: number;
    logger?: Logger;
  } = {},
): Promise<TestDeviceApi & { url: string }> {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const logger = options.logger ?? silentLogger();
  const api = createDeviceApi({
    database,
    logger,
    metrics,
    adminToken: ADMIN_TOKEN,
    pollIntervalSeconds: options.pollIntervalSeconds ?? 30,
    maxLongPollSeconds: options.maxLongPollSeconds ?? 10,
    progressWindowMs: options.progressWindowMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    shedLagMs: options.shedLagMs,
  });
  await api.start();
  const app = await createHttpServer({
    logger,
    metrics,
    database,
    plugins: [api.plugin],
    keepAliveTimeoutMs: api.keepAliveTimeoutMs,
  });
  const url = options.listen
    ? await app.listen({ host: '127.0.0.1', port: options.port ?? 0 })
    : '';
  return {
    app,
    api,
    url,
    async close() {
      await app.close();
      await api.stop();
    },
  };
}

/** Registers a device through the admin API; its uuid and key. */
export async function register(
  app: FastifyInstance,
  body: { fleet?: string; labels?: Record<string, string>; apps?: TargetApps; uuid?: string } = {},
): Promise<{ uuid: string; apiKey: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/devices',
    headers: ADMIN,
    payload: { fleet: 'lab', ...body },
  });
  if (response.statusCode !== 201)
    throw new Error(`register: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** Polls a device's state through `app`. */
export function poll(
  app: FastifyInstance,
  device: { uuid: string; apiKey: string },
  etag?: string,
  query = '',
) {
  return app.inject({
    method: 'GET',
    url: `/api/v1/device/${device.uuid}/state${query}`,
    headers: {
      authorization: `Bearer ${device.apiKey}`,
      ...(etag ? { 'if-none-match': etag } : {}),
    },
  });
}

/** A one-service target running `image`. */
export function appsWith(image: string, service = 'main'): TargetApps {
  return { app: { services: { [service]: { image } } } };
}
