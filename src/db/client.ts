import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import type { Logger } from '../telemetry/logger.js';
import { ConnectionState } from './connection-state.js';
import { ensurePrivateDir, makeTreePrivate } from './private-dir.js';
import * as schema from './schema/index.js';

/** The drizzle database type shared by the node-postgres and PGlite drivers. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A transaction or the database itself: what store functions accept. */
export type DbOrTx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

/** Receives notifications of one channel; `onReconnect` says some may have been missed. */
export interface NotificationHandler {
  onNotification(payload: string): void;
  onReconnect?(): void;
}

/** An open database: drizzle for queries, plus LISTEN/NOTIFY and lifecycle. */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /** Whether the database is reachable, as the connections last saw (always so on PGlite). */
  readonly connection: ConnectionState;
  /** Runs raw SQL and returns its rows. */
  query<Row>(statement: SQL): Promise<Row[]>;
  /** Subscribes to a NOTIFY channel; resolves once listening; returns the unsubscribe function. */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /** Applies pending migrations from `drizzle/`, serialized across processes. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** Where drizzle-kit writes migrations; the same relative path from `src/db` and `dist/db`. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Lock id for pg_advisory_lock around migrations ("fleet-ro" in ASCII). */
const MIGRATION_LOCK_ID = 0x666c656574_2d726fn;

/** Opens Postgres when `url` is set, otherwise PGlite persisted under `dataDir` (or in memory). */
export async function openDatabase(options: {
  url: string | undefined;
  dataDir?: string;
  logger: Logger;
  poolSize?: number;
  /** How long a query waits for a connection (new or from the full pool) before failing. */
  connectTimeoutMs?: number;
}): Promise<Database> {
  if (options.url) {
    return openPostgres(options.url, options.logger, {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    });
  }
  return openPglite(options.dataDir, options.logger);
}

/** Default wait for a connection: a database that does not answer in time is unavailable. */
const CONNECT_TIMEOUT_MS = 10_000;

function openPostgres(
  url: string,
  logger: Logger,
  limits: { max: number; connectionTimeoutMillis: number },
): Database {
  const connection = new ConnectionState(logger.child({ component: 'database' }));
  const pool = new pg.Pool({ connectionString: url, keepAlive: true, ...limits });
  // pg's Pool listens for errors only on idle clients: one whose backend dies while checked out
  // (in a transaction) would emit 'error' with no listener and kill the process. Every client
  // gets a listener of its own for its whole life; the failed query still rejects.
  pool.on('connect', (client) => {
    client.on('error', (error) => reportFailure(connection, logger, error));
    connection.succeeded();
  });
  // an idle client's error reaches its own listener too; the pool needs one or it throws
  pool.on('error', () => {});
  const db = drizzleNodePg(pool, { schema }) as unknown as Db;
  const listeners = new PostgresListener(url, logger, connection, limits.connectionTimeoutMillis);
  return {
    kind: 'postgres',
    db,
    connection,
    async query<Row>(statement: SQL) {
      const result = await db.execute(statement);
      return (result as unknown as { rows: Row[] }).rows;
    },
    listen: (channel, handler) => listeners.listen(channel, handler),
    async migrate() {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID.toString()]);
        await migrateNodePg(drizzleNodePg(client), { migrationsFolder: MIGRATIONS_FOLDER });
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID.toString()]);
        client.release();
      } catch (error) {
        // a session lock ends with its connection: drop the connection, not just the lock
        client.release(error instanceof Error ? error : true);
        throw error;
      }
    },
    async close() {
      await listeners.close();
      await pool.end();
    },
  };
}

/** Feeds a client error to the connection state; logs what is not a connection error. */
function reportFailure(connection: ConnectionState, logger: Logger, error: Error): void {
  if (!connection.failed(error)) logger.warn({ err: error }, 'database connection failed');
}

async function openPglite(dataDir: string | undefined, logger: Logger): Promise<Database> {
  let directory: string | undefined;
  if (dataDir) {
    directory = join(dataDir, 'pglite');
    ensurePrivateDir(dataDir);
    ensurePrivateDir(directory);
  }
  const client = await PGlite.create(directory);
  // PGlite writes its files with modes of its own; the data directory stays the user's alone.
  if (dataDir) makeTreePrivate(dataDir);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    connection: new ConnectionState(logger),
    async query<Row>(statement: SQL) {
      const result = await db.execute(statement);
      return (result as unknown as { rows: Row[] }).rows;
    },
    async listen(channel, handler) {
      const unsubscribe = await client.listen(channel, (payload) =>
        handler.onNotification(payload),
      );
      return () => unsubscribe();
    },
    async migrate() {
      await migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER });
      if (directory) makeTreePrivate(directory);
    },
    async close() {
      await client.close();
      if (directory) makeTreePrivate(directory);
    },
  };
}

/**
 * One dedicated connection for every LISTEN of a process. When it drops it reconnects with
 * backoff, listens again, and calls each handler's onReconnect so it can catch up.
 */
class PostgresListener {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly state: ConnectionState,
    private readonly connectTimeoutMs: number,
  ) {}

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    const client = await this.connection();
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        await this.client?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    // a connection still being made would otherwise outlive the close and hold its database
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.url,
      keepAlive: true,
      connectionTimeoutMillis: this.connectTimeoutMs,
    });
    client.on('notification', (message) => {
      for (const handler of this.handlers.get(message.channel) ?? []) {
        handler.onNotification(message.payload ?? '');
      }
    });
    // listening before connecting: an error at any time, even while connecting, is handled
    client.on('error', (error) => this.onConnectionLost(client, error));
    client.on('end', () => this.onConnectionLost(client, undefined));
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) {
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      if (this.closed) throw new Error('the notification listener was closed while connecting');
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    this.client = client;
    this.state.succeeded();
    return client;
  }

  private onConnectionLost(client: pg.Client, error: Error | undefined): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.state.failed(error ?? new Error('Connection terminated unexpectedly'));
    this.logger.debug({ err: error }, 'notification connection lost; reconnecting');
    client.end().catch(() => {});
    this.reconnect(250);
  }

  private reconnect(delayMs: number): void {
    this.retryTimer = setTimeout(async () => {
      if (this.closed) return;
      try {
        await this.connection();
        for (const set of this.handlers.values())
          for (const handler of set) handler.onReconnect?.();
      } catch (error) {
        if (!this.state.failed(error)) {
          this.logger.warn({ err: error }, 'notification reconnect failed');
        }
        this.reconnect(Math.min(delayMs * 2, 10_000));
      }
    }, delayMs);
    this.retryTimer.unref();
  }
}
