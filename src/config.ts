import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './http/timeouts.js';
import { parseDuration } from './planner/duration.js';
import { isRegistryKind, REGISTRY_KINDS, type RegistryKind } from './webhooks/push.js';

/** Thrown when the environment holds a value that cannot be used; the message names the variable. */
export class ConfigError extends Error {}

/** The validated configuration of every role, parsed once from the environment. */
export interface Config {
  /** Postgres connection string; undefined means embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  /** Where embedded state (PGlite, generated tokens, kubeconfig) lives. */
  dataDir: string;
  logLevel: string;
  /** The HTTP server of the roles (`timeouts` also apply to the local API server). */
  http: { host: string; port: number; timeouts: HttpTimeouts };
  /** Where /metrics is served: on its own port when `port` is set, else on the HTTP port. */
  metrics: { host: string; port: number | undefined };
  devices: {
    /** Admin bearer token; undefined means `start` generates one under dataDir. */
    adminToken: string | undefined;
    /** Seconds a device should wait between polls, announced in a response header. */
    pollIntervalSeconds: number;
    /** Upper bound for `?wait=` long polls, in seconds. */
    maxLongPollSeconds: number;
    /** Device requests get 503 + Retry-After while the event loop is this many ms late; 0: never. */
    shedLagMs: number;
  };
  webhooks: WebhookConfig;
  kube: KubeSettings;
  apiserver: ApiServerConfig;
  controller: {
    /** Every rollout and policy is reconciled again this often, whatever was heard. */
    resyncSeconds: number;
    /** Rollouts and policies reconciled at once. */
    concurrency: number;
  };
  /** Event log entries older than `retentionMs` are deleted (by every process, in batches). */
  eventLog: { retentionMs: number };
  /**
   * Whether `device-api` also serves the management REST API on its port (it then needs a
   * Kubernetes API); `start` always serves it.
   */
  management: { enabled: boolean };
  simulator: {
    /** Device API the `simulate` command talks to; undefined means this host's FLEET_ROLLOUT_PORT. */
    apiUrl: string | undefined;
  };
}

