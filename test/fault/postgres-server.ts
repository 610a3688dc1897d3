import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/**
 * A Postgres server of the test's own, on a private loopback port, that the test can stop,
 * start and restart: a fault the shared server on 5432 cannot take. Its cluster lives in a
 * temporary directory owned by the `postgres` user, since initdb and postgres refuse root.
 */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  url(database?: string): string;
  port: number;
  /** `pg_ctl stop -m fast`: every backend terminated (57P01), the port closed. */
  stop(): Promise<void>;
  /** `pg_ctl start`; resolves once it accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl restart -m fast`; resolves once it accepts connections again. */
  restart(): Promise<void>;
  /** Stops the server (immediate) and removes its directory. */
  destroy(): Promise<void>;
}

/** The newest Postgres installed under /usr/lib/postgresql (Debian's layout). */
function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql')
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  if (!newest)
    throw new Error('no Postgres under /usr/lib/postgresql (scripts/test-setup.sh installs it)');
  return `/usr/lib/postgresql/${newest}/bin`;
}

/** Runs a Postgres binary as the `postgres` user when we are root, else as ourselves. */
async function asPostgres(command: string, args: string[]): Promise<string> {
  const path = join(binDir(), command);
  const [file, argv] =
    userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  try {
    const { stdout } = await run(file, argv, { timeout: 120_000 });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || stdout}`, { cause: error });
  }
}

/** A loopback TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

/** Resolves once the server answers a query, polling every 100 ms for at most `timeoutMs`. */
async function accepting(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline)
        throw new Error('Postgres does not accept connections', { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Creates a cluster (trust on 127.0.0.1, no Unix socket) and starts it on a free port. */
export async function startPostgresServer(): Promise<PostgresServer> {
  const root = mkdtempSync(join(tmpdir(), 'fleet-rollout-fault-pg-'));
  const data = join(root, 'data');
  if (userInfo().uid === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    chownSync(root, Number(stdout.trim()), Number(group.trim()));
  }
  await asPostgres('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    "-c unix_socket_directories=''",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const ctl = (action: string, extra: string[] = []) =>
    asPostgres('pg_ctl', [
      action,
      '-D',
      data,
      '-o',
      options,
      '-l',
      join(root, 'postgres.log'),
      ...extra,
    ]);
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const server: PostgresServer = {
    url,
    port,
    async stop() {
      await ctl('stop', ['-m', 'fast', '-w']);
    },
    async start() {
      await ctl('start', ['-w']);
      await accepting(url());
    },
    async restart() {
      await ctl('restart', ['-m', 'fast', '-w']);
      await accepting(url());
    },
    async destroy() {
      await ctl('stop', ['-m', 'immediate', '-w']).catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
