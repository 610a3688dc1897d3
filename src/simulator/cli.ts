import { access, readFile } from 'node:fs/promises';
import { type Config, ConfigError } from '../config.js';
import { adminTokenPath } from '../devices/admin-token.js';
import type { Logger } from '../telemetry/logger.js';
import { parseSimulateArgs, SIMULATE_USAGE, type SimulatePlan } from './cli-args.js';
import { readCredentialsFile, writeCredentialsFile } from './credentials-file.js';
import { type FleetSummary, type SimulatorStats, startSimulator } from './simulator.js';

/** What the command needs from the process; injected so tests can drive it. */
export interface SimulateDeps {
  config: Config;
  logger: Logger;
  out: NodeJS.WritableStream;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM). */
  interrupted: Promise<unknown>;
}

/**
 * `fleet-rollout simulate`: registers and/or attaches devices, runs them and prints a summary
 * line every interval, until interrupted or `--duration` ends. Returns the exit code.
 */
export async function runSimulate(argv: string[], deps: SimulateDeps): Promise<number> {
  const { config, out } = deps;
  const plan = parseSimulateArgs(
    argv,
    config.simulator.apiUrl ?? `http://127.0.0.1:${config.http.port}`,
  );
  if (plan.help) {
    out.write(`${SIMULATE_USAGE}\n`);
    return 0;
  }
  const attach = plan.credentialsFile ? await readCredentialsFile(plan.credentialsFile) : [];
  if (plan.saveCredentialsFile) await requireAbsent(plan.saveCredentialsFile);
  const register =
    plan.register.count > 0
      ? { ...plan.register, adminToken: await adminToken(plan, config) }
      : undefined;
  const simulator = await startSimulator({
    ...plan.options,
    attach,
    register,
    logger: deps.logger,
  });
  const started = performance.now();
  try {
    if (plan.saveCredentialsFile) {
      await writeCredentialsFile(
        plan.saveCredentialsFile,
        simulator.credentials().slice(attach.length),
      );
    }
    const stats = simulator.stats();
    out.write(
      `simulating ${stats.devices} devices (${stats.registered} registered, ${stats.offline} offline) against ${plan.options.apiUrl}, seed ${simulator.seed}\n`,
    );
    let previous = stats;
    const print = () => {
      const now = simulator.stats();
      out.write(
        `${formatSummary(performance.now() - started, now, previous, simulator.summary())}\n`,
      );
      previous = now;
    };
    const ticker = setInterval(print, plan.summaryIntervalMs);
    await untilStopped(deps.interrupted, plan.durationMs);
    clearInterval(ticker);
    print();
  } finally {
    await simulator.stop();
  }
  return 0;
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
  const errors =
    stats.errors > previous.errors
      ? ` errors=${stats.errors} last: ${stats.lastError}`
      : ` errors=${stats.errors}`;
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
