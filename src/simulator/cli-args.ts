import { parseArgs } from 'node:util';
import { InvalidImageReference, parseImageReference } from '../api/image-reference.js';
import { UsageError } from '../cli/usage-error.js';
import { ConfigError } from '../config.js';
import type { TargetApps } from '../devices/target-document.js';
import { parseNonNegativeDuration } from '../planner/duration.js';
import type { LabelDistribution } from './fates.js';
import type { FailureMode, SimulatorOptions } from './options.js';

/** Usage of `fleet-rollout simulate`. */
export const SIMULATE_USAGE = `usage: fleet-rollout simulate [flags]

Runs simulated devices against a device API until interrupted (or for --duration).

  --api-url URL            device API (env FLEET_ROLLOUT_API_URL; default http://127.0.0.1:<FLEET_ROLLOUT_PORT>)
  --devices N              devices to register (default 10, or 0 with --credentials)
  --fleet NAME             fleet of the registered devices (default sim)
  --label KEY=V1,V2,...    spread these label values evenly over the devices; repeatable
  --image [APP/SVC=]REF    a service of the initial target; repeatable
                           (default nginx/nginx=docker.io/library/nginx:1.27)
  --credentials FILE       also run the devices in FILE (lines "uuid,apiKey")
  --save-credentials FILE  write the registered devices' credentials to FILE (new file, mode 0600)
  --admin-token-file FILE  admin token for registering (default: env FLEET_ROLLOUT_ADMIN_TOKEN,
                           else the token \`start\` keeps in $FLEET_ROLLOUT_DATA_DIR/admin-token)
  --poll-interval DUR      time between polls (default: what the server advertises)
  --long-poll DUR          long poll with ?wait= instead (whole seconds)
  --report-interval DUR    heartbeat: re-send the state this often (default 30s)
  --pull-delay DUR         time to pull a new image (default 1s)
  --healthy-after DUR      time from start until a new image is healthy or fails (default 2s)
  --failure-rate F         fraction of the devices that fail on new images (default 0)
  --failure-mode MODE      unhealthy | exited | stuck (never healthy) | mixed (default unhealthy)
  --fail-image GLOB        failing devices fail only on images matching GLOB; repeatable
  --offline F              fraction of the devices that never poll nor report (default 0)
  --script-checks MODE     run (Script health checks of the targets run here as child processes)
                           | pass (they count as passed without running) (default run)
  --seed TEXT              seed of the fates and the jitter (default fleet-rollout)
  --concurrency N          requests in flight at most, long polls aside (default 64)
  --summary-interval DUR   print a summary line this often (default 10s)
  --duration DUR           stop after this long

DUR is a number with a unit: 200ms, 2s, 1.5m, 1h.`;

/** What the CLI runs: simulator options plus what only the command does. */
export interface SimulatePlan {
  options: Omit<SimulatorOptions, 'register' | 'attach'>;
  /** Devices to register, when any; the admin token is resolved by the command. */
  register: { count: number; fleet: string; labels: LabelDistribution; apps: TargetApps };
  adminTokenFile: string | undefined;
  credentialsFile: string | undefined;
  saveCredentialsFile: string | undefined;
  summaryIntervalMs: number;
  durationMs: number | undefined;
  help: boolean;
}

