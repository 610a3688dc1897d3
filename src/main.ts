#!/usr/bin/env node
import type { Registry } from 'prom-client';
import { runLocalApiServer } from './apiserver/run.js';
import { parseCommandLine } from './cli/command-line.js';
import { UsageError } from './cli/usage-error.js';
import { type Config, ConfigError, loadConfig, unknownVariables } from './config.js';
import { startControllerRole } from './controller/controller-role.js';
import { type Database, openDatabase } from './db/client.js';
import { startEventLogPruner } from './db/event-log-retention.js';
import { migrateWhenReachable } from './db/wait-for-database.js';
import { createWebhookStore } from './db/webhook-store.js';
import { resolveAdminToken } from './devices/admin-token.js';
import { createDeviceApi, type DeviceApi } from './devices/device-api.js';
import { createHttpServer, type HttpPlugin } from './http/server.js';
import { configuredConnection, createKubePort, loadKubeConfig } from './kube/client-node.js';
import type { KubePort } from './kube/port.js';
import { managementRoutes } from './management/routes.js';
import { exitOnFatalErrors, shutdownSignal } from './shutdown.js';
import { runSimulate } from './simulator/cli.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createMetricsRegistry, VERSION } from './telemetry/metrics.js';
import { serveMetrics } from './telemetry/metrics-server.js';
import { createWebhookPlugin } from './webhooks/receiver.js';

/** A running part of the process; `stop` releases what it holds. */
interface Running {
  stop(): Promise<void>;
}

async function main(argv: string[]): Promise<number> {
  const line = parseCommandLine(argv);
  if (line.kind === 'usage') {
    process.stdout.write(`${line.text}\n`);
    return 0;
  }
  if (line.kind === 'version') {
    process.stdout.write(`fleet-rollout ${VERSION}\n`);
    return 0;
  }
  const { command, overrides, flagOf } = line;
  const config = loadConfigWithFlags(overrides, flagOf);
  const logger = createLogger({ level: config.logLevel });
  processLogger = logger;
  exitOnFatalErrors(logger);
  for (const { name, suggestion } of unknownVariables()) {
    const hint = suggestion ? ` (did you mean ${suggestion}?)` : '';
    logger.warn(
      { variable: name, suggestion },
      `unknown environment variable ${name} is ignored${hint}`,
    );
  }
  switch (command) {
    case 'migrate':
      await migrateOnly(config, logger);
      return 0;
    case 'start':
      return runUntilSignal(() => start(config, logger), logger);
    case 'controller':
      return runUntilSignal(() => controllerOnly(config, logger), logger);
    case 'device-api':
      return runUntilSignal(() => deviceApiOnly(config, logger), logger);
    case 'webhooks':
      return runUntilSignal(() => webhooksOnly(config, logger), logger);
    case 'apiserver':
      return runUntilSignal(() => apiserverOnly(config, logger), logger);
    case 'simulate':
      return runSimulate(line.args, {
        config,
        logger,
        out: process.stdout,
        err: process.stderr,
        interrupted: shutdownSignal(logger),
      });
  }
}

/**
 * The configuration from the environment with the command line's flags on top (flags win); a
 * bad value set by a flag is reported under the flag's name.
 */
function loadConfigWithFlags(
  overrides: Record<string, string>,
  flagOf: Record<string, string>,
): Config {
  try {
    return loadConfig({ ...process.env, ...overrides });
  } catch (error) {
    const variable = Object.keys(overrides).find((name) =>
      (error as Error).message.startsWith(`${name} `),
    );
    if (!(error instanceof ConfigError) || variable === undefined) throw error;
    const message = `${flagOf[variable]}${error.message.slice(variable.length)}`;
    throw new UsageError(message, { cause: error });
  }
}

async function migrateOnly(config: Config, logger: Logger): Promise<void> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    await database.migrate();
    logger.info({ kind: database.kind }, 'migrations applied');
  } finally {
    await database.close();
  }
}