/** How to reach the Kubernetes API and how the controller elects its leader. */
export interface KubeSettings {
  /** `KUBECONFIG` (one path or several joined by the path delimiter); wins over in-cluster. */
  kubeconfig: string | undefined;
  /** Running in a pod (`KUBERNETES_SERVICE_HOST` set): use its service account. */
  inCluster: boolean;
  /** The one namespace whose policies and rollouts are watched; undefined means every namespace. */
  namespace: string | undefined;
  leaderElection: {
    /** False runs the controller without a Lease (one replica only). */
    enabled: boolean;
    /** Namespace and name of the controller's coordination.k8s.io/v1 Lease. */
    namespace: string;
    leaseName: string;
    /** Unique per process: hostname plus a random suffix unless set. */
    identity: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
}

/** The local Kubernetes-compatible API server. */
export interface ApiServerConfig {
  /** Whether `start` runs it; by default when neither KUBECONFIG nor an in-cluster config is set. */
  enabled: boolean;
  host: string;
  port: number;
  /** Bearer token; undefined means one is generated and kept under dataDir. */
  token: string | undefined;
  /** How long watches can resume from an old resourceVersion (change log retention). */
  watchRetentionSeconds: number;
  /** How long an event is kept after it was last seen. */
  eventTtlSeconds: number;
}

/** A secret value that prints as `[redacted]` in logs, JSON and inspection; `reveal()` reads it. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

/** The registry webhook receiver: secrets per registry, limits, digest resolution. */
export interface WebhookConfig {
  /** The secret of each registry that has one: HMAC key, Authorization token or path token. */
  secrets: Partial<Record<RegistryKind, Secret>>;
  /** Google Pub/Sub push OIDC tokens; undefined when GAR is not configured. */
  gar: { audience: string; serviceAccount: string; jwksUrl: string } | undefined;
  /** Registries explicitly accepted without any authenticity check (when they have no secret). */
  insecureRegistries: RegistryKind[];
  bodyLimitBytes: number;
  rateLimit: { perMinute: number; burst: number };
  /** How long a delivery id counts as seen. */
  dedupeWindowSeconds: number;
  /** Tag → digest resolution: request timeout, and registries spoken to over plain HTTP. */
  resolve: { timeoutMs: number; plainHttpRegistries: string[] };
}

type Env = Record<string, string | undefined>;

/** Parses and validates the environment; throws ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): Config {
  return {
    databaseUrl: optionalString(env, 'DATABASE_URL'),
    dataDir: resolve(optionalString(env, 'FLEET_ROLLOUT_DATA_DIR') ?? '.fleet-rollout'),
    logLevel: oneOf(env, 'FLEET_ROLLOUT_LOG_LEVEL', LOG_LEVELS, 'info'),
    http: {
      host: optionalString(env, 'FLEET_ROLLOUT_HOST') ?? '0.0.0.0',
      port: integer(env, 'FLEET_ROLLOUT_PORT', 8080, 0, 65535),
      timeouts: httpTimeouts(env),
    },
    metrics: {
      host: optionalString(env, 'FLEET_ROLLOUT_METRICS_HOST') ?? '0.0.0.0',
      port: env.FLEET_ROLLOUT_METRICS_PORT
        ? integer(env, 'FLEET_ROLLOUT_METRICS_PORT', 0, 0, 65535)
        : undefined,
    },
    devices: {
      // A missing token file is an error: `start` would otherwise generate a different token.
      adminToken: secret(env, 'FLEET_ROLLOUT_ADMIN_TOKEN', 16),
      pollIntervalSeconds: integer(env, 'FLEET_ROLLOUT_POLL_INTERVAL_SECONDS', 60, 1, 86400),
      maxLongPollSeconds: integer(env, 'FLEET_ROLLOUT_MAX_LONG_POLL_SECONDS', 300, 0, 3600),
      shedLagMs: integer(env, 'FLEET_ROLLOUT_DEVICE_SHED_LAG_MS', 1000, 0, 600_000),
    },
    webhooks: webhookConfig(env),
    kube: loadKubeSettings(env),
    apiserver: loadApiServerConfig(env),
    controller: {
      resyncSeconds: integer(env, 'FLEET_ROLLOUT_RESYNC_SECONDS', 60, 1, 86400),
      concurrency: integer(env, 'FLEET_ROLLOUT_CONTROLLER_CONCURRENCY', 4, 1, 64),
    },
    eventLog: { retentionMs: eventLogRetention(env) },
    management: {
      enabled: oneOf(env, 'FLEET_ROLLOUT_MANAGEMENT_API', BOOLEANS, 'false') === 'true',
    },
    simulator: { apiUrl: optionalString(env, 'FLEET_ROLLOUT_API_URL') },
  };
}

/** The prefix of this product's environment variables; unknown ones are reported at start-up. */
export const ENV_PREFIX = 'FLEET_ROLLOUT_';

/**
 * Every environment variable loadConfig reads, found by loading the defaults through an
 * environment that records each name asked for (loadConfig reads every variable on every call).
 */
export function knownVariables(): ReadonlySet<string> {
  const read = new Set<string>();
  const recorder = new Proxy<Env>(
    {},
    {
      get(_target, name) {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    },
  );
  loadConfig(recorder);
  return read;
}

/** An environment variable with the product's prefix that nothing reads, and the closest known. */
export interface UnknownVariable {
  name: string;
  suggestion: string | undefined;
}

/** The `FLEET_ROLLOUT_*` variables of `env` that no setting reads (a typo, or an old name). */
export function unknownVariables(env: Env = process.env): UnknownVariable[] {
  const known = [...knownVariables()];
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.includes(name))
    .sort()
    .map((name) => ({ name, suggestion: closest(name, known) }));
}

/** The known name nearest to `name` by edit distance, when it is near enough to be a typo. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const suffix = name.length - ENV_PREFIX.length;
  return bestDistance <= Math.max(2, Math.floor(suffix / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        substitution,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

const EVENT_LOG_RETENTION = 'FLEET_ROLLOUT_EVENT_LOG_RETENTION';
const HOUR_MS = 3_600_000;

/** A duration (`720h`, `90m`) or whole days (`30d`) of at least an hour; default 30 days. */
function eventLogRetention(env: Env): number {
  const raw = optionalString(env, EVENT_LOG_RETENTION);
  if (raw === undefined) return 30 * 24 * HOUR_MS;
  const days = /^(\d{1,5})d$/.exec(raw);
  let ms: number;
  try {
    ms = days ? Number(days[1]) * 24 * HOUR_MS : parseDuration(raw);
  } catch {
    ms = Number.NaN;
  }
  if (!(ms >= HOUR_MS)) {
    throw new ConfigError(
      `${EVENT_LOG_RETENTION} must be a duration of at least 1h, such as 720h or 30d, got "${raw}"`,
    );
  }
  return ms;
}

function httpTimeouts(env: Env): HttpTimeouts {
  const seconds = (name: string, fallbackMs: number) =>
    integer(env, `FLEET_ROLLOUT_HTTP_${name}_TIMEOUT_SECONDS`, fallbackMs / 1000, 1, 3600) * 1000;
  const timeouts = {
    headersMs: seconds('HEADERS', DEFAULT_HTTP_TIMEOUTS.headersMs),
    requestMs: seconds('REQUEST', DEFAULT_HTTP_TIMEOUTS.requestMs),
    bodyIdleMs: seconds('BODY_IDLE', DEFAULT_HTTP_TIMEOUTS.bodyIdleMs),
  };
  if (timeouts.headersMs > timeouts.requestMs) {
    throw new ConfigError(
      'FLEET_ROLLOUT_HTTP_HEADERS_TIMEOUT_SECONDS must not exceed FLEET_ROLLOUT_HTTP_REQUEST_TIMEOUT_SECONDS',
    );
  }
  return timeouts;
}

function loadKubeSettings(env: Env): KubeSettings {
  const seconds = (name: string, fallback: number) => integer(env, name, fallback, 1, 3600) * 1000;
  const leaseDurationMs = seconds('FLEET_ROLLOUT_LEASE_DURATION_SECONDS', 15);
  const renewDeadlineMs = seconds('FLEET_ROLLOUT_RENEW_DEADLINE_SECONDS', 10);
  const retryPeriodMs = seconds('FLEET_ROLLOUT_RETRY_PERIOD_SECONDS', 2);
  // A leader may believe it leads until retry + renew deadline after its last renew, and a
  // standby takes over lease duration after it: the first must end before the second. The renew
  // deadline must also leave room for a jittered retry (client-go's 1.2 factor).
  if (
    retryPeriodMs + renewDeadlineMs >= leaseDurationMs ||
    renewDeadlineMs <= 1.2 * retryPeriodMs
  ) {
    throw new ConfigError(
      'FLEET_ROLLOUT_RETRY_PERIOD_SECONDS + FLEET_ROLLOUT_RENEW_DEADLINE_SECONDS < FLEET_ROLLOUT_LEASE_DURATION_SECONDS and FLEET_ROLLOUT_RENEW_DEADLINE_SECONDS > 1.2 × FLEET_ROLLOUT_RETRY_PERIOD_SECONDS must hold',
    );
  }
  return {
    kubeconfig: optionalString(env, 'KUBECONFIG'),
    inCluster: optionalString(env, 'KUBERNETES_SERVICE_HOST') !== undefined,
    namespace: watchNamespace(env),
    leaderElection: {
      enabled: oneOf(env, 'FLEET_ROLLOUT_LEADER_ELECT', BOOLEANS, 'true') === 'true',
      namespace: optionalString(env, 'FLEET_ROLLOUT_LEASE_NAMESPACE') ?? 'default',
      leaseName: optionalString(env, 'FLEET_ROLLOUT_LEASE_NAME') ?? 'fleet-rollout-controller',
      identity:
        optionalString(env, 'FLEET_ROLLOUT_LEADER_IDENTITY') ??
        `${hostname()}_${randomUUID().slice(0, 8)}`,
      leaseDurationMs,
      renewDeadlineMs,
      retryPeriodMs,
    },
  };
}

/** FLEET_ROLLOUT_NAMESPACE: a namespace name (an RFC 1123 label) or unset. */
function watchNamespace(env: Env): string | undefined {
  const namespace = optionalString(env, 'FLEET_ROLLOUT_NAMESPACE');
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new ConfigError(
      `FLEET_ROLLOUT_NAMESPACE must be a namespace name (lower-case letters, digits and -), got "${namespace}"`,
    );
  }
  return namespace;
}

