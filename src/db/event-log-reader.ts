import { type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from './client.js';
import { queryRows } from './rows.js';

/** A resource named by namespace and name (an ImageRollout or an ImagePolicy). */
export interface NamespacedName {
  namespace: string;
  name: string;
}

/** Where a page of the log starts: after the entry with this time and id (keyset). */
export interface EventCursor {
  /** The entry's `created_at` to the microsecond, RFC 3339 in UTC. */
  time: string;
  id: number;
}

/** Which entries to read; every filter set must hold (AND). */
export interface EventQuery {
  /** Entries about this ImageRollout (subject `namespace/name`). */
  rollout?: NamespacedName;
  /** Entries about the rollouts of this ImagePolicy (their payload names it). */
  policy?: NamespacedName;
  /** Entries about this device: its own (subject uuid) and the batch starts that scheduled it. */
  device?: string;
  /** Entries of this type (`image.rollout_created`). */
  type?: string;
  /** Entries at or after this time. */
  since?: Date;
  /** Entries before this time. */
  until?: Date;
  after?: EventCursor;
  limit: number;
}

/** One event-log entry as readers see it. */
export interface EventRecord {
  id: number;
  type: string;
  subject: string;
  /** When it was written, RFC 3339 in UTC, to the microsecond. */
  time: string;
  payload: Record<string, unknown>;
}

/**
 * A page of the event log, oldest first, in (time, id) order, and the cursor of the next page
 * when there is one. Keyset paging: each page is one index range scan, however deep.
 */
export async function readEvents(
  db: DbOrTx,
  query: EventQuery,
): Promise<{ items: EventRecord[]; next: EventCursor | undefined }> {
  const rows = await queryRows<EventRecord & { id: number | string }>(
    db,
    sql`select e.id, e.type, e.subject, e.payload,
          to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as time
        from events e
        where ${sql.join(conditions(query), sql` and `)}
        order by e.created_at, e.id
        limit ${query.limit + 1}`,
  );
  const items = rows.map((row) => ({ ...row, id: Number(row.id) }));
  const more = items.length > query.limit;
  if (more) items.pop();
  const last = items.at(-1);
  return { items, next: more && last ? { time: last.time, id: last.id } : undefined };
}

function conditions(query: EventQuery): SQL[] {
  const where: SQL[] = [sql`true`];
  if (query.rollout) {
    where.push(sql`e.subject = ${`${query.rollout.namespace}/${query.rollout.name}`}`);
  }
  if (query.policy) {
    // Written as events_policy_idx is (partial on `payload ? 'policy'`), so it serves the page.
    where.push(sql`e.payload ? 'policy' and split_part(e.subject, '/', 1) = ${query.policy.namespace}
      and (e.payload->>'policy') = ${query.policy.name}`);
  }
  if (query.device !== undefined) where.push(deviceCondition(query.device));
  if (query.type !== undefined) where.push(sql`e.type = ${query.type}`);
  if (query.since) where.push(sql`e.created_at >= ${query.since.toISOString()}::timestamptz`);
  if (query.until) where.push(sql`e.created_at < ${query.until.toISOString()}::timestamptz`);
  if (query.after) {
    where.push(
      sql`(e.created_at, e.id) > (${query.after.time}::timestamptz, ${query.after.id}::bigint)`,
    );
  }
  return where;
}

/**
 * A device's own entries (`device.*`, subject its uuid) and, for each rollout it is a member of,
 * the `image.device_scheduled` entry that started its batch: batches start cumulatively, so it is
 * the rollout's first such entry whose batch is at least the device's. A handful of ids, each
 * found through events_subject_created_idx.
 */
function deviceCondition(uuid: string): SQL {
  return sql`e.id in (
    select d.id from events d where d.subject = ${uuid}
    union all
    select (select s.id from events s
            where s.subject = r.namespace || '/' || r.name and s.type = 'image.device_scheduled'
              and s.payload->>'rollout' = m.rollout_uid::text
              and (s.payload->>'batch')::int >= m.batch
            order by s.created_at, s.id limit 1)
    from rollout_members m join rollout_targets r on r.uid = m.rollout_uid
    where m.device_uuid = ${uuid}::uuid)`;
}