async function start(config: Config, logger: Logger): Promise<Running[]> {
  const admin = await resolveAdminToken(config.devices.adminToken, config.dataDir);
  if (admin.file) logger.info({ file: admin.file }, 'admin token is in this file');
  return startRoles(config, logger, async (deps, running) => {
    let connection = configuredConnection(config.kube);
    if (config.apiserver.enabled) {
      const local = await runLocalApiServer(config, deps);
      running.push(local);
      connection ??= { kind: 'kubeconfig', path: local.kubeconfigPath };
    }
    if (!connection) {
      throw new ConfigError('no Kubernetes API: set KUBECONFIG or enable the local API server');
    }
    const kube = createKubePort(loadKubeConfig(connection));
    const deviceApi = await startDeviceApi(config, deps, admin.token, running);
    await serveHttp(config, deps, running, {
      plugins: [
        deviceApi.plugin,
        managementPlugin(config, deps, kube, admin.token),
        webhookPlugin(config, deps, kube),
      ],
      keepAliveTimeoutMs: deviceApi.keepAliveTimeoutMs,
    });
    running.push(startControllerRole(config, { ...deps, kube }));
  });
}

async function controllerOnly(config: Config, logger: Logger): Promise<Running[]> {
  if (!config.databaseUrl) {
    throw new ConfigError('controller needs DATABASE_URL (the Postgres the device API uses)');
  }
  const connection = configuredConnection(config.kube);
  if (!connection) throw new ConfigError('controller needs KUBECONFIG or an in-cluster config');
  const kube = createKubePort(loadKubeConfig(connection));
  return startRoles(config, logger, async (deps, running) => {
    await serveHttp(config, deps, running, { plugins: [] });
    running.push(startControllerRole(config, { ...deps, kube }));
  });
}

async function apiserverOnly(config: Config, logger: Logger): Promise<Running[]> {
  return startRoles(config, logger, async (deps, running) => {
    running.push(await runLocalApiServer(config, deps));
  });
}

async function deviceApiOnly(config: Config, logger: Logger): Promise<Running[]> {
  const token = config.devices.adminToken;
  if (!config.databaseUrl)
    throw new ConfigError('device-api needs DATABASE_URL (a shared Postgres)');
  if (!token) throw new ConfigError('device-api needs FLEET_ROLLOUT_ADMIN_TOKEN');
  const kube = config.management.enabled ? managementKube(config) : undefined;
  return startRoles(config, logger, async (deps, running) => {
    const deviceApi = await startDeviceApi(config, deps, token, running);
    const management = kube ? [managementPlugin(config, deps, kube, token)] : [];
    await serveHttp(config, deps, running, {
      plugins: [deviceApi.plugin, ...management],
      keepAliveTimeoutMs: deviceApi.keepAliveTimeoutMs,
    });
  });
}

async function webhooksOnly(config: Config, logger: Logger): Promise<Running[]> {
  if (!config.databaseUrl) throw new ConfigError('webhooks needs DATABASE_URL (a shared Postgres)');
  const connection = configuredConnection(config.kube);
  if (!connection) throw new ConfigError('webhooks needs KUBECONFIG or an in-cluster config');
  const kube = createKubePort(loadKubeConfig(connection));
  return startRoles(config, logger, (deps, running) =>
    serveHttp(config, deps, running, { plugins: [webhookPlugin(config, deps, kube)] }),
  );
}

/** What every role is built from. */
interface RoleDeps {
  database: Database;
  logger: Logger;
  metrics: Registry;
}

/**
 * Opens and migrates the database (waiting for it while it is unreachable), then starts the
 * roles; stops what started if one fails.
 */
async function startRoles(
  config: Config,
  logger: Logger,
  roles: (deps: RoleDeps, running: Running[]) => Promise<void>,
): Promise<Running[]> {
  const running: Running[] = [];
  try {
    const database = await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      logger,
    });
    running.push({ stop: () => database.close() });
    await migrateWhenReachable(database, logger);
    logger.info({ kind: database.kind, dataDir: config.dataDir }, 'database ready');
    const metrics = createMetricsRegistry();
    running.push(startEventLogPruner({ database, logger, metrics, ...config.eventLog }));
    await roles({ database, logger, metrics }, running);
    return running;
  } catch (error) {
    await stopAll(running, logger);
    throw error;
  }
}

