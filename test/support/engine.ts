import { sql } from 'drizzle-orm';
import type { Registry } from 'prom-client';
import { expect, vi } from 'vitest';
import type {
  ImagePolicy,
  ImagePolicySpec,
  ImageRollout,
  ImageRolloutSpec,
} from '../../src/api/types.js';
import type { ApiServer } from '../../src/apiserver/index.js';
import { FleetController } from '../../src/controller/fleet-controller.js';
import { type Database, openDatabase } from '../../src/db/client.js';
import { queryRows } from '../../src/db/rows.js';
import { createKubePort, loadKubeConfig, tokenConnection } from '../../src/kube/client-node.js';
import type { KubePort } from '../../src/kube/port.js';
import type { Registration, SimulatorOptions } from '../../src/simulator/options.js';
import { type Simulator, startSimulator } from '../../src/simulator/simulator.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { clientOf, startTestServer } from './apiserver.js';
import { TEST_NOTIFICATION_TIMINGS } from './controller-process.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { ADMIN_TOKEN, startDeviceApi, type TestDeviceApi } from './device-api.js';
import { TcpProxy } from './tcp-proxy.js';

/** A clock the controller reads; tests move it forward instead of sleeping. */
export class ShiftedClock {
  offsetMs = 0;
  now = () => new Date(Date.now() + this.offsetMs);
}

/**
 * The whole product in this process on one database: the local API server, the device API and
 * the fleet controller, with helpers to create resources, run simulated devices and wait.
 */
export interface Engine {
  database: Database;
  /** The Postgres connection string (undefined on PGlite). */
  databaseUrl: string | undefined;
  /**
   * With `proxyDatabase`: the network between Postgres and the device API and controller (the
   * API server reaches Postgres directly, as a separate cluster's would), to cut it.
   */
  databaseProxy: TcpProxy | undefined;
  server: ApiServer;
  kube: KubePort;
  /** The running device API replica (replaced by startDeviceApi after stopDeviceApi). */
  deviceApi: TestDeviceApi & { url: string };
  /** Stops the device API replica, as its process ending would. */
  stopDeviceApi(): Promise<void>;
  /** Starts a new device API replica on the stopped one's port. */
  startDeviceApi(): Promise<void>;
  /** The controller `startEngine` started, if it did. */
  controller: RunningController | undefined;
  clock: ShiftedClock;
  /** Starts a fleet controller in this process (fresh caches, queue and recorder). */
  startController(options?: { onStep?(step: string): void }): RunningController;
  /** Applies an ImagePolicy `name` in `default` with a fleet selector and the given spec. */
  policy(name: string, spec: Partial<ImagePolicySpec>): Promise<ImagePolicy>;
  /** Creates an ImageRollout `name` of `image:tag` for policy `policy`. */
  rollout(
    name: string,
    spec: Partial<ImageRolloutSpec> & { policy: string },
  ): Promise<ImageRollout>;
  /** Reads an ImageRollout. */
  get(name: string): Promise<ImageRollout>;
  /** JSON merge patch of an ImageRollout, as `kubectl patch --type merge` sends it. */
  patch(name: string, patch: object): Promise<void>;
  /** Waits until the rollout's status satisfies `check` (an assertion). */
  until(
    name: string,
    check: (rollout: ImageRollout) => void,
    timeoutMs?: number,
  ): Promise<ImageRollout>;
  /** Runs simulated devices against the device API (short intervals); stopped with the engine. */
  simulate(options: SimulateOptions): Promise<Simulator>;
  /** Event-log entries about `namespace/name`, oldest first. */
  log(
    subject: string,
  ): Promise<Array<{ type: string; payload: Record<string, unknown>; at: number }>>;
  /** Kubernetes Events about an object, as `kubectl get events` lists them. */
  events(name: string): Promise<Array<{ reason: string; type: string; note: string }>>;
  stop(): Promise<void>;
}

/** A fleet controller running in the test process. */
export interface RunningController {
  controller: FleetController;
  /** Where its metrics are registered. */
  registry: Registry;
  /** Stops it and waits for reconciles in flight (like losing the lease). */
  stop(): Promise<void>;
}

/** Simulator options; registered devices get the test admin token. */
export type SimulateOptions = Omit<Partial<SimulatorOptions>, 'register'> & {
  register?: Omit<Registration, 'adminToken'>;
};

