import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adminKubectl, controlPlane } from './cluster.js';
import { controlPlaneKubeconfig } from './control-plane.js';

/** The namespace deploy/ installs into, where its ServiceAccounts live. */
export const PRODUCT_NAMESPACE = 'fleet-rollout';

/** A role of the product (`controller`, `webhooks`, `device-api`) run as `src/main.ts <role>`. */
export interface RoleProcess {
  name: string;
  child: ChildProcess;
  /** Base URL of its HTTP server (metrics, health and the role's routes). */
  url: string;
  /** SIGKILL, as a node failure would: no shutdown code runs. Resolves once it exited. */
  kill(): Promise<void>;
  /** SIGTERM (graceful shutdown, a leader releases its Lease), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx src/main.ts <role>` from the checkout with only `env` (plus PATH and
 * HOME), logging to `<logDir>/<name>.log`; resolves once it serves HTTP. The environment is not
 * inherited, so no KUBECONFIG or DATABASE_URL of the test process leaks into a role.
 */
export async function startRole(options: {
  role: 'controller' | 'webhooks' | 'device-api';
  name: string;
  env: Record<string, string>;
  logDir: string;
}): Promise<RoleProcess> {
  const logFile = join(options.logDir, `${options.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', options.role], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      FLEET_ROLLOUT_HOST: '127.0.0.1',
      FLEET_ROLLOUT_PORT: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  // The start of stderr (a crash's stack), for the error when the role does not come up.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const url = await servingUrl(child, `${options.name} (log: ${logFile})`).catch(async (error) => {
    await kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  });
  return {
    name: options.name,
    child,
    url,
    kill: () => kill('SIGKILL'),
    async stop() {
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await kill('SIGTERM');
      clearTimeout(killer);
    },
  };
}

/** Waits for the role's `serving HTTP` log line (pino JSON) and returns its URL. */
function servingUrl(child: ChildProcess, what: string, timeoutMs = 90_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => fail(`did not serve HTTP within ${timeoutMs / 1000} s`),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const url = parseServingUrl(line);
        if (url === undefined) continue;
        cleanup();
        resolve(url);
      }
    };
    const onExit = (code: number | null) => fail(`exited with ${code} before serving HTTP`);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    const fail = (message: string) => {
      cleanup();
      reject(new Error(`${what} ${message}`));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

function parseServingUrl(line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    return entry.msg === 'serving HTTP' ? entry.url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A kubeconfig file authenticating as ServiceAccount `account` of deploy/'s namespace, with a
 * token the TokenRequest API issued (`kubectl create token`), as a pod of it would hold.
 */
export async function serviceAccountKubeconfig(account: string, dir: string): Promise<string> {
  const { stdout } = await adminKubectl([
    'create',
    'token',
    account,
    '--namespace',
    PRODUCT_NAMESPACE,
    '--duration=2h',
  ]);
  const path = join(dir, `${account}.kubeconfig`);
  await writeFile(path, controlPlaneKubeconfig(controlPlane(), stdout.trim()), { mode: 0o600 });
  return path;
}

/** The username the API server (and its audit log) gives a ServiceAccount of deploy/. */
export function serviceAccountUser(account: string): string {
  return `system:serviceaccount:${PRODUCT_NAMESPACE}:${account}`;
}
