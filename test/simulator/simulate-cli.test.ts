import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCredentials } from '../../src/simulator/credentials-file.js';
import { databaseBackends } from '../support/database.js';
import { type ServedDeviceApi, serveDeviceApi } from '../support/device-api-server.js';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `fleet-rollout simulate` from source as a child process. */
function simulate(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', ...args], {
    env: { PATH: process.env.PATH ?? '', FLEET_ROLLOUT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<Exit>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
  const output = () => stdout;
  return { child, exited, output };
}

async function until(check: () => boolean, child: ChildProcess, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(databaseBackends)('fleet-rollout simulate on %s', (backend) => {
  let api: ServedDeviceApi;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    api = await serveDeviceApi(backend);
    dir = await mkdtemp(join(tmpdir(), 'simulate-'));
    env = {
      FLEET_ROLLOUT_API_URL: api.url,
      FLEET_ROLLOUT_ADMIN_TOKEN: api.adminToken,
      FLEET_ROLLOUT_DATA_DIR: dir,
    };
  });
  afterAll(async () => {
    await api?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('registers devices, saves their credentials, prints summaries and exits after --duration', async () => {
    const file = join(dir, 'devices.txt');
    const run = simulate(
      [
        ...['--devices', '5', '--fleet', 'cli', '--label', 'site=a,b', '--poll-interval', '200ms'],
        ...['--summary-interval', '500ms', '--duration', '3s', '--save-credentials', file],
      ],
      env,
    );
    const { code, stdout, stderr } = await run.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^simulating 5 devices \(5 registered, 0 offline\) against http/);
    expect(stdout).toMatch(
      /running=5 polls=\d+ .* errors=0 network-errors=0 \| docker\.io\/library\/nginx:1\.27 healthy=5\n$/,
    );
    const saved = parseCredentials(await readFile(file, 'utf8'));
    expect(saved).toHaveLength(5);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { body } = await api.admin<{ items: Array<{ uuid: string; lastSeenAt: string }> }>(
      'GET',
      '/api/v1/devices?fleet=cli&labelSelector=site%3Db',
    );
    expect(body.items).toHaveLength(2);
    expect(body.items.every((device) => device.lastSeenAt !== null)).toBe(true);
  });

  it('attaches to saved devices and stops on SIGINT with a last summary', async () => {
    const file = join(dir, 'attach.txt');
    const first = simulate(['--devices', '3', '--duration', '0', '--save-credentials', file], env);
    expect((await first.exited).code).toBe(0);
    const run = simulate(
      ['--credentials', file, '--poll-interval', '200ms', '--summary-interval', '300ms'],
      {
        ...env,
        FLEET_ROLLOUT_ADMIN_TOKEN: '',
      },
    );
    await until(() => /running=3 /.test(run.output()), run.child);
    run.child.kill('SIGINT');
    const { code, stdout } = await run.exited;
    expect(code).toBe(0);
    expect(stdout).toMatch(/^simulating 3 devices \(0 registered, 0 offline\)/);
  });

  it.each([
    [
      ['--failure-rate', '2'],
      {},
      'fleet-rollout: --failure-rate must be a fraction from 0 to 1, got "2"',
    ],
    [
      ['--devices', '1'],
      { FLEET_ROLLOUT_ADMIN_TOKEN: '' },
      'simulate needs the admin token to register devices',
    ],
    [
      ['--devices', '1'],
      { FLEET_ROLLOUT_ADMIN_TOKEN: 'not-the-admin-token-at-all' },
      'register a device: HTTP 401',
    ],
    [['--devices', '1', '--fleet', 'Not_A_Label'], {}, 'register a device: HTTP 400'],
    [['--devices', '1', '--api-url', 'http://127.0.0.1:1'], {}, 'ECONNREFUSED'],
    [['--credentials', '/nonexistent/file'], {}, 'cannot read credentials file /nonexistent/file'],
  ])('fails clearly for %j', async (args, overrides, message) => {
    const { code, stdout, stderr } = await simulate(args, { ...env, ...overrides }).exited;
    expect(code).toBe(1);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
  });
});