function loadApiServerConfig(env: Env): ApiServerConfig {
  const external =
    optionalString(env, 'KUBECONFIG') ?? optionalString(env, 'KUBERNETES_SERVICE_HOST');
  const enabled = oneOf(
    env,
    'FLEET_ROLLOUT_APISERVER_ENABLED',
    BOOLEANS,
    external ? 'false' : 'true',
  );
  return {
    enabled: enabled === 'true',
    host: optionalString(env, 'FLEET_ROLLOUT_APISERVER_HOST') ?? '127.0.0.1',
    port: integer(env, 'FLEET_ROLLOUT_APISERVER_PORT', 6443, 0, 65535),
    token: optionalString(env, 'FLEET_ROLLOUT_APISERVER_TOKEN'),
    watchRetentionSeconds: integer(
      env,
      'FLEET_ROLLOUT_APISERVER_WATCH_RETENTION_SECONDS',
      600,
      10,
      604800,
    ),
    eventTtlSeconds: integer(env, 'FLEET_ROLLOUT_APISERVER_EVENT_TTL_SECONDS', 3600, 60, 2592000),
  };
}

const BOOLEANS = ['true', 'false'] as const;

const WEBHOOK = 'FLEET_ROLLOUT_WEBHOOK_';
/** Registries that can only send a secret in the URL path: their tokens must be long and URL-safe. */
const PATH_TOKEN_REGISTRIES: readonly RegistryKind[] = ['dockerhub', 'quay'];
const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';

