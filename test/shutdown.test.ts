import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/apiserver/index.js';
import { startTestServer } from './support/apiserver.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: LogLine[];
  stderr: string;
}

/**
 * Runs `fleet-rollout <role>` (src/main.ts) as a child until it logged `ready`, sends the first
 * of `signals`, the others once it logged `shutting down` (signals sent back to back would merge
 * into one), and collects every line it wrote until it exited.
 */
function runRole(
  role: string,
  env: Record<string, string | undefined>,
  ready: string,
  signals: NodeJS.Signals[],
): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
    env: { ...process.env, FLEET_ROLLOUT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let sent = 0;
  const parse = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (sent === 0 && signals.length > 0 && stdout.includes(`"msg":"${ready}"`)) {
      child.kill(signals[sent++]);
    }
    if (sent > 0 && stdout.includes('"msg":"shutting down"')) {
      while (sent < signals.length) child.kill(signals[sent++]);
    }
  });
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, lines: parse(), stderr })),
  );
}

/** Each role as a process of its own; tiny resync and lease timings do not matter here. */
describe('shutdown writes the last log lines of every role', () => {
  let database: TestDatabase;
  let server: ApiServer;
  let dir: string;
  let kubeconfig: string;
  /** Each case has a data directory and a Lease of its own, so cases run side by side. */
  const env = (name: string) => ({
    DATABASE_URL: database.url,
    FLEET_ROLLOUT_HOST: '127.0.0.1',
    FLEET_ROLLOUT_PORT: '0',
    FLEET_ROLLOUT_APISERVER_PORT: '0',
    FLEET_ROLLOUT_ADMIN_TOKEN: 'shutdown-test-admin-token-0123456789',
    FLEET_ROLLOUT_DATA_DIR: join(dir, name),
    FLEET_ROLLOUT_LEASE_NAME: name,
    KUBECONFIG: kubeconfig,
  });

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    server = await startTestServer(database.database);
    dir = await mkdtemp(join(tmpdir(), 'fleet-rollout-shutdown-'));
    kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeFile(kubeconfig, server.kubeconfig(), { mode: 0o600 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const roles: Array<[string, string, string[], Record<string, string | undefined>]> = [
    ['start', 'controller started', ['controller stopped'], { KUBECONFIG: undefined }],
    ['controller', 'controller started', ['controller stopped'], {}],
    ['device-api', 'serving HTTP', [], {}],
    ['webhooks', 'serving HTTP', [], {}],
    ['apiserver', 'kubeconfig for the local Kubernetes API server written', [], {}],
  ];
  const cases = roles.flatMap(([role, ready, before, extra]) =>
    (
      [
        ['SIGTERM', ['SIGTERM']],
        ['SIGINT', ['SIGINT']],
        ['SIGINT twice, as npm start relays Ctrl-C', ['SIGINT', 'SIGINT']],
      ] as Array<[string, NodeJS.Signals[]]>
    ).map(([how, signals], i) => ({ role, ready, before, extra, how, signals, i })),
  );

  it.concurrent.each(cases)(
    '$role on $how: exits 0 and says so last',
    {
      timeout: 180_000,
    },
    async (test) => {
      const name = `${test.role}-${test.i}`;
      const outcome = await runRole(
        test.role,
        { ...env(name), ...test.extra },
        test.ready,
        test.signals,
      );
      const messages = outcome.lines.map((line) => line.msg);
      expect({ code: outcome.code, signal: outcome.signal, stderr: outcome.stderr }).toEqual({
        code: 0,
        signal: null,
        stderr: '',
      });
      expect(messages).toContain(test.ready);
      const shutdown = messages.slice(messages.indexOf('shutting down'));
      expect(shutdown[0]).toBe('shutting down');
      for (const line of test.before) expect(shutdown).toContain(line);
      // A second signal is only logged, even when it arrives after the last part stopped.
      const last = shutdown.filter((message) => message !== 'already shutting down').at(-1);
      expect(last).toBe('stopped');
    },
  );

  it('stops at once on a signal while waiting for the database, and says so', {
    timeout: 60_000,
  }, async () => {
    const environment = {
      ...env('waiting'),
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    };
    const outcome = await runRole(
      'device-api',
      environment,
      'database unreachable; waiting for it',
      ['SIGTERM'],
    );
    expect(outcome).toMatchObject({ code: 143, signal: null, stderr: '' });
    expect(outcome.lines.map((line) => line.msg).slice(-2)).toEqual([
      'shutting down',
      'stopped while starting',
    ]);
  });

  it('says why on a fatal error at start, on stdout and stderr', { timeout: 60_000 }, async () => {
    const taken = await startTestServer(database.database);
    try {
      const port = new URL(taken.url).port;
      const environment = { ...env('fatal'), FLEET_ROLLOUT_PORT: port };
      const outcome = await runRole('device-api', environment, '', []);
      expect(outcome.code).toBe(1);
      expect(outcome.lines.at(-1)).toMatchObject({ msg: 'stopped on an error' });
      expect(outcome.stderr).toMatch(/^fleet-rollout: .*EADDRINUSE/);
    } finally {
      await taken.close();
    }
  });
});
