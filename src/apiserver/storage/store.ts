import { and, asc, eq, gt, lte, type SQL, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../../db/client.js';
import {
  apiserverChanges,
  apiserverObjects,
  apiserverState,
  type StoredObject,
} from '../../db/schema/apiserver.js';
import { expired } from '../status.js';

export type { StoredObject } from '../../db/schema/apiserver.js';

/** Identifies one stored object; `namespace` is '' for cluster-scoped objects. */
export interface ObjectKey {
  resource: string;
  namespace: string;
  name: string;
}

/** The kind of a change, as watch events name it. */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One entry of the change log. */
export interface Change extends ObjectKey {
  resourceVersion: number;
  type: ChangeType;
  object: StoredObject;
  prevObject: StoredObject | null;
}

/** Which objects a list reads: one resource, optionally one namespace, after a key, filtered. */
export interface ListQuery {
  resource: string;
  namespace?: string;
  /** Start after this (namespace, name), exclusive: the position a continue token holds. */
  after?: { namespace: string; name: string };
  /** At most this many objects that pass `filter`. */
  limit?: number;
  filter?: (object: StoredObject) => boolean;
}

/** One page of a list, at the resourceVersion it is consistent with. */
export interface ListPage {
  objects: StoredObject[];
  resourceVersion: number;
  /** More objects may follow the last one returned. */
  more: boolean;
}

/** NOTIFY channel on which every write announces its last resourceVersion. */
export const CHANGES_CHANNEL = 'fleet_rollout_apiserver_changes';

const STATE_ID = 1;
const SCAN_CHUNK = 500;

/**
 * Objects and their change log in the project database. Every write transaction first locks the
 * single state row, so writes are serialized across processes and resourceVersions are committed
 * in order; readers never see a later version without the earlier ones.
 */
export class ObjectStore {
  constructor(
    private readonly database: Database,
    private readonly onCommit: (resourceVersion: number) => void = () => {},
  ) {}

  /** Creates the state row on a fresh database; safe to call from every process. */
  async init(): Promise<void> {
    await this.database.db
      .insert(apiserverState)
      .values({ id: STATE_ID, resourceVersion: 0, compactedResourceVersion: 0 })
      .onConflictDoNothing();
  }

  /** The latest committed resourceVersion and how far the change log has been compacted. */
  async state(tx: DbOrTx = this.database.db) {
    const [row] = await tx.select().from(apiserverState).where(eq(apiserverState.id, STATE_ID));
    if (!row) throw new Error('apiserver state row missing: ObjectStore.init() was not called');
    return { resourceVersion: row.resourceVersion, compacted: row.compactedResourceVersion };
  }

  /** The object at `key`, or undefined. */
  async get(key: ObjectKey, tx: DbOrTx = this.database.db): Promise<StoredObject | undefined> {
    const [row] = await tx
      .select({ object: apiserverObjects.object })
      .from(apiserverObjects)
      .where(keyCondition(key));
    return row?.object;
  }

  /** Lists the current objects, consistent with the returned resourceVersion. */
  list(query: ListQuery): Promise<ListPage> {
    return this.database.db.transaction(
      async (tx) => {
        const { resourceVersion } = await this.state(tx);
        return scan(query, resourceVersion, (after, limit) =>
          currentObjects(tx, query, after, limit),
        );
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }

  /**
   * Lists the objects as they were at `resourceVersion`, rebuilt from the change log: the current
   * object where it has not changed since, else the state before its first later change.
   * Throws 410 Expired when the log no longer reaches back that far.
   */
  listAt(query: ListQuery, resourceVersion: number): Promise<ListPage> {
    return this.database.db.transaction(
      async (tx) => {
        const state = await this.state(tx);
        if (resourceVersion < state.compacted) {
          throw expired(`too old resource version: ${resourceVersion} (${state.compacted})`);
        }
        return scan(query, resourceVersion, (after, limit) =>
          objectsAt(tx, query, resourceVersion, after, limit),
        );
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
  }

  /** Changes after `resourceVersion`, oldest first; all resources when `resource` is undefined. */
  async changesSince(resourceVersion: number, resource?: string, limit = 1000): Promise<Change[]> {
    const condition = resource
      ? and(
          gt(apiserverChanges.resourceVersion, resourceVersion),
          eq(apiserverChanges.resource, resource),
        )
      : gt(apiserverChanges.resourceVersion, resourceVersion);
    return this.database.db
      .select({
        resourceVersion: apiserverChanges.resourceVersion,
        type: apiserverChanges.type,
        resource: apiserverChanges.resource,
        namespace: apiserverChanges.namespace,
        name: apiserverChanges.name,
        object: apiserverChanges.object,
        prevObject: apiserverChanges.prevObject,
      })
      .from(apiserverChanges)
      .where(condition)
      .orderBy(asc(apiserverChanges.resourceVersion))
      .limit(limit);
  }

  /**
   * Runs `work` in a write transaction. The writer assigns resourceVersions; on commit the last
   * one is announced on CHANGES_CHANNEL and to `onCommit`. Throwing rolls everything back.
   */
  async write<T>(work: (writer: Writer) => Promise<T>): Promise<T> {
    let committed = 0;
    const result = await this.database.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(apiserverState)
        .where(eq(apiserverState.id, STATE_ID))
        .for('update');
      if (!row) throw new Error('apiserver state row missing: ObjectStore.init() was not called');
      const writer = new Writer(tx, row.resourceVersion, this);
      const value = await work(writer);
      if (writer.resourceVersion !== row.resourceVersion) {
        await tx
          .update(apiserverState)
          .set({ resourceVersion: writer.resourceVersion })
          .where(eq(apiserverState.id, STATE_ID));
        await tx.execute(
          sql`select pg_notify(${CHANGES_CHANNEL}, ${String(writer.resourceVersion)})`,
        );
        committed = writer.resourceVersion;
      }
      return value;
    });
    if (committed) this.onCommit(committed);
    return result;
  }

  /**
   * Deletes change log entries written before `before` and records the highest deleted
   * resourceVersion: watches and lists from older versions then answer 410 Expired.
   */
  async compact(before: Date): Promise<number> {
    return this.database.db.transaction(async (tx) => {
      const [state] = await tx
        .select()
        .from(apiserverState)
        .where(eq(apiserverState.id, STATE_ID))
        .for('update');
      const [row] = await tx
        .select({ max: sql<string | null>`max(${apiserverChanges.resourceVersion})` })
        .from(apiserverChanges)
        .where(sql`${apiserverChanges.createdAt} < ${before.toISOString()}`);
      const upTo = Number(row?.max ?? 0);
      const compacted = Math.max(upTo, state?.compactedResourceVersion ?? 0);
      if (upTo > 0) {
        await tx.delete(apiserverChanges).where(lte(apiserverChanges.resourceVersion, upTo));
        await tx
          .update(apiserverState)
          .set({ compactedResourceVersion: compacted })
          .where(eq(apiserverState.id, STATE_ID));
      }
      return compacted;
    });
  }
}

/** The writes of one transaction; each change takes the next resourceVersion. */
export class Writer {
  readonly changes: Change[] = [];

  constructor(
    private readonly tx: DbOrTx,
    public resourceVersion: number,
    private readonly store: ObjectStore,
  ) {}

  /** Reads inside the transaction (writes are serialized, so this is the latest state). */
  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.store.get(key, this.tx);
  }

  /** Every object of a resource (in one namespace), for cascading writes. */
  async list(resource: string, namespace?: string): Promise<StoredObject[]> {
    const rows = await currentObjects(this.tx, { resource, namespace }, undefined, undefined);
    return rows.map((row) => row.object);
  }

  /** Every object of one namespace, of any resource. */
  async listNamespace(namespace: string): Promise<Array<Row & { resource: string }>> {
    const result = await this.tx.execute(sql`
      select resource, namespace, name, object from apiserver_objects
      where namespace = ${namespace} order by resource, name`);
    return rowsOf(result);
  }

  /** Objects with an owner reference to `uid` (in `namespace`, or anywhere when undefined). */
  async dependentsOf(uid: string, namespace?: string): Promise<Array<Row & { resource: string }>> {
    const owner = JSON.stringify([{ uid }]);
    const result = await this.tx.execute(sql`
      select resource, namespace, name, object from apiserver_objects
      where ${namespace === undefined ? sql`true` : sql`namespace = ${namespace}`}
      and object->'metadata'->'ownerReferences' @> ${owner}::jsonb`);
    return rowsOf(result);
  }

  /** Which of these uids belong to existing objects. */
  async existingUids(uids: string[]): Promise<Set<string>> {
    if (uids.length === 0) return new Set();
    const result = await this.tx.execute(sql`
      select uid::text as uid from apiserver_objects
      where uid::text in (${sql.join(
        uids.map((uid) => sql`${uid}`),
        sql`, `,
      )})`);
    return new Set(rowsOf<{ uid: string }>(result).map((row) => row.uid));
  }

  /** Stores a new object; the caller has checked that the key is free. */
  async insert(key: ObjectKey, object: StoredObject): Promise<StoredObject> {
    const stored = this.stamp(object);
    await this.tx.insert(apiserverObjects).values({
      ...key,
      uid: String(stored.metadata.uid),
      resourceVersion: this.resourceVersion,
      object: stored,
    });
    await this.log('ADDED', key, stored, null);
    return stored;
  }

  /** Replaces the object at `key`, whose current value is `previous`. */
  async replace(key: ObjectKey, previous: StoredObject, object: StoredObject) {
    const stored = this.stamp(object);
    await this.tx
      .update(apiserverObjects)
      .set({ resourceVersion: this.resourceVersion, object: stored })
      .where(keyCondition(key));
    await this.log('MODIFIED', key, stored, previous);
    return stored;
  }

  /** Removes the object at `key`; `last` is its final state, logged with the new version. */
  async remove(key: ObjectKey, previous: StoredObject, last: StoredObject) {
    const stored = this.stamp(last);
    await this.tx.delete(apiserverObjects).where(keyCondition(key));
    await this.log('DELETED', key, stored, previous);
    return stored;
  }

  private stamp(object: StoredObject): StoredObject {
    this.resourceVersion += 1;
    return {
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(this.resourceVersion) },
    };
  }

  private async log(
    type: ChangeType,
    key: ObjectKey,
    object: StoredObject,
    prev: StoredObject | null,
  ) {
    const change: Change = {
      ...key,
      resourceVersion: this.resourceVersion,
      type,
      object,
      prevObject: prev,
    };
    await this.tx.insert(apiserverChanges).values(change);
    this.changes.push(change);
  }
}

function keyCondition(key: ObjectKey): SQL {
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

type Fetch = (after: ListQuery['after'], limit: number) => Promise<Row[]>;

/** Reads chunks in key order, filtering, until `limit` matches (plus one to know of more). */
async function scan(query: ListQuery, resourceVersion: number, fetch: Fetch): Promise<ListPage> {
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

async function currentObjects(
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

async function objectsAt(
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

function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
