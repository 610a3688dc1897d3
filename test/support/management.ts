import type { FastifyInstance } from 'fastify';
import type { ImageRollout, ImageRolloutStatus } from '../../src/api/types.js';
import type { Database } from '../../src/db/client.js';
import { createHttpServer } from '../../src/http/server.js';
import type { KubePort } from '../../src/kube/port.js';
import { managementRoutes } from '../../src/management/routes.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { type KubeServerHarness, startKubeServer } from './kube-server.js';
import { TcpProxy } from './tcp-proxy.js';

/** The admin token the management API of the tests accepts. */
export const ADMIN_TOKEN = 'management-admin-token-for-tests';

/** The Authorization header of the admin token. */
export const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** The management API on the shared HTTP server, over the local API server and a database. */
export interface ManagementHarness {
  server: KubeServerHarness;
  /** The management API, reaching the API server through `server.kube`. */
  app: FastifyInstance;
  /** Reads the resources back as kubectl sees them, on a path the tests never cut. */
  kube: KubePort;
  /** The device database preview selects from. */
  database: Database;
  /** Another app on `kube`, its API calls answered by nothing (the API server unreachable). */
  unreachable(): Promise<FastifyInstance>;
  stop(): Promise<void>;
}

/** Starts the local API server on `backend` and the management API over it. */
export async function startManagement(
  backend: 'pglite' | 'postgres',
  options: { namespace?: string; now?: () => Date } = {},
): Promise<ManagementHarness> {
  const server = await startKubeServer(backend);
  const test: TestDatabase = await createTestDatabase(backend);
  const apps: FastifyInstance[] = [];
  const build = async (kube: KubePort) => {
    const app = await createHttpServer({
      logger: silentLogger(),
      metrics: createMetricsRegistry({ processMetrics: false }),
      database: test.database,
      plugins: [
        managementRoutes({
          kube,
          db: test.database.db,
          logger: silentLogger(),
          adminToken: ADMIN_TOKEN,
          ...options,
        }),
      ],
    });
    apps.push(app);
    return app;
  };
  const app = await build(server.kube);
  return {
    server,
    app,
    kube: server.direct,
    database: test.database,
    async unreachable() {
      const dead = await TcpProxy.start(server.address);
      const kube = server.connect(dead);
      await dead.stop();
      return build(kube);
    },
    async stop() {
      for (const each of apps) await each.close();
      await test.drop();
      await server.stop();
    },
  };
}

/**
 * Creates a rollout and writes the status a controller would have written (through /status), so
 * tests of what the API shows need no running controller.
 */
export async function rolloutWithStatus(
  kube: KubePort,
  namespace: string,
  name: string,
  spec: Partial<ImageRollout['spec']> & { policy: string; image: string; tag: string },
  status?: ImageRolloutStatus,
): Promise<ImageRollout> {
  const { policy, ...rest } = spec;
  const created = await kube.imageRollouts.create({
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImageRollout',
    metadata: { name, namespace },
    spec: { policyRef: { name: policy }, ...rest },
  });
  if (!status) return created;
  return kube.imageRollouts.replaceStatus({ ...created, status });
}
