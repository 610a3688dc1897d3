import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/apiserver/index.js';
import { createKubePort, loadKubeConfig } from '../../src/kube/client-node.js';
import { startTestServer } from '../support/apiserver.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type RoleProcess, spawnRole, startRole } from '../support/role-process.js';

const TOKEN = 'roles-test-admin-token-0123456789';
const POLICY = {
  metadata: { name: 'web' },
  spec: { image: 'ghcr.io/acme/web', selector: { fleets: ['edge'] } },
};

async function call(url: string, token: string, init: { method?: string; body?: unknown } = {}) {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Which processes serve the management API: `start`, and `device-api` when asked to. */
describe('the management API in the roles of the product', () => {
  let database: TestDatabase;
  let server: ApiServer;
  let dir: string;
  let kubeconfig: string;
  const running: RoleProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    server = await startTestServer(database.database);
    dir = await mkdtemp(join(tmpdir(), 'fleet-rollout-management-'));
    kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeFile(kubeconfig, server.kubeconfig(), { mode: 0o600 });
  }, 60_000);
  afterAll(async () => {
    for (const role of running) await role.stop();
    await server?.close();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const deviceApiEnv = (extra: Record<string, string>) => ({
    DATABASE_URL: database.url ?? '',
    FLEET_ROLLOUT_ADMIN_TOKEN: TOKEN,
    FLEET_ROLLOUT_DATA_DIR: join(dir, 'device-api'),
    ...extra,
  });

  it('start serves it with the generated admin token, on its own local API server', async () => {
    const dataDir = join(dir, 'start');
    const start = await startRole({
      role: 'start',
      name: 'start',
      env: { FLEET_ROLLOUT_DATA_DIR: dataDir, FLEET_ROLLOUT_APISERVER_PORT: '0' },
      logDir: dir,
    });
    running.push(start);
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    const created = await call(`${start.url}/api/v1/policies`, token, {
      method: 'POST',
      body: POLICY,
    });
    expect(created.status).toBe(201);
    const kube = createKubePort(
      loadKubeConfig({ kind: 'kubeconfig', path: join(dataDir, 'kubeconfig') }),
    );
    expect((await kube.imagePolicies.get('default', 'web'))?.metadata.uid).toBe(
      (created.body.metadata as { uid: string }).uid,
    );
    expect((await call(`${start.url}/api/v1/policies`, 'wrong-token-wrong')).status).toBe(401);
  });

  it('device-api serves it with FLEET_ROLLOUT_MANAGEMENT_API=true and a kubeconfig', async () => {
    const role = await startRole({
      role: 'device-api',
      name: 'device-api-management',
      env: deviceApiEnv({ FLEET_ROLLOUT_MANAGEMENT_API: 'true', KUBECONFIG: kubeconfig }),
      logDir: dir,
    });
    running.push(role);
    const created = await call(`${role.url}/api/v1/policies`, TOKEN, {
      method: 'POST',
      body: POLICY,
    });
    expect(created.status).toBe(201);
    const disabled = await call(`${role.url}/api/v1/policies/default/web/disable`, TOKEN, {
      method: 'POST',
    });
    expect(disabled.status).toBe(200);
    const listed = await call(`${role.url}/api/v1/policies`, TOKEN);
    expect(listed.body.total).toBe(1);
  });

  it('device-api without it never calls Kubernetes: the routes are not there', async () => {
    const role = await startRole({
      role: 'device-api',
      name: 'device-api-plain',
      env: deviceApiEnv({ KUBECONFIG: kubeconfig }),
      logDir: dir,
    });
    running.push(role);
    const answer = await call(`${role.url}/api/v1/policies`, TOKEN);
    expect(answer.status).toBe(404);
    expect(answer.body.detail).toBe('no route for GET /api/v1/policies');
  });

  it('device-api with FLEET_ROLLOUT_MANAGEMENT_API=true and no Kubernetes API refuses to start', async () => {
    const { process: role, ready } = spawnRole({
      role: 'device-api',
      name: 'device-api-no-kube',
      env: deviceApiEnv({ FLEET_ROLLOUT_MANAGEMENT_API: 'true' }),
      logDir: dir,
    });
    await expect(ready).rejects.toThrow(/exited with 1/);
    expect(role.stderr()).toMatch(/FLEET_ROLLOUT_MANAGEMENT_API=true needs KUBECONFIG/);
  });
});
