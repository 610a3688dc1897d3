import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import type { Registration, SimulatorOptions } from '../../src/simulator/options.js';
import { type Simulator, startSimulator } from '../../src/simulator/simulator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type RoleProcess, startRole } from '../support/role-process.js';
import { adminKubectl, controlPlane, installCrds } from './cluster.js';
import { PRODUCT_NAMESPACE, serviceAccountKubeconfig } from './product-processes.js';

/** The controller Lease's name (the default FLEET_ROLLOUT_LEASE_NAME that deploy/ grants). */
const LEASE_NAME = 'fleet-rollout-controller';

/** The Distribution registry's shared secret, as the webhook receiver is configured with it. */
export const DISTRIBUTION_SECRET = 'distribution-secret-for-the-product-flow';

/**
 * The product as deploy/ runs it, out of cluster: crds/ and deploy/ applied to the real control
 * plane, a fresh Postgres database, the device API, the webhook receiver and two leader-elected
 * controllers as child processes, the last two with their ServiceAccounts' tokens.
 */
export interface ProductDeployment {
  /** Kubeconfigs and the roles' logs. */
  dir: string;
  deviceApi: RoleProcess;
  webhooks: RoleProcess;
  /** Two replicas; each one's name is its FLEET_ROLLOUT_LEADER_IDENTITY. */
  controllers: RoleProcess[];
  /** Registers and runs simulated devices against the device API; waits for their first report. */
  simulate(options: SimulateOptions): Promise<Simulator>;
  /** The Lease's current holderIdentity, read as the admin. */
  leaseHolder(): Promise<string>;
  stop(): Promise<void>;
}

/** Simulator options for the deployment's device API (its admin token filled in). */
export type SimulateOptions = Omit<Partial<SimulatorOptions>, 'register'> & {
  register: Omit<Registration, 'adminToken'>;
};

/** Installs crds/ and deploy/ and starts every role; see ProductDeployment. */
export async function deployProduct(): Promise<ProductDeployment> {
  await installCrds();
  await adminKubectl(['apply', '-k', 'deploy/']);
  const dir = join(controlPlane().dir, 'product-flow');
  await mkdir(dir, { recursive: true });
  const database: TestDatabase = await createTestDatabase('postgres');
  const running: RoleProcess[] = [];
  const simulators: Simulator[] = [];
  const stop = async () => {
    await Promise.all(simulators.map((simulator) => simulator.stop()));
    await Promise.all(running.map((role) => role.stop()));
    await database.drop();
  };
  try {
    const adminToken = randomBytes(24).toString('hex');
    const shared = { DATABASE_URL: database.url ?? '', FLEET_ROLLOUT_LOG_LEVEL: 'info' };
    const role = async (...args: Parameters<typeof startRole>) => {
      const started = await startRole(...args);
      running.push(started);
      return started;
    };
    const [controllerConfig, webhooksConfig] = await Promise.all([
      serviceAccountKubeconfig('fleet-rollout-controller', dir),
      serviceAccountKubeconfig('fleet-rollout-webhooks', dir),
    ]);
    const controller = (name: string) =>
      role({
        role: 'controller',
        name,
        logDir: dir,
        env: {
          ...shared,
          KUBECONFIG: controllerConfig,
          FLEET_ROLLOUT_DATA_DIR: join(dir, name),
          FLEET_ROLLOUT_LEASE_NAMESPACE: PRODUCT_NAMESPACE,
          FLEET_ROLLOUT_LEADER_IDENTITY: name,
          FLEET_ROLLOUT_LEASE_DURATION_SECONDS: '5',
          FLEET_ROLLOUT_RENEW_DEADLINE_SECONDS: '3',
          FLEET_ROLLOUT_RETRY_PERIOD_SECONDS: '1',
          FLEET_ROLLOUT_RESYNC_SECONDS: '10',
        },
      });
    const [deviceApi, webhooks, ...controllers] = await allStarted([
      role({
        role: 'device-api',
        name: 'device-api',
        logDir: dir,
        env: { ...shared, FLEET_ROLLOUT_ADMIN_TOKEN: adminToken },
      }),
      role({
        role: 'webhooks',
        name: 'webhooks',
        logDir: dir,
        env: {
          ...shared,
          KUBECONFIG: webhooksConfig,
          FLEET_ROLLOUT_DATA_DIR: join(dir, 'webhooks'),
          FLEET_ROLLOUT_WEBHOOK_DISTRIBUTION_SECRET: DISTRIBUTION_SECRET,
        },
      }),
      controller('controller-a'),
      controller('controller-b'),
    ]);
    const leaseHolder = async () =>
      (
        await adminKubectl([
          ...['get', 'lease', LEASE_NAME, '--namespace', PRODUCT_NAMESPACE],
          ...['--output', 'jsonpath={.spec.holderIdentity}'],
        ])
      ).stdout;
    return {
      dir,
      deviceApi: deviceApi!,
      webhooks: webhooks!,
      controllers,
      leaseHolder,
      async simulate(options) {
        const simulator = await startSimulator({
          apiUrl: deviceApi!.url,
          longPollSeconds: 20,
          pullDelayMs: 30,
          healthyAfterMs: 50,
          reportIntervalMs: 5_000,
          startSpreadMs: 500,
          concurrency: 64,
          ...options,
          register: { ...options.register, adminToken },
        });
        simulators.push(simulator);
        await vi.waitFor(
          () => expect(simulator.devices().every((device) => device.reports > 0)).toBe(true),
          { timeout: 60_000, interval: 200 },
        );
        return simulator;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits for every start; any failure rejects only once all have settled (so all can be stopped). */
async function allStarted(starts: Promise<RoleProcess>[]): Promise<RoleProcess[]> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<RoleProcess>).value);
}