const FLAGS = {
  'api-url': { type: 'string' },
  devices: { type: 'string' },
  fleet: { type: 'string' },
  label: { type: 'string', multiple: true },
  image: { type: 'string', multiple: true },
  credentials: { type: 'string' },
  'save-credentials': { type: 'string' },
  'admin-token-file': { type: 'string' },
  'poll-interval': { type: 'string' },
  'long-poll': { type: 'string' },
  'report-interval': { type: 'string' },
  'pull-delay': { type: 'string' },
  'healthy-after': { type: 'string' },
  'failure-rate': { type: 'string' },
  'failure-mode': { type: 'string' },
  'fail-image': { type: 'string', multiple: true },
  offline: { type: 'string' },
  'script-checks': { type: 'string' },
  seed: { type: 'string' },
  concurrency: { type: 'string' },
  'summary-interval': { type: 'string' },
  duration: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DEFAULT_IMAGE = 'nginx/nginx=docker.io/library/nginx:1.27';

/** Parses the flags of `simulate`; `defaultApiUrl` comes from the environment. */
export function parseSimulateArgs(argv: string[], defaultApiUrl: string): SimulatePlan {
  let values: ReturnType<typeof parseFlags>;
  try {
    values = parseFlags(argv);
  } catch (cause) {
    throw new UsageError(
      `simulate: ${(cause as Error).message} (fleet-rollout simulate --help lists the flags)`,
      { cause },
    );
  }
  const optional = <T>(name: keyof typeof values, parse: (text: string, name: string) => T) => {
    const text = values[name];
    return typeof text === 'string' ? parse(text, `--${name}`) : undefined;
  };
  const credentialsFile = values.credentials;
  return {
    options: {
      apiUrl: values['api-url'] ?? defaultApiUrl,
      seed: values.seed,
      pollIntervalMs: optional('poll-interval', parseDuration),
      longPollSeconds: optional('long-poll', (text, name) =>
        wholeSeconds(parseDuration(text, name), name),
      ),
      reportIntervalMs: optional('report-interval', parseDuration),
      pullDelayMs: optional('pull-delay', parseDuration),
      healthyAfterMs: optional('healthy-after', parseDuration),
      failureRate: optional('failure-rate', parseFraction),
      failureMode: optional('failure-mode', parseFailureMode),
      failingImages: values['fail-image'],
      offlineFraction: optional('offline', parseFraction),
      scriptChecks: optional('script-checks', parseScriptChecks),
      concurrency: optional('concurrency', parseCount),
    },
    register: {
      count: optional('devices', parseCount) ?? (credentialsFile === undefined ? 10 : 0),
      fleet: values.fleet ?? 'sim',
      labels: Object.fromEntries((values.label ?? []).map(parseLabel)),
      apps: parseImages(values.image ?? [DEFAULT_IMAGE]),
    },
    adminTokenFile: values['admin-token-file'],
    credentialsFile,
    saveCredentialsFile: values['save-credentials'],
    summaryIntervalMs: optional('summary-interval', parseDuration) ?? 10_000,
    durationMs: optional('duration', parseDuration),
    help: values.help ?? false,
  };
}

function parseScriptChecks(text: string, name: string): 'run' | 'pass' {
  if (text === 'run' || text === 'pass') return text;
  throw new ConfigError(`${name} must be run or pass, got "${text}"`);
}

function parseFlags(argv: string[]) {
  return parseArgs({ args: argv, options: FLAGS, allowPositionals: false, strict: true }).values;
}

/** A flag's Go-style duration (`200ms`, `2s`, `1m30s`) in whole milliseconds; throws ConfigError. */
export function parseDuration(text: string, name = 'duration'): number {
  try {
    return Math.round(parseNonNegativeDuration(text));
  } catch {
    throw new ConfigError(`${name} must be a duration like 200ms, 2s or 1m, got "${text}"`);
  }
}

function wholeSeconds(ms: number, name: string): number {
  if (ms % 1000 !== 0) throw new ConfigError(`${name} must be whole seconds, got ${ms} ms`);
  return ms / 1000;
}

function parseFraction(text: string, name: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value <= 1)) {
    throw new ConfigError(`${name} must be a fraction from 0 to 1, got "${text}"`);
  }
  return value;
}

function parseCount(text: string, name: string): number {
  if (!/^\d{1,7}$/.test(text))
    throw new ConfigError(`${name} must be a whole number, got "${text}"`);
  return Number(text);
}

function parseFailureMode(text: string, name: string): FailureMode | 'mixed' {
  if (text === 'unhealthy' || text === 'exited' || text === 'stuck' || text === 'mixed')
    return text;
  throw new ConfigError(`${name} must be unhealthy, exited, stuck or mixed, got "${text}"`);
}

/** `site=a,b,c` → `['site', ['a', 'b', 'c']]`. */
function parseLabel(text: string): [string, string[]] {
  const equals = text.indexOf('=');
  const values = text.slice(equals + 1).split(',');
  if (equals < 1 || values.some((value) => value === '')) {
    throw new ConfigError(`--label must look like key=value1,value2, got "${text}"`);
  }
  return [text.slice(0, equals), values];
}

/** `[app/service=]reference` flags → a target document; the default name is the repository's last part. */
export function parseImages(flags: readonly string[]): TargetApps {
  const apps: TargetApps = {};
  for (const flag of flags) {
    const equals = flag.indexOf('=');
    const image = flag.slice(equals + 1);
    let repository: string;
    try {
      repository = parseImageReference(image).repository;
    } catch (error) {
      if (!(error instanceof InvalidImageReference)) throw error;
      throw new ConfigError(`--image "${flag}": ${error.message}`, { cause: error });
    }
    const base = repository.slice(repository.lastIndexOf('/') + 1);
    const [app, service, ...extra] = equals < 0 ? [base, base] : flag.slice(0, equals).split('/');
    if (!app || !service || extra.length > 0) {
      throw new ConfigError(`--image must look like app/service=reference, got "${flag}"`);
    }
    apps[app] ??= { services: {} };
    apps[app].services[service] = { image };
  }
  return apps;
}
