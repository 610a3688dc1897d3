import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageRollout } from '../../src/api/types.js';
import { writeKubeconfig } from '../../src/apiserver/kubeconfig.js';
import { loadOrCreateCertificate, localHosts } from '../../src/apiserver/tls.js';
import { openDatabase } from '../../src/db/client.js';
import { createDatabase } from '../../src/db/databases.js';
import { type Simulator, startSimulator } from '../../src/simulator/simulator.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { queryOnce } from '../support/database.js';
import { type HttpsTarget, httpsRequest } from '../support/https-request.js';
import {
  type RoleOptions,
  type RoleProcess,
  spawnRole,
  startRole,
} from '../support/role-process.js';
import { DeviceGateway } from './device-gateway.js';
import { freePort, type PostgresServer, startPostgresServer } from './postgres-server.js';

/** The controllers' Lease (the default name, in the default namespace). */
export const LEASE = { namespace: 'default', name: 'fleet-rollout-controller' };
/** The webhook receiver's secret for the generic (CI) format. */
const WEBHOOK_SECRET = 'fault-suite-generic-webhook-secret';
const ROLLOUTS = '/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagerollouts';

/** The roles of a split deployment, by the name each process runs under. */
export type RoleName =
  | 'apiserver'
  | 'controller-a'
  | 'controller-b'
  | 'device-api-1'
  | 'device-api-2'
  | 'webhooks';

export const ROLE_NAMES: RoleName[] = [
  'apiserver',
  'controller-a',
  'controller-b',
  'device-api-1',
  'device-api-2',
  'webhooks',
];

/**
 * The product split as an operator runs it, every role a process of its own on a Postgres the
 * test owns: the local API server, two leader-elected controllers, two device-API replicas
 * behind a recording gateway, the webhook receiver. `device_reports` carries a trigger that logs
 * every stored report, so the test can compare what devices were told with what was written.
 */
export interface FaultDeployment {
  postgres: PostgresServer;
  /** The product's database. */
  databaseUrl: string;
  /** Logs and data directories. */
  dir: string;
  gateway: DeviceGateway;
  /** The local API server, as a client of it (its URL, certificate and token). */
  kube: HttpsTarget;
  /** The process currently running each role. */
  roles: Map<RoleName, RoleProcess>;
  /** Every process started so far, killed ones included. */
  started: RoleProcess[];
  /** SIGKILLs the role's process (a device-API replica leaves the gateway first). */
  kill(name: RoleName): Promise<void>;
  /** Starts the role again; resolves once it is ready (a device-API replica rejoins the gateway). */
  restart(name: RoleName): Promise<RoleProcess>;
  /** Spawns the role without waiting; `ready` settles when it is. */
  spawn(name: RoleName): { process: RoleProcess; ready: Promise<void> };
  /** Reads through the API server: `undefined` on a 404, an Error on any other failure. */
  get<T>(path: string): Promise<T | undefined>;
  /** Posts a delivery in the receiver's generic format; answers its status and Retry-After. */
  push(tag: string, digest: string): Promise<{ status: number; retryAfter: string | undefined }>;
  /** Every ImageRollout of the namespace. */
  rollouts(): Promise<ImageRollout[]>;
  /** Registers and starts `count` simulated devices through the gateway. */
  simulate(count: number, image: string): Promise<Simulator>;
  /** Reports stored per device (the trigger's log). */
  storedReports(): Promise<Map<string, number>>;
  /** Runs one query on the product's database. */
  query<Row>(text: string, values?: unknown[]): Promise<Row[]>;
  stop(): Promise<void>;
}

/** Short lease timings, as the cluster tier uses: a failover takes seconds, not a minute. */
const LEASE_TIMINGS = {
  FLEET_ROLLOUT_LEASE_DURATION_SECONDS: '5',
  FLEET_ROLLOUT_RENEW_DEADLINE_SECONDS: '3',
  FLEET_ROLLOUT_RETRY_PERIOD_SECONDS: '1',
  FLEET_ROLLOUT_RESYNC_SECONDS: '10',
};

const REPORT_LOG = `
  create table fault_report_log (
    device_uuid uuid not null,
    stored_at timestamptz not null default clock_timestamp()
  );
  create function fault_log_report() returns trigger language plpgsql as $$
    begin insert into fault_report_log (device_uuid) values (new.device_uuid); return new; end
  $$;
  create trigger fault_log_report after insert or update on device_reports
    for each row execute function fault_log_report();`;

/**
 * Starts Postgres, migrates, and starts every role (the API server first: it writes the
 * kubeconfig). With `databaseDown`, Postgres is stopped before any role starts and nothing is
 * migrated: the roles are spawned at once (`ready` tells when each is) and must wait for it;
 * their kubeconfig is written beforehand, with the API server's certificate and token.
 */
