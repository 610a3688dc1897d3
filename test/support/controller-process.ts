import { type ChildProcess, spawn } from 'node:child_process';
import type { Engine } from './engine.js';

/** Notification timings short enough for tests, used by the engine's controller and the child. */
export const TEST_NOTIFICATION_TIMINGS = {
  pollMs: 100,
  backoffBaseMs: 200,
  backoffMaxMs: 1000,
  maxAttempts: 1000,
  claimMs: 5000,
};

/** Where the controller child (test/support/controller-child.ts) kills itself, if anywhere. */
export interface ControllerCrash {
  /** The step boundary (effects and status writes, counted from start); 0 or unset: never. */
  at?: number;
  /** A step name, e.g. `effect-StartBatch`: SIGKILL at its first occurrence. */
  on?: string;
}

/** A controller child process on the engine's database and API server. */
export interface ControllerProcess {
  process: ChildProcess;
  /** Resolves once the child printed `ready`. */
  ready: Promise<void>;
  /** Resolves with the signal that ended it, or `exit <code>`. */
  exited: Promise<string>;
  stderr(): string;
}

/** Starts test/support/controller-child.ts against `engine`'s stores, crashing as `crash` says. */
export function spawnControllerChild(
  engine: Engine,
  crash: ControllerCrash = {},
): ControllerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/controller-child.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: engine.databaseUrl ?? '',
      KUBE_SERVER: engine.server.url,
      KUBE_TOKEN: engine.server.token,
      KUBE_CA: Buffer.from(engine.server.certificate).toString('base64'),
      CRASH_AT: String(crash.at ?? 0),
      ...(crash.on ? { CRASH_ON: crash.on } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const ready = new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
  });
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? `exit ${code}`)),
  );
  return { process: child, ready, exited, stderr: () => stderr };
}
