import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { ApiServer } from '../../src/apiserver/index.js';
import { startTestServer } from './apiserver.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/** The outcome of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The real kubectl (the one scripts/test-tools.sh puts first on the PATH) pointed at a server
 * through a kubeconfig in a temporary HOME, so nothing under the user's ~/.kube is read or written.
 */
export async function kubectlFor(server: { kubeconfig(): string }) {
  const home = await mkdtemp(join(tmpdir(), 'fleet-rollout-kubectl-'));
  const kubeconfig = join(home, 'kubeconfig');
  await writeFile(kubeconfig, server.kubeconfig(), { mode: 0o600 });
  const env = {
    ...process.env,
    HOME: home,
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: join(home, 'cache'),
  };
  const children = new Set<ChildProcess>();
  return {
    home,
    /** Runs kubectl (or another kubectl binary) to completion. */
    run(args: string[], timeoutMs = 30_000, binary = 'kubectl'): Promise<KubectlResult> {
      return new Promise((resolve) => {
        execFile(binary, args, { env, timeout: timeoutMs }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    },
    /** Starts kubectl in the background; `output()` is what it printed so far, `done` its end. */
    start(args: string[]) {
      const child = spawn('kubectl', args, { env });
      children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const done = new Promise<KubectlResult>((resolve) =>
        child.on('close', (code) => {
          children.delete(child);
          resolve({ code: code ?? 1, stdout, stderr });
        }),
      );
      return { output: () => stdout, done, stop: () => child.kill('SIGTERM') };
    },
    async cleanup() {
      for (const child of children) child.kill('SIGTERM');
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** A server on a fresh PGlite database and kubectl pointed at it, for one describe block. */
export function kubectlFixture() {
  let test: TestDatabase | undefined;
  let server: ApiServer | undefined;
  let kubectl: Awaited<ReturnType<typeof kubectlFor>> | undefined;
  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    server = await startTestServer(test.database);
    kubectl = await kubectlFor(server);
  });
  afterAll(async () => {
    await kubectl?.cleanup();
    await server?.close();
    await test?.drop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the kubectl fixture has not started');
    return value;
  };
  return { server: () => started(server), kubectl: () => started(kubectl) };
}
