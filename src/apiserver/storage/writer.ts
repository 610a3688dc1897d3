import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { apiserverChanges, apiserverObjects } from '../../db/schema/apiserver.js';
import { currentObjects, getObject, keyCondition, type Row, rowsOf } from './queries.js';
import type { Change, ChangeType, ObjectKey, StoredObject } from './types.js';

/** The writes of one transaction; each change takes the next resourceVersion. */
export class Writer {
  readonly changes: Change[] = [];

  constructor(
    private readonly tx: DbOrTx,
    public resourceVersion: number,
  ) {}

  /** Reads inside the transaction (writes are serialized, so this is the latest state). */
  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return getObject(this.tx, key);
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