/** Starts the device API's cache and notification listener; its routes go on the HTTP server. */
async function startDeviceApi(
  config: Config,
  deps: RoleDeps,
  adminToken: string,
  running: Running[],
): Promise<DeviceApi> {
  const deviceApi = createDeviceApi({ ...config.devices, ...deps, adminToken });
  await deviceApi.start();
  running.push(deviceApi);
  return deviceApi;
}

/** The Kubernetes API of `device-api` with FLEET_ROLLOUT_MANAGEMENT_API=true. */
function managementKube(config: Config): KubePort {
  const connection = configuredConnection(config.kube);
  if (!connection) {
    throw new ConfigError(
      'FLEET_ROLLOUT_MANAGEMENT_API=true needs KUBECONFIG or an in-cluster config (the management API changes Kubernetes resources)',
    );
  }
  return createKubePort(loadKubeConfig(connection));
}

/** The management REST API on the admin token, over the Kubernetes resources of `kube`. */
function managementPlugin(
  config: Config,
  deps: RoleDeps,
  kube: KubePort,
  adminToken: string,
): HttpPlugin {
  return managementRoutes({
    kube,
    db: deps.database.db,
    adminToken,
    namespace: config.kube.namespace,
    logger: deps.logger,
  });
}

/** The registry webhook receiver, creating ImageRollouts through `kube`. */
function webhookPlugin(config: Config, deps: RoleDeps, kube: KubePort): HttpPlugin {
  return createWebhookPlugin({
    config: config.webhooks,
    kube,
    store: createWebhookStore(deps.database.db),
    namespace: config.kube.namespace,
    logger: deps.logger.child({ role: 'webhooks' }),
    metrics: deps.metrics,
  });
}

/** The shared HTTP server (metrics, health, problem errors) carrying the roles' routes. */
async function serveHttp(
  config: Config,
  deps: RoleDeps,
  running: Running[],
  options: { plugins: HttpPlugin[]; keepAliveTimeoutMs?: number },
): Promise<void> {
  const separate = config.metrics.port !== undefined;
  const server = await createHttpServer({
    ...deps,
    ...options,
    timeouts: config.http.timeouts,
    serveMetrics: !separate,
  });
  running.push({ stop: () => server.close() });
  if (separate) {
    const metrics = await serveMetrics(deps.metrics, {
      ...config.metrics,
      port: config.metrics.port ?? 0,
      timeouts: config.http.timeouts,
    });
    running.push({ stop: () => metrics.close() });
    deps.logger.info({ url: metrics.url }, 'serving metrics');
  }
  const url = await server.listen({ host: config.http.host, port: config.http.port });
  deps.logger.info({ url }, 'serving HTTP');
}

/**
 * Starts the parts, runs until SIGINT or SIGTERM, stops them in reverse order and says `stopped`
 * last. A signal while starting (waiting for the database, say) ends the process at once, after
 * saying so: nothing serves yet.
 */
async function runUntilSignal(startParts: () => Promise<Running[]>, logger: Logger) {
  const signal = shutdownSignal(logger);
  const started = await Promise.race([startParts(), signal]);
  if (!Array.isArray(started)) {
    logger.info({ signal: started }, 'stopped while starting');
    process.exit(started === 'SIGINT' ? 130 : 143);
  }
  await signal;
  await stopAll(started, logger);
  logger.info('stopped');
  return 0;
}

async function stopAll(running: Running[], logger: Logger): Promise<void> {
  for (const part of [...running].reverse()) {
    await part.stop().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
  }
}

/** The process logger, once the configuration gave its level. */
let processLogger: Logger | undefined;

// Whatever the process writes (data dir, tokens, kubeconfig, database files) is the user's alone.
process.umask(0o077);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Every log line is written synchronously (see createLogger): this one is the last. A
    // configuration or usage error is the user's to fix: one line on stderr says it all.
    if (!(error instanceof ConfigError))
      processLogger?.fatal({ err: error }, 'stopped on an error');
    const message =
      error instanceof ConfigError ? error.message : String((error as Error)?.stack ?? error);
    process.stderr.write(`fleet-rollout: ${message}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
