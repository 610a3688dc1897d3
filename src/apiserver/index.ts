/**
 * The local Kubernetes-compatible API server: this project's custom resources (from `crds/`)
 * plus `v1` Namespace, `v1` and `events.k8s.io/v1` Event and `coordination.k8s.io/v1` Lease,
 * persisted in the project database. kubectl and `@kubernetes/client-node` work against it.
 *
 * ```ts
 * const server = await startApiServer({ database, logger, metrics, port: 0, host: '127.0.0.1' });
 * server.url;          // 'https://127.0.0.1:41234'
 * server.token;        // send as `Authorization: Bearer <token>`; generated when not given
 * server.certificate;  // PEM of the self-signed serving certificate clients must trust
 * server.kubeconfig(); // a kubeconfig (YAML) with all three, for kubectl or KubeConfig.loadFromString
 
 * await server.compact(new Date());  // drop change log entries older than a time (tests: force 410)
 * await server.close();              // ends open watches, stops listening
 * ```
 *
 * HTTPS only: kubectl never sends a bearer token over plain HTTP. Without `tls` the server makes
 * an in-memory self-signed certificate for localhost/127.0.0.1/::1; `start` keeps one in the
 * data dir instead so kubeconfigs stay valid across restarts.
 *
 * `database` must be migrated. Several servers may share one Postgres database: writes are
 * serialized in the database and watches are woken across processes by LISTEN/NOTIFY.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Database } from '../db/client.js';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from '../http/timeouts.js';
import type { Logger } from '../telemetry/logger.js';
import { buildApp } from './http/server.js';
import type { WatchSettings } from './http/watch-stream.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { startMaintenance } from './maintenance.js';
import { createApiServerMetrics } from './metrics.js';
import { DEFAULT_NAMESPACE, namespaceResource } from './resources/builtins.js';
import { ResourceRegistry } from './resources/registry.js';
import type { RequestContext, Services } from './rest/context.js';
import { createObject } from './rest/write.js';
import { loadServedCrds, type ServedCrd } from './schema/index.js';
import { ApiError } from './status.js';
import { ChangeFeed } from './storage/change-feed.js';
import { ObjectStore } from './storage/store.js';
import { createSelfSignedCertificate, localHosts, type ServingCertificate } from './tls.js';

export { kubeconfigYaml, loadOrCreateToken, writeKubeconfig } from './kubeconfig.js';
export { loadOrCreateCertificate, localHosts, type ServingCertificate } from './tls.js';

/** Options of `startApiServer`; only `database`, `logger` and `metrics` are required. */
export interface ApiServerOptions {
  database: Database;
  logger: Logger;
  /** Registry the server's metrics are registered in (and served at its `/metrics`). */
  metrics: Registry;
  /** Port to listen on; 0 picks a free one. Default 6443. */
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Bearer token clients must send; random when not given. */
  token?: string;
  /** Serving certificate and key (PEM); a fresh self-signed one when not given. */
  tls?: ServingCertificate;
  /** Served custom resources; default: every CRD in `crds/`. */
  crds?: ServedCrd[];
  clock?: () => Date;
  /** Watch bookmark interval and default timeout. */
  watch?: Partial<WatchSettings>;
  /** Change log retention (default 600 s) and event TTL (default 3600 s). */
  retention?: { changeLogSeconds?: number; eventSeconds?: number };
  /** How often compaction and event expiry run (default 30 s). */
  maintenanceIntervalMs?: number;
  /** How long a client may take to send headers and body (default DEFAULT_HTTP_TIMEOUTS). */
  timeouts?: HttpTimeouts;
}

/** A running local API server. */
export interface ApiServer {
  /** Base URL, e.g. `https://127.0.0.1:6443`. */
  url: string;
  port: number;
  token: string;
  /** PEM of the serving certificate (self-signed: trust it as the CA). */
  certificate: string;
  /** A kubeconfig (YAML) for this server: URL, certificate and token. */
  kubeconfig(): string;
  /** Compacts the change log up to `before` (default now); returns the compacted resourceVersion. */
  compact(before?: Date): Promise<number>;
  close(): Promise<void>;
}

/** Starts the local API server; resolves once it listens. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const logger = options.logger.child({ component: 'apiserver' });
  const clock = options.clock ?? (() => new Date());
  const token = options.token ?? randomBytes(32).toString('base64url');
  const registry = new ResourceRegistry(options.crds ?? loadServedCrds());
  const host = options.host ?? '127.0.0.1';
  const tls = options.tls ?? createSelfSignedCertificate(localHosts(host));
  const { store, feed } = await openStorage(options.database, logger);
  const services: Services = { store, namespaceType: registry.namespaces };
  const app = buildApp({
    registry,
    services,
    feed,
    metrics: createApiServerMetrics(options.metrics),
    metricsRegistry: options.metrics,
    watch: {
      bookmarkIntervalMs: options.watch?.bookmarkIntervalMs ?? 60_000,
      defaultTimeoutSeconds: options.watch?.defaultTimeoutSeconds ?? 1800,
    },
    clock,
    logger,
    token,
    ready: () =>
      options.database.query(sql`select 1`).then(
        () => true,
        () => false,
      ),
    tls,
    timeouts: options.timeouts ?? DEFAULT_HTTP_TIMEOUTS,
  });
  const retention = {
    changeLogSeconds: options.retention?.changeLogSeconds ?? 600,
    eventSeconds: options.retention?.eventSeconds ?? 3600,
  };
  const interval = options.maintenanceIntervalMs ?? 30_000;
  const stopMaintenance = startMaintenance(services, retention, interval, clock, logger);
  const close = async () => {
    await stopMaintenance();
    await app.close();
    await feed.stop();
  };
  try {
    await ensureDefaultNamespace(services, clock());
    await app.listen({ port: options.port ?? 6443, host });
  } catch (error) {
    await close();
    throw new Error(`start the local API server on ${host}:${options.port ?? 6443}`, {
      cause: error,
    });
  }
  const url = urlOf(app, host);
  logger.info({ url }, 'local Kubernetes API server listening');
  return {
    url,
    port: Number(new URL(url).port),
    token,
    certificate: tls.cert,
    kubeconfig: () => kubeconfigYaml({ server: url, token, certificate: tls.cert }),
    compact: (before) => store.compact(before ?? clock()),
    close,
  };
}

/** The object store and this process's change feed, woken by the store's own commits. */
async function openStorage(database: Database, logger: Logger) {
  let feed: ChangeFeed | undefined;
  const store = new ObjectStore(database, () => feed?.poke());
  await store.init();
  feed = new ChangeFeed(store, database, logger);
  await feed.start();
  return { store, feed };
}

/** The URL clients use: loopback for a wildcard bind, brackets for IPv6. */
function urlOf(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const wildcard = host === '0.0.0.0' || host === '::';
  const urlHost = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `https://${urlHost}:${port}`;
}

/** Creates the `default` namespace on a fresh database (another process may win the race). */
async function ensureDefaultNamespace(services: Services, now: Date) {
  const ctx: RequestContext = {
    type: namespaceResource,
    namespace: '',
    subresource: undefined,
    dryRun: false,
    fieldValidation: 'Strict',
    fieldManager: 'fleet-rollout',
    now,
    warnings: [],
  };
  const existing = await services.store.get({
    resource: namespaceResource.storage,
    namespace: '',
    name: DEFAULT_NAMESPACE,
  });
  if (existing) return;
  try {
    await createObject(services, ctx, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: DEFAULT_NAMESPACE },
    });
  } catch (error) {
    if (!(error instanceof ApiError && error.reason === 'AlreadyExists')) throw error;
  }
}
