import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/db/client.js';
import { createDatabase, dropDatabase } from '../../src/db/databases.js';
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
  const url = await createDatabase(adminUrl, name);
  const database = await openDatabase({ url, logger: silentLogger() });
  await database.migrate();
  return {
    database,
    url,
    async drop() {
      await database.close();
      await dropDatabase(adminUrl, name);
    },
  };
}

/**
 * Runs one statement on a connection of its own to `url` (a Postgres database the test may stop:
 * no pool to outlive it, and a lost connection is an error of this call, not of the process).
 */
export async function queryOnce<Row>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(text, values)).rows as Row[];
  } finally {
    await client.end();
  }
}