function webhookConfig(env: Env): WebhookConfig {
  const secrets: WebhookConfig['secrets'] = {};
  for (const kind of REGISTRY_KINDS) {
    if (kind === 'gar') continue;
    const value = webhookSecret(env, `${WEBHOOK}${kind.toUpperCase()}_SECRET`, kind);
    if (value) secrets[kind] = value;
  }
  return {
    secrets,
    gar: garConfig(env),
    insecureRegistries: list(env, `${WEBHOOK}INSECURE_REGISTRIES`).map((kind) => {
      if (isRegistryKind(kind)) return kind;
      throw new ConfigError(`${WEBHOOK}INSECURE_REGISTRIES: unknown registry "${kind}"`);
    }),
    bodyLimitBytes: integer(env, `${WEBHOOK}BODY_LIMIT_BYTES`, 1_048_576, 1024, 16_777_216),
    rateLimit: {
      perMinute: integer(env, `${WEBHOOK}RATE_LIMIT_PER_MINUTE`, 300, 1, 1_000_000),
      burst: integer(env, `${WEBHOOK}RATE_LIMIT_BURST`, 100, 1, 1_000_000),
    },
    dedupeWindowSeconds: integer(env, `${WEBHOOK}DEDUPE_WINDOW_SECONDS`, 86_400, 60, 31_536_000),
    resolve: {
      timeoutMs: integer(env, `${WEBHOOK}RESOLVE_TIMEOUT_MS`, 5000, 100, 60_000),
      plainHttpRegistries: list(env, `${WEBHOOK}PLAIN_HTTP_REGISTRIES`),
    },
  };
}

/**
 * A registry's webhook secret; path tokens (Docker Hub, Quay) must be long and URL-safe. A `_FILE`
 * that does not exist (its key is absent from the mounted Secret) means the registry has none.
 */
function webhookSecret(env: Env, name: string, kind: RegistryKind): Secret | undefined {
  const pathToken = PATH_TOKEN_REGISTRIES.includes(kind);
  const value = secret(env, name, pathToken ? 32 : 16, { missingFile: 'unset' });
  if (value === undefined) return undefined;
  if (pathToken && !/^[A-Za-z0-9._~-]+$/.test(value)) {
    throw new ConfigError(`${name} goes into a URL path: use only letters, digits and . _ ~ -`);
  }
  return new Secret(value);
}

function garConfig(env: Env): WebhookConfig['gar'] {
  const audience = optionalString(env, `${WEBHOOK}GAR_AUDIENCE`);
  const serviceAccount = optionalString(env, `${WEBHOOK}GAR_SERVICE_ACCOUNT`);
  // Read before deciding, so that every variable loadConfig knows is read (knownVariables).
  const jwksUrl = optionalString(env, `${WEBHOOK}GAR_JWKS_URL`) ?? GOOGLE_JWKS_URL;
  if (!audience && !serviceAccount) return undefined;
  if (!audience || !serviceAccount) {
    throw new ConfigError(`set both ${WEBHOOK}GAR_AUDIENCE and ${WEBHOOK}GAR_SERVICE_ACCOUNT`);
  }
  if (!URL.canParse(jwksUrl)) throw new ConfigError(`${WEBHOOK}GAR_JWKS_URL must be a URL`);
  return { audience, serviceAccount, jwksUrl };
}

/** A comma-separated list; empty when unset. */
function list(env: Env, name: string): string[] {
  return (optionalString(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Returns the variable's value, treating an empty string as unset. */
export function optionalString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * A secret from `<name>`, or from the file `<name>_FILE` names (a mounted Secret), of at least
 * `minLength` characters; undefined when neither is set. A `_FILE` naming a file that does not
 * exist is an error, or counts as unset with `missingFile: 'unset'` (a key missing from an
 * optional Secret volume); a file that exists but cannot be read is always an error. Error
 * messages never echo the value.
 */
export function secret(
  env: Env,
  name: string,
  minLength: number,
  options: { missingFile?: 'unset' | 'error' } = {},
): string | undefined {
  const inline = optionalString(env, name);
  const file = optionalString(env, `${name}_FILE`);
  if (inline && file) throw new ConfigError(`set ${name} or ${name}_FILE, not both`);
  const value = file ? secretFile(name, file, options.missingFile ?? 'error') : inline;
  if (value !== undefined && value.length < minLength) {
    throw new ConfigError(`${name} must be at least ${minLength} characters long`);
  }
  return value;
}

/** The trimmed content of `<name>_FILE`; undefined when it is empty, or missing and allowed to be. */
function secretFile(name: string, file: string, missing: 'unset' | 'error'): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch (cause) {
    if (missing === 'unset' && (cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`${name}_FILE: cannot read ${file}`, { cause });
  }
}

/** Parses an integer variable within [min, max], or returns the default when unset. */
export function integer(env: Env, name: string, fallback: number, min: number, max: number) {
  const raw = optionalString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Parses a variable restricted to a fixed set of values. */
export function oneOf<T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = optionalString(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}
