import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/db/client.js';
import { silentLogger } from '../../src/telemetry/logger.js';

/** The database backends the suite runs on: PGlite always, Postgres when TEST_DATABASE_URL is set. */
export const databaseBackends: Array<'pglite' | 'postgres'> = process.env.TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite'];

/** A migrated, empty database of its own for one test file; `drop` removes it. */
export interface TestDatabase {
  database: Database;
  /** Connection string of the fresh Postgres database; undefined on PGlite. */
  url: string | undefined;
  drop(): Promise<void>;
}

/** Creates a fresh database (a new Postgres database, or an in-memory PGlite) and migrates it. */
export async function createTestDatabase(backend: 'pglite' | 'postgres'): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const database = await openDatabase({ url: undefined, logger: silentLogger() });
    await database.migrate();
    return { database, url: undefined, drop: () => database.close() };
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `fleet_rollout_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`create database ${name}`));
  const url = databaseUrl(adminUrl, name);
  const database = await openDatabase({ url, logger: silentLogger() });
  await database.migrate();
  return {
    database,
    url,
    async drop() {
      await database.close();
      await withAdminClient(adminUrl, (client) =>
        client.query(`drop database if exists ${name} with (force)`),
      );
    },
  };
}

/** The same server and credentials as `url`, another database. */
function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function withAdminClient<T>(url: string, use: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
