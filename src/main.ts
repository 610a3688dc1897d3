#!/usr/bin/env node
import { runLocalApiServer } from './apiserver/run.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createMetricsRegistry } from './telemetry/metrics.js';

/** A running part of the process; `stop` releases what it holds. */
interface Running {
  stop(): Promise<void>;
}

const USAGE = `usage: fleet-rollout <command>

commands:
  start       run every role in one process on embedded defaults
  apiserver   run only the local Kubernetes API server
  migrate     apply database migrations and exit`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (command === undefined || command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  switch (command) {
    case 'migrate':
      await migrateOnly(config, logger);
      return 0;
    case 'start':
      await runUntilSignal(await start(config, logger), logger);
      return 0;
    case 'apiserver':
      await runUntilSignal(await apiserverOnly(config, logger), logger);
      return 0;
    default:
      process.stderr.write(`fleet-rollout: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
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
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
  await database.migrate();
  logger.info({ kind: database.kind, dataDir: config.dataDir }, 'database ready');
  const running: Running[] = [{ stop: () => database.close() }];
  const metrics = createMetricsRegistry();
  if (config.apiserver.enabled) {
    running.push(await runLocalApiServer(config, { database, logger, metrics }));
  }
  return running;
}

async function apiserverOnly(config: Config, logger: Logger): Promise<Running[]> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
  await database.migrate();
  const metrics = createMetricsRegistry();
  return [
    { stop: () => database.close() },
    await runLocalApiServer(config, { database, logger, metrics }),
  ];
}

async function runUntilSignal(running: Running[], logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  for (const part of running.reverse()) {
    await part.stop().catch((error: unknown) => logger.error({ err: error }, 'stop failed'));
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof ConfigError ? error.message : String((error as Error)?.stack ?? error);
    process.stderr.write(`fleet-rollout: ${message}\n`);
    process.exitCode = 1;
  },
);
