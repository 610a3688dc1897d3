import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { apiserverObjects, type StoredObject } from '../../db/schema/apiserver.js';
import type { ListPage, ListQuery, ObjectKey } from './types.js';

/** Queries of the object table shared by the store and its writer. */

const SCAN_CHUNK = 500;

/** The object at `key`, if any. */
export async function getObject(tx: DbOrTx, key: ObjectKey): Promise<StoredObject | undefined> {
  const [row] = await tx
    .select({ object: apiserverObjects.object })
    .from(apiserverObjects)
    .where(keyCondition(key));
  return row?.object;
}

export function keyCondition(key: ObjectKey): SQL {
  return and(
    eq(apiserverObjects.resource, key.resource),
    eq(apiserverObjects.namespace, key.namespace),
    eq(apiserverObjects.name, key.name),
  ) as SQL;
}

/** One object row of a list. */
export interface Row {
  namespace: string;
  name: string;
  object: StoredObject;
}

/** Reads one chunk after a key. */
type Fetch = (after: ListQuery['after'], limit: number) => Promise<Row[]>;

/** Reads chunks in key order, filtering, until `limit` matches (plus one to know of more). */
export async function scan(
  query: ListQuery,
  resourceVersion: number,
  fetch: Fetch,
): Promise<ListPage> {
  const objects: StoredObject[] = [];
  const wanted = query.limit === undefined ? Number.POSITIVE_INFINITY : query.limit + 1;
  let after = query.after;
  for (;;) {
    const rows = await fetch(after, SCAN_CHUNK);
    for (const row of rows) {
      if (!query.filter || query.filter(row.object)) objects.push(row.object);
      if (objects.length >= wanted) {
        return { objects: objects.slice(0, query.limit), resourceVersion, more: true };
      }
    }
    const last = rows.at(-1);
    if (rows.length < SCAN_CHUNK || !last) return { objects, resourceVersion, more: false };
    after = { namespace: last.namespace, name: last.name };
  }
}

function scope(table: 'o' | 'c', query: ListQuery, after: ListQuery['after']): SQL {
  const parts: SQL[] = [sql`${sql.raw(table)}.resource = ${query.resource}`];
  if (query.namespace !== undefined)
    parts.push(sql`${sql.raw(table)}.namespace = ${query.namespace}`);
  if (after) {
    parts.push(
      sql`(${sql.raw(table)}.namespace, ${sql.raw(table)}.name) > (${after.namespace}, ${after.name})`,
    );
  }
  return sql.join(parts, sql` and `);
}

export async function currentObjects(
  tx: DbOrTx,
  query: ListQuery,
  after: ListQuery['after'],
  limit: number | undefined,
): Promise<Row[]> {
  const result = await tx.execute(sql`
    select o.namespace, o.name, o.object from apiserver_objects o
    where ${scope('o', query, after)}
    order by o.namespace, o.name
    ${limit === undefined ? sql`` : sql`limit ${limit}`}`);
  return rowsOf<Row>(result);
}

export async function objectsAt(
  tx: DbOrTx,
  query: ListQuery,
  resourceVersion: number,
  after: ListQuery['after'],
  limit: number,
): Promise<Row[]> {
  const result = await tx.execute(sql`
    select namespace, name, object from (
      select o.namespace, o.name, o.object from apiserver_objects o
      where ${scope('o', query, after)} and o.resource_version <= ${resourceVersion}
      union all
      select f.namespace, f.name, f.prev_object as object from (
        select distinct on (c.namespace, c.name) c.namespace, c.name, c.type, c.prev_object
        from apiserver_changes c
        where ${scope('c', query, after)} and c.resource_version > ${resourceVersion}
        order by c.namespace, c.name, c.resource_version
      ) f where f.type <> 'ADDED'
    ) s order by namespace, name limit ${limit}`);
  return rowsOf<Row>(result);
}

export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