export async function deployForFaults(
  options: { databaseDown?: boolean } = {},
): Promise<FaultDeployment & { ready: Promise<void>[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-fault-'));
  const postgres = await startPostgresServer();
  const gateway = await DeviceGateway.start();
  const databaseUrl = await createDatabase(postgres.url(), 'fleet');
  const query = <Row>(text: string, values: unknown[] = []) =>
    queryOnce<Row>(databaseUrl, text, values);
  if (!options.databaseDown) {
    const database = await openDatabase({ url: databaseUrl, logger: silentLogger() });
    await database.migrate();
    await database.close();
    await query(REPORT_LOG);
  }

  const apiserverPort = await freePort();
  const apiserverToken = randomBytes(24).toString('hex');
  const adminToken = randomBytes(24).toString('hex');
  const kubeconfig = join(dir, 'apiserver', 'kubeconfig');
  const shared = { DATABASE_URL: databaseUrl, FLEET_ROLLOUT_LOG_LEVEL: 'info' };
  const optionsOf = (name: RoleName): RoleOptions => {
    const dataDir = join(dir, name);
    mkdirSync(dataDir, { recursive: true });
    const base = { name, logDir: dir, timeoutMs: 180_000 };
    if (name === 'apiserver') {
      return {
        ...base,
        role: 'apiserver',
        env: {
          ...shared,
          FLEET_ROLLOUT_DATA_DIR: dataDir,
          FLEET_ROLLOUT_APISERVER_PORT: String(apiserverPort),
          FLEET_ROLLOUT_APISERVER_TOKEN: apiserverToken,
        },
        ready: (line) =>
          line.msg === 'local Kubernetes API server listening' ? String(line.url) : undefined,
      };
    }
    if (name.startsWith('controller')) {
      return {
        ...base,
        role: 'controller',
        env: {
          ...shared,
          ...LEASE_TIMINGS,
          KUBECONFIG: kubeconfig,
          FLEET_ROLLOUT_DATA_DIR: dataDir,
          FLEET_ROLLOUT_LEADER_IDENTITY: name,
        },
      };
    }
    if (name.startsWith('device-api')) {
      return {
        ...base,
        role: 'device-api',
        env: { ...shared, FLEET_ROLLOUT_ADMIN_TOKEN: adminToken, FLEET_ROLLOUT_DATA_DIR: dataDir },
      };
    }
    return {
      ...base,
      role: 'webhooks',
      env: {
        ...shared,
        KUBECONFIG: kubeconfig,
        FLEET_ROLLOUT_DATA_DIR: dataDir,
        FLEET_ROLLOUT_WEBHOOK_GENERIC_SECRET: WEBHOOK_SECRET,
      },
    };
  };

  const roles = new Map<RoleName, RoleProcess>();
  const started: RoleProcess[] = [];
  const simulators: Simulator[] = [];
  const spawn = (name: RoleName) => {
    const spawned = spawnRole(optionsOf(name));
    roles.set(name, spawned.process);
    started.push(spawned.process);
    const ready = spawned.ready.then((url) => {
      if (name.startsWith('device-api')) gateway.backends.push(url);
    });
    return { process: spawned.process, ready };
  };
  const restart = async (name: RoleName) => {
    const spawned = spawn(name);
    await spawned.ready;
    return spawned.process;
  };
  const kill = async (name: RoleName) => {
    const role = roles.get(name);
    if (!role) return;
    gateway.backends = gateway.backends.filter((url) => url !== role.url);
    await role.kill();
  };
  const certificate = () => readFileSync(join(dir, 'apiserver', 'apiserver', 'tls.crt'), 'utf8');
  let kube: HttpsTarget = { url: '', certificate: '', token: apiserverToken };
  const stop = async () => {
    await Promise.all(simulators.map((simulator) => simulator.stop()));
    await Promise.all([...roles.values()].map((role) => role.stop()));
    await gateway.stop();
    await postgres.destroy();
    rmSync(dir, { recursive: true, force: true });
  };

  const ready: Promise<void>[] = [];
  try {
    if (options.databaseDown) {
      const tls = await loadOrCreateCertificate(
        join(dir, 'apiserver', 'apiserver'),
        localHosts('127.0.0.1'),
      );
      const server = `https://127.0.0.1:${apiserverPort}`;
      await writeKubeconfig(kubeconfig, { server, token: apiserverToken, certificate: tls.cert });
      kube = { url: server, certificate: tls.cert, token: apiserverToken };
      await postgres.stop();
      ready.push(...ROLE_NAMES.map((name) => spawn(name).ready));
    } else {
      const apiserver = await startRole(optionsOf('apiserver'));
      roles.set('apiserver', apiserver);
      started.push(apiserver);
      kube = { url: apiserver.url, certificate: certificate(), token: apiserverToken };
      await Promise.all(ROLE_NAMES.filter((name) => name !== 'apiserver').map((n) => restart(n)));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const get = async <T>(path: string): Promise<T | undefined> => {
    const answer = await httpsRequest(kube, 'GET', path);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.text}`);
    return JSON.parse(answer.text) as T;
  };
  return {
    ready,
    postgres,
    databaseUrl,
    dir,
    gateway,
    kube,
    roles,
    started,
    kill,
    restart,
    spawn,
    get,
    async push(tag, digest) {
      const webhooks = roles.get('webhooks');
      const answer = await fetch(`${webhooks?.url}/api/v1/webhooks/generic`, {
        method: 'POST',
        headers: { authorization: `Bearer ${WEBHOOK_SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ image: 'ghcr.io/acme/app', tag, digest, id: `push-${tag}` }),
      });
      await answer.arrayBuffer();
      return { status: answer.status, retryAfter: answer.headers.get('retry-after') ?? undefined };
    },
    async rollouts() {
      return (await get<{ items: ImageRollout[] }>(ROLLOUTS))?.items ?? [];
    },
    async simulate(count, image) {
      const simulator = await startSimulator({
        apiUrl: gateway.url,
        register: {
          count,
          adminToken,
          fleet: 'fault',
          apps: { edge: { services: { app: { image } } } },
        },
        longPollSeconds: 20,
        pollIntervalMs: 5_000,
        reportIntervalMs: 8_000,
        pullDelayMs: 500,
        healthyAfterMs: 500,
        startSpreadMs: 2_000,
        concurrency: 32,
        seed: 'fault-suite',
      });
      simulators.push(simulator);
      return simulator;
    },
    async storedReports() {
      const rows = await query<{ device_uuid: string; stored: number }>(
        'select device_uuid, count(*)::int as stored from fault_report_log group by device_uuid',
      );
      return new Map(rows.map((row) => [row.device_uuid, row.stored]));
    },
    query,
    stop,
  };
}
