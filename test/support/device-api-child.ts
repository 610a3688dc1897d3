import { type ChildProcess, spawn } from 'node:child_process';

/** `fleet-rollout device-api` (src/main.ts) in a process of its own, on loopback. */
export interface DeviceApiChild {
  url: string;
  /** False once the process exited, for whatever reason. */
  alive(): boolean;
  /** Every JSON line it logged so far, parsed. */
  logs(): Array<{ level: number; msg: string; [field: string]: unknown }>;
  /** What it wrote to stderr (a crash's stack). */
  stderr(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts the device API role on `databaseUrl` with `adminToken`; resolves once it serves HTTP. */
export async function startDeviceApiChild(options: {
  databaseUrl: string;
  adminToken: string;
  env?: Record<string, string>;
}): Promise<DeviceApiChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/main.ts', 'device-api'],
    {
      env: {
        ...process.env,
        DATABASE_URL: options.databaseUrl,
        FLEET_ROLLOUT_ADMIN_TOKEN: options.adminToken,
        FLEET_ROLLOUT_HOST: '127.0.0.1',
        FLEET_ROLLOUT_PORT: '0',
        FLEET_ROLLOUT_LOG_LEVEL: 'info',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: Array<{ level: number; msg: string }> = [];
  let stderr = '';
  let partial = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { level: number; msg: string; url?: string };
        lines.push(entry);
        if (entry.msg === 'serving HTTP' && entry.url) resolve(entry.url);
      }
    });
    void exit.then(() => reject(new Error(`device-api exited before serving: ${stderr}`)));
  });
  return {
    url: await url,
    alive: () => !exited,
    logs: () => [...lines],
    stderr: () => stderr,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}
