import { ConfigError } from '../config.js';
import type { TargetApps } from '../devices/target-document.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import type { LabelDistribution } from './fates.js';

/** How a failing device fails on a new image: reports it unhealthy, exited, or never healthy. */
export type FailureMode = 'unhealthy' | 'exited' | 'stuck';

/** What a simulated device does: update healthily, fail in one of the modes, or stay offline. */
export type DeviceFate = 'healthy' | FailureMode | 'offline';

/** A registered device's identity; the API key is the device's bearer token. */
export interface DeviceCredentials {
  uuid: string;
  apiKey: string;
}

/** Devices the simulator registers through the admin API before it starts them. */
export interface Registration {
  count: number;
  adminToken: string;
  /** Fleet name (a DNS label); default `sim`. */
  fleet?: string;
  /** Label distribution: each key's values are spread evenly over the devices. */
  labels?: LabelDistribution;
  /** Initial target of every device. */
  apps?: TargetApps;
}

/** How to run a simulated fleet; durations in milliseconds. */
export interface SimulatorOptions {
  /** Base URL of the device API, e.g. `http://127.0.0.1:8080`. */
  apiUrl: string;
  /** Devices to register first. */
  register?: Registration;
  /** Already registered devices to run as well. */
  attach?: readonly DeviceCredentials[];
  /** Makes fates and timing jitter reproducible; default `fleet-rollout`. */
  seed?: string;
  /** Poll period; default: the interval the server advertises. */
  pollIntervalMs?: number;
  /** Long poll (`?wait=`) for this many seconds instead of polling periodically. */
  longPollSeconds?: number;
  /** Heartbeat: a device re-sends its state this often; default 30 s. */
  reportIntervalMs?: number;
  /** Time to download an image the device has not pulled before; default 1 s. */
  pullDelayMs?: number;
  /** Time from starting a new image until it is healthy (or fails); default 2 s. */
  healthyAfterMs?: number;
  /** Fraction of the devices that fail on new images; default 0. */
  failureRate?: number;
  /** How failing devices fail; `mixed` spreads them over the three modes. Default `unhealthy`. */
  failureMode?: FailureMode | 'mixed';
  /** When set, failing devices fail only on images matching one of these globs. */
  failingImages?: readonly string[];
  /** Fraction of the devices that never poll nor report; default 0. */
  offlineFraction?: number;
  /**
   * `run`: Script health checks in the targets run on this machine as child processes, their
   * exit code the verdict; `pass`: they count as passed without running. Default `run`.
   */
  scriptChecks?: 'run' | 'pass';
  /** Relative spread of poll and heartbeat periods (0.1 = ±10 %); default 0.1. */
  jitter?: number;
  /** The first polls are spread over this window; default 1 s. */
  startSpreadMs?: number;
  /** Most requests in flight at once, long polls aside; default 64. */
  concurrency?: number;
  /** A request without an answer this long fails; default 30 s. */
  requestTimeoutMs?: number;
  logger?: Logger;
}

/** Options with every default filled in and every value checked. */
export type ResolvedOptions = Required<Omit<SimulatorOptions, 'register' | 'pollIntervalMs'>> & {
  register: Registration | undefined;
  pollIntervalMs: number | undefined;
};

/** Poll period used until the server has advertised one (and when it advertises none). */
export const FALLBACK_POLL_INTERVAL_MS = 60_000;

/** Fills in defaults and validates; throws ConfigError naming the bad option. */
export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    apiUrl: options.apiUrl,
    register: options.register,
    attach: options.attach ?? [],
    seed: options.seed ?? 'fleet-rollout',
    pollIntervalMs: options.pollIntervalMs,
    longPollSeconds: options.longPollSeconds ?? 0,
    reportIntervalMs: options.reportIntervalMs ?? 30_000,
    pullDelayMs: options.pullDelayMs ?? 1_000,
    healthyAfterMs: options.healthyAfterMs ?? 2_000,
    failureRate: options.failureRate ?? 0,
    failureMode: options.failureMode ?? 'unhealthy',
    failingImages: options.failingImages ?? [],
    offlineFraction: options.offlineFraction ?? 0,
    scriptChecks: options.scriptChecks ?? 'run',
    jitter: options.jitter ?? 0.1,
    startSpreadMs: options.startSpreadMs ?? 1_000,
    concurrency: options.concurrency ?? 64,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    logger: options.logger ?? silentLogger(),
  };
  validate(resolved);
  return resolved;
}

function validate(options: ResolvedOptions): void {
  let url: URL;
  try {
    url = new URL(options.apiUrl);
  } catch (cause) {
    throw new ConfigError(`apiUrl "${options.apiUrl}" is not a URL`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`apiUrl must be http or https, got "${options.apiUrl}"`);
  }
  const count = options.register?.count ?? 0;
  requireInteger('devices', count, 0, 1_000_000);
  if (count + options.attach.length === 0) throw new ConfigError('no devices to simulate');
  const uuids = new Set(options.attach.map((device) => device.uuid));
  if (uuids.size < options.attach.length) throw new ConfigError('attach lists a device twice');
  requireFraction('failureRate', options.failureRate);
  requireFraction('offlineFraction', options.offlineFraction);
  if (options.failureRate + options.offlineFraction > 1) {
    throw new ConfigError('failureRate and offlineFraction add up to more than 1');
  }
  requireFraction('jitter', options.jitter);
  if (options.scriptChecks !== 'run' && options.scriptChecks !== 'pass') {
    throw new ConfigError('scriptChecks must be run or pass');
  }
  if (!['unhealthy', 'exited', 'stuck', 'mixed'].includes(options.failureMode)) {
    throw new ConfigError(`failureMode must be unhealthy, exited, stuck or mixed`);
  }
  if (options.pollIntervalMs !== undefined) requireDuration('pollInterval', options.pollIntervalMs);
  requireInteger('longPollSeconds', options.longPollSeconds, 0, 3600);
  requireDuration('reportInterval', options.reportIntervalMs);
  requireDuration('pullDelay', options.pullDelayMs, 0);
  requireDuration('healthyAfter', options.healthyAfterMs, 0);
  requireDuration('startSpread', options.startSpreadMs, 0);
  requireDuration('requestTimeout', options.requestTimeoutMs);
  requireInteger('concurrency', options.concurrency, 1, 10_000);
}

function requireFraction(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) {
    throw new ConfigError(`${name} must be a fraction from 0 to 1, got ${value}`);
  }
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function requireDuration(name: string, ms: number, min = 1): void {
  if (!Number.isFinite(ms) || ms < min || ms > 86_400_000) {
    throw new ConfigError(`${name} must be from ${min} ms to 24 h, got ${ms} ms`);
  }
}
