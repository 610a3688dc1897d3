import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

/** A line the product logged (pino JSON): `msg`, `time` (epoch ms) and its fields. */
export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

/** A role of the product (`controller`, `webhooks`, `device-api`, …) run as `src/main.ts <role>`. */
export interface RoleProcess {
  name: string;
  child: ChildProcess;
  /** What the role announced when it became ready: its HTTP server's base URL by default. */
  url: string;
  /** Every JSON line it logged so far, parsed (stdout). */
  logs(): LogLine[];
  /** The start of what it wrote to stderr (a crash's stack), at most 64 KiB. */
  stderr(): string;
  /** How it ended, once it did. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Whether it ended without our asking (kill or stop): a crash or an exit of its own. */
  exitedOnItsOwn(): boolean;
  /** SIGKILL, as a node failure would: no shutdown code runs. Resolves once it exited. */
  kill(): Promise<void>;
  /** SIGTERM (graceful shutdown, a leader releases its Lease), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

/** How a role is started; `ready` picks the announcement of readiness out of its log lines. */
export interface RoleOptions {
  role: string;
  name: string;
  env: Record<string, string>;
  logDir: string;
  /** Returns the value for `url` from the line that says the role is ready; default `serving HTTP`. */
  ready?: (line: LogLine) => string | undefined;
  /** How long to wait for readiness; default 90 s. */
  timeoutMs?: number;
}

/**
 * Starts `node --import tsx src/main.ts <role>` from the checkout with only `env` (plus PATH and
 * HOME), logging to `<logDir>/<name>.log`; resolves once it is ready (see RoleOptions.ready). The
 * environment is not inherited, so no KUBECONFIG or DATABASE_URL of the test process leaks in.
 */
export async function startRole(options: RoleOptions): Promise<RoleProcess> {
  const role = spawnRole(options);
  try {
    await role.ready;
  } catch (error) {
    await role.process.kill();
    throw new Error(`${(error as Error).message}\n${role.process.stderr()}`);
  }
  return role.process;
}

/**
 * Like startRole, but resolves at once, with `ready` settling when the role is ready (or
 * rejecting when it exits first): for roles started while what they need is down.
 */
export function spawnRole(options: RoleOptions): { process: RoleProcess; ready: Promise<string> } {
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
  const lines: LogLine[] = [];
  let stderr = '';
  let partial = '';
  let askedToEnd = false;
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 65_536) stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = { code, signal };
      resolve();
    }),
  );
  const readyOf = options.ready ?? servingUrl;
  const what = `${options.name} (log: ${logFile})`;
  const timeoutMs = options.timeoutMs ?? 90_000;
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} was not ready within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      const complete = (partial + chunk.toString()).split('\n');
      partial = complete.pop() ?? '';
      for (const text of complete) {
        const line = parseLine(text);
        if (!line) continue;
        lines.push(line);
        const value = readyOf(line);
        if (value === undefined) continue;
        clearTimeout(timer);
        resolve(value);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${ended?.code ?? ended?.signal} before it was ready`));
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    askedToEnd = true;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const roleProcess: RoleProcess = {
    name: options.name,
    child,
    url: '',
    logs: () => [...lines],
    stderr: () => stderr,
    exit: () => ended,
    exitedOnItsOwn: () => ended !== undefined && !askedToEnd,
    kill: () => end('SIGKILL'),
    async stop() {
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await end('SIGTERM');
      clearTimeout(killer);
    },
  };
  return {
    process: roleProcess,
    ready: ready.then((url) => {
      roleProcess.url = url;
      return url;
    }),
  };
}

/** The URL of a role's `serving HTTP` line. */
function servingUrl(line: LogLine): string | undefined {
  return line.msg === 'serving HTTP' && typeof line.url === 'string' ? line.url : undefined;
}

function parseLine(text: string): LogLine | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as LogLine;
  } catch {
    return undefined;
  }
}