/** Starts everything on a fresh database of `backend`; the controller runs until `stop`. */
export async function startEngine(
  backend: 'pglite' | 'postgres',
  options: {
    resyncMs?: number;
    controller?: boolean;
    /** Device API heartbeat and the controller's watch of it (default 2 s). */
    heartbeatIntervalMs?: number;
    /** Postgres only: the device API and controller reach it through `databaseProxy`. */
    proxyDatabase?: boolean;
  } = {},
): Promise<Engine> {
  const test: TestDatabase = await createTestDatabase(backend);
  const server = await startTestServer(test.database);
  const proxied = options.proxyDatabase ? await proxiedDatabase(test) : undefined;
  const database = proxied?.database ?? test.database;
  const kube = createKubePort(loadKubeConfig(tokenConnection(server)));
  const deviceApiOptions = {
    listen: true,
    maxLongPollSeconds: 30,
    progressWindowMs: 50,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
  };
  let deviceApi: (TestDeviceApi & { url: string }) | undefined = await startDeviceApi(
    database,
    deviceApiOptions,
  );
  const deviceApiUrl = deviceApi.url;
  const clock = new ShiftedClock();
  const controllers = new Set<RunningController>();
  const startController = (controllerOptions: { onStep?(step: string): void } = {}) => {
    const registry = createMetricsRegistry({ processMetrics: false });
    const controller = new FleetController({
      database,
      kube,
      logger: silentLogger(),
      registry,
      identity: 'test',
      resyncMs: options.resyncMs ?? 2_000,
      progressDelayMs: 100,
      deviceApiWatchMs: options.heartbeatIntervalMs,
      notifications: TEST_NOTIFICATION_TIMINGS,
      now: clock.now,
      onStep: controllerOptions.onStep,
    });
    const stopping = new AbortController();
    const running = controller.run(stopping.signal);
    const handle: RunningController = {
      controller,
      registry,
      async stop() {
        stopping.abort();
        await running;
        controllers.delete(handle);
      },
    };
    controllers.add(handle);
    return handle;
  };
  const simulators: Simulator[] = [];
  const engine: Engine = {
    database,
    databaseUrl: test.url,
    databaseProxy: proxied?.proxy,
    server,
    kube,
    get deviceApi() {
      if (!deviceApi) throw new Error('the device API is stopped');
      return deviceApi;
    },
    async stopDeviceApi() {
      await deviceApi?.close();
      deviceApi = undefined;
    },
    async startDeviceApi() {
      const port = Number(new URL(deviceApiUrl).port);
      deviceApi = await startDeviceApi(database, { ...deviceApiOptions, port });
    },
    controller: options.controller === false ? undefined : startController(),
    clock,
    startController,
    policy: (name, spec) =>
      kube.imagePolicies.create({
        apiVersion: 'fleet.iotistic.io/v1alpha1',
        kind: 'ImagePolicy',
        metadata: { name, namespace: 'default' },
        spec: { image: 'docker.io/library/nginx', selector: { fleets: ['sim'] }, ...spec },
      }),
    rollout: (name, { policy, ...spec }) =>
      kube.imageRollouts.create({
        apiVersion: 'fleet.iotistic.io/v1alpha1',
        kind: 'ImageRollout',
        metadata: { name, namespace: 'default' },
        spec: {
          policyRef: { name: policy },
          image: 'docker.io/library/nginx',
          tag: '1.28',
          ...spec,
        },
      }),
    async get(name) {
      const rollout = await kube.imageRollouts.get('default', name);
      if (!rollout) throw new Error(`ImageRollout ${name} not found`);
      return rollout;
    },
    async patch(name, patch) {
      await kube.imageRollouts.mergePatch('default', name, patch);
    },
    until: (name, check, timeoutMs = 30_000) =>
      vi.waitFor(
        async () => {
          const rollout = await engine.get(name);
          check(rollout);
          return rollout;
        },
        { timeout: timeoutMs, interval: 100 },
      ),
    async simulate(simulatorOptions) {
      const simulator = await startSimulator({
        apiUrl: deviceApiUrl,
        longPollSeconds: 20,
        pullDelayMs: 30,
        healthyAfterMs: 50,
        reportIntervalMs: 500,
        startSpreadMs: 100,
        concurrency: 128,
        ...simulatorOptions,
        register: simulatorOptions.register && {
          ...simulatorOptions.register,
          adminToken: ADMIN_TOKEN,
        },
      });
      simulators.push(simulator);
      // Every device has seen its first target and reported it.
      await vi.waitFor(
        () => {
          const devices = simulator.devices().filter((d) => d.fate !== 'offline');
          expect(devices.every((d) => d.reports > 0)).toBe(true);
        },
        { timeout: 60_000, interval: 100 },
      );
      return simulator;
    },
    async log(subject) {
      return queryRows(
        database.db,
        sql`select type, payload, (extract(epoch from created_at) * 1000)::float8 as at
            from events where subject = ${subject} order by id`,
      );
    },
    async events(name) {
      const answer = await clientOf(server).get('/apis/events.k8s.io/v1/namespaces/default/events');
      const items = answer.body.items as Array<{
        reason: string;
        type: string;
        note: string;
        regarding: { name: string };
      }>;
      return items.filter((event) => event.regarding.name === name);
    },
    async stop() {
      await Promise.all(simulators.map((simulator) => simulator.stop()));
      await Promise.all([...controllers].map((controller) => controller.stop()));
      await deviceApi?.close();
      await server.close();
      if (proxied) {
        // Cut the proxied connections first: a pool never waits on a connection left half-open
        // by the cut (a clean-up hang seen once under load, cause not found yet).
        await proxied.proxy.stop();
        await proxied.database.close();
      }
      await test.drop();
    },
  };
  return engine;
}

/** The test database opened again through a TCP proxy that can cut it off. */
async function proxiedDatabase(test: TestDatabase) {
  if (!test.url) throw new Error('proxyDatabase needs the postgres backend');
  const direct = new URL(test.url);
  const proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
  const url = new URL(direct);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  const database = await openDatabase({
    url: url.toString(),
    logger: silentLogger(),
    connectTimeoutMs: 2_000,
  });
  return { proxy, database };
}

/** The image every service of a simulated device's running services, by device. */
export function imagesOf(simulator: Simulator): Map<string, string[]> {
  return new Map(
    simulator
      .devices()
      .map((device) => [
        device.uuid,
        Object.values(device.services).map((service) => service.image),
      ]),
  );
}
