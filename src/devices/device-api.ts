import type { Registry } from 'prom-client';
import type { Database } from '../db/client.js';
import type { HttpPlugin } from '../http/server.js';
import type { Logger } from '../telemetry/logger.js';
import { adminRoutes } from './admin-routes.js';
import { DeviceCacheSync } from './cache-sync.js';
import { DeviceCache } from './device-cache.js';
import { deviceRoutes } from './device-routes.js';
import { eventLogRoutes } from './event-log-routes.js';
import { registerFleetMetrics } from './fleet-metrics.js';
import { Heartbeat } from './heartbeat.js';
import { createDeviceMetrics } from './metrics.js';
import { ProgressNotifier } from './progress-notifier.js';

/** What the device API role is built from. */
export interface DeviceApiDeps {
  database: Database;
  logger: Logger;
  metrics: Registry;
  adminToken: string;
  pollIntervalSeconds: number;
  maxLongPollSeconds: number;
  /** Device requests are shed (503 + Retry-After) while the event loop is this many ms late. */
  shedLagMs?: number;
  /** How long report progress collects before one notification announces it (default 250). */
  progressWindowMs?: number;
  /** Time between this replica's heartbeats in Postgres (default 2000; see heartbeat.ts). */
  heartbeatIntervalMs?: number;
}

/** The device API role: its routes, the cache they read, and the sync that keeps it fresh. */
export interface DeviceApi {
  /** Mount on the shared HTTP server. */
  plugin: HttpPlugin;
  cache: DeviceCache;
  sync: DeviceCacheSync;
  /** Tells the controller, through Postgres, that this replica can take reports. */
  heartbeat: Heartbeat;
  /** Keep idle connections open longer than devices wait between polls. */
  keepAliveTimeoutMs: number;
  /** Loads the cache, starts following changes and beating; call before serving. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the device API from injected dependencies. */
export function createDeviceApi(deps: DeviceApiDeps): DeviceApi {
  const logger = deps.logger.child({ component: 'device-api' });
  const cache = new DeviceCache();
  const metrics = createDeviceMetrics(deps.metrics, cache);
  registerFleetMetrics(deps.metrics, deps.database);
  const sync = new DeviceCacheSync(deps.database, cache, logger, metrics);
  const progress = new ProgressNotifier(deps.database, logger, deps.progressWindowMs);
  const routes = deviceRoutes({ ...deps, cache, metrics, progress, registry: deps.metrics });
  const heartbeat = new Heartbeat(deps.database, logger, deps.heartbeatIntervalMs);
  const admin = adminRoutes({ ...deps, logger, changed: (uuids) => sync.refreshDevices(uuids) });
  const plugin: HttpPlugin = async (app) => {
    // Answer waiting long polls (304) so shutdown does not wait for them to time out.
    app.addHook('preClose', async () => cache.releaseAll());
    await app.register(routes);
    await app.register(admin);
    await app.register(eventLogRoutes(deps));
  };
  return {
    plugin,
    cache,
    sync,
    heartbeat,
    keepAliveTimeoutMs: (deps.pollIntervalSeconds + 15) * 1000,
    async start() {
      await sync.start();
      await heartbeat.start();
    },
    async stop() {
      await progress.flush();
      await heartbeat.stop();
      await sync.stop();
    },
  };
}
