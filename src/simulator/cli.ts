import { access, readFile } from 'node:fs/promises';
import { type Config, ConfigError } from '../config.js';
import { adminTokenPath } from '../devices/admin-token.js';
import type { Logger } from '../telemetry/logger.js';
import { parseSimulateArgs, SIMULATE_USAGE, type SimulatePlan } from './cli-args.js';
import { readCredentialsFile, writeCredentialsFile } from './credentials-file.js';
import { describeError } from './device-api-client.js';
import {
  type FleetSummary,
  type Simulator,
  type SimulatorStats,
  startSimulator,
} from './simulator.js';

/** What the command needs from the process; injected so tests can drive it. */
export interface SimulateDeps {
  config: Config;
  logger: Logger;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM). */
  interrupted: Promise<unknown>;
}

/**
 * `fleet-rollout simulate`: registers and/or attaches devices, runs them and prints a summary
 * line every interval, until interrupted or `--duration` ends. Returns the exit code; bad flags
 * throw ConfigError, an unreachable or refusing device API is reported on `err` (exit 1).
 */
export async function runSimulate(argv: string[], deps: SimulateDeps): Promise<number> {
  const { config } = deps;
  const defaultUrl = config.simulator.apiUrl ?? `http://127.0.0.1:${config.http.port}`;
  const plan = parseSimulateArgs(argv, defaultUrl);
  if (plan.help) {
    deps.out.write(`${SIMULATE_USAGE}\n`);
    return 0;
  }
  const attach = plan.credentialsFile ? await readCredentialsFile(plan.credentialsFile) : [];
  if (plan.saveCredentialsFile) await requireAbsent(plan.saveCredentialsFile);
  const register =
    plan.register.count > 0
      ? { ...plan.register, adminToken: await adminToken(plan, config) }
      : undefined;
  let simulator: Simulator;
  try {
    simulator = await startSimulator({ ...plan.options, attach, register, logger: deps.logger });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    deps.err.write(`fleet-rollout simulate: ${describeError(error)}\n`);
    return 1;
  }
  try {
    if (plan.saveCredentialsFile) {
      const registered = simulator.credentials().slice(attach.length);
      await writeCredentialsFile(plan.saveCredentialsFile, registered);
    }
    await runUntilStopped(simulator, plan, deps);
  } finally {
    await simulator.stop();
  }
  return 0;
}

/** Prints the start line, a summary every interval and a last one when stopped. */
async function runUntilStopped(simulator: Simulator, plan: SimulatePlan, deps: SimulateDeps) {
  const started = performance.now();
  let previous = simulator.stats();
  const { devices, registered, offline } = previous;
  deps.out.write(
    `simulating ${devices} devices (${registered} registered, ${offline} offline) against ${plan.options.apiUrl}, seed ${simulator.seed}\n`,
  );
  const print = () => {
    const now = simulator.stats();
    const elapsed = performance.now() - started;
    deps.out.write(`${formatSummary(elapsed, now, previous, simulator.summary())}\n`);
    previous = now;
  };
  const ticker = setInterval(print, plan.summaryIntervalMs);
  try {
    await untilStopped(deps.interrupted, plan.durationMs);
  } finally {
    clearInterval(ticker);
  }
  print();
}

/** One summary line: elapsed time, counters (with the poll rate since `previous`), phases, images. */
export function formatSummary(
  elapsedMs: number,
  stats: SimulatorStats,
  previous: SimulatorStats,
  summary: FleetSummary,
): string {
  const seconds = Math.round(elapsedMs / 1000);
  const phases = Object.entries(summary.phases)
    .filter(([, count]) => count > 0)
    .map(([phase, count]) => `${phase}=${count}`)
    .join(' ');
  const images = Object.entries(summary.images)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([image, states]) => {
      const counts = Object.entries(states).map(([state, count]) => `${state}=${count}`);
      return ` | ${image} ${counts.join(' ')}`;
    })
    .join('');
  const polls = `polls=${stats.polls} (+${stats.polls - previous.polls}) 200=${stats.ok} 304=${stats.notModified}`;
  const failed = (s: SimulatorStats) => s.errors + s.networkErrors;
  const errors = ` errors=${stats.errors} network-errors=${stats.networkErrors}${
    failed(stats) > failed(previous) ? ` last: ${stats.lastError}` : ''
  }`;
  return `t=${seconds}s ${phases} ${polls} reports=${stats.reports}${errors}${images}`;
}

async function requireAbsent(file: string): Promise<void> {
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (exists) throw new ConfigError(`--save-credentials: ${file} exists; not overwriting it`);
}

/** The admin token: FLEET_ROLLOUT_ADMIN_TOKEN, --admin-token-file, or the one `start` generated. */
async function adminToken(plan: SimulatePlan, config: Config): Promise<string> {
  if (config.devices.adminToken) return config.devices.adminToken;
  const file = plan.adminTokenFile ?? adminTokenPath(config.dataDir);
  let token: string;
  try {
    token = (await readFile(file, 'utf8')).trim();
  } catch (cause) {
    throw new ConfigError(
      `simulate needs the admin token to register devices: set FLEET_ROLLOUT_ADMIN_TOKEN or --admin-token-file (cannot read ${file}), or attach to registered devices with --credentials`,
      { cause },
    );
  }
  if (token === '') throw new ConfigError(`the admin token file ${file} is empty`);
  return token;
}

function untilStopped(interrupted: Promise<unknown>, durationMs: number | undefined) {
  if (durationMs === undefined) return interrupted;
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, durationMs);
  });
  return Promise.race([interrupted, elapsed]).finally(() => clearTimeout(timer));
}
