import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RoleProcess, startRole } from './role-process.js';

/** The product as `fleet-rollout start` runs it, on a scratch data dir, and how to end it. */
export interface ProductServer {
  /** Base URL of its HTTP port (device, admin, management and webhook APIs). */
  url: string;
  role: RoleProcess;
  /** Stops the process and removes its data dir. */
  stop(): Promise<void>;
}

/**
 * Starts `src/main.ts start` (every role in one process: the local API server, the controller,
 * the device API and the webhook receiver) on free ports, with `env` on top; PGlite in a fresh
 * data dir unless `env` sets DATABASE_URL.
 */
export async function startProductServer(env: Record<string, string> = {}): Promise<ProductServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fleet-rollout-product-'));
  try {
    const role = await startRole({
      role: 'start',
      name: 'start',
      logDir: dataDir,
      timeoutMs: 240_000,
      env: { FLEET_ROLLOUT_DATA_DIR: dataDir, FLEET_ROLLOUT_APISERVER_PORT: '0', ...env },
    });
    return {
      url: role.url,
      role,
      async stop() {
        await role.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** The OpenAPI document a running server serves, as text in the form docs/openapi.json keeps. */
export async function servedDocument(url: string): Promise<string> {
  const response = await fetch(`${url}/openapi.json`);
  if (!response.ok) throw new Error(`GET ${url}/openapi.json answered ${response.status}`);
  return `${JSON.stringify(await response.json(), null, 2)}\n`;
}
