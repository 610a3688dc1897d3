import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Database, DbOrTx } from '../../db/client.js';
import { apiserverChanges, apiserverState } from '../../db/schema/apiserver.js';
import { expired, resourceVersionTooLarge } from '../status.js';
import { currentObjects, getObject, objectsAt, scan } from './queries.js';
import type { Change, ListPage, ListQuery, ObjectKey, StoredObject } from './types.js';
import { Writer } from './writer.js';

export type { Change, ChangeType, ListPage, ListQuery, ObjectKey, StoredObject } from './types.js';
export type { Writer } from './writer.js';

/** NOTIFY channel on which every write announces its last resourceVersion. */
export const CHANGES_CHANNEL = 'fleet_rollout_apiserver_changes';

const STATE_ID = 1;

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
  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return getObject(this.database.db, key);
  }

  /**
   * Lists the current objects, consistent with the returned resourceVersion. Throws 504
   * ResourceVersionTooLarge when the store has not reached `notOlderThan` yet.
   */
  list(query: ListQuery, notOlderThan = 0): Promise<ListPage> {
    return this.database.db.transaction(
      async (tx) => {
        const { resourceVersion } = await this.state(tx);
        requireReached(notOlderThan, resourceVersion);
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
   * Throws 504 ResourceVersionTooLarge when the store has not reached it yet, 410 Expired when
   * the log no longer reaches back that far.
   */
  listAt(query: ListQuery, resourceVersion: number): Promise<ListPage> {
    return this.database.db.transaction(
      async (tx) => {
        const state = await this.state(tx);
        requireReached(resourceVersion, state.resourceVersion);
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
      const writer = new Writer(tx, row.resourceVersion);
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

/** 504 ResourceVersionTooLarge when `current` has not reached `version`. */
function requireReached(version: number, current: number): void {
  if (version > current) throw resourceVersionTooLarge(String(version), current);
}
