import type { SQL } from 'drizzle-orm';
import type { DbOrTx } from './client.js';

/**
 * Runs raw SQL on a database or transaction and returns its rows; the result has the same shape
 * on node-postgres and PGlite. Cast counts to int and times to text in the SQL: the two drivers
 * return bigint and timestamps differently.
 */
export async function queryRows<Row>(db: DbOrTx, statement: SQL): Promise<Row[]> {
  const result = await db.execute(statement);
  return (result as unknown as { rows: Row[] }).rows;
}
