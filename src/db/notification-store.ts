import { sql } from 'drizzle-orm';
import type { RolloutNotification } from '../notifications/transitions.js';
import type { Db, DbOrTx } from './client.js';
import { queryRows } from './rows.js';

/**
 * The notification outbox and its deliveries. A transition's row is inserted with the state
 * change it reports (same transaction, or before the status write with a deterministic key, so a
 * crash and a redo leave exactly one row); the dispatcher fans it out to channels and claims due
 * deliveries with `FOR UPDATE SKIP LOCKED`, so two dispatchers never send the same one at once.
 */

/** A channel a notification goes to. */
export interface ChannelRef {
  uid: string;
  namespace: string;
  name: string;
}

/** A claimed delivery: the notification and the channel it goes to. */
export interface DueDelivery {
  id: number;
  attempts: number;
  channelUid: string;
  channelNamespace: string;
  channelName: string;
  notification: RolloutNotification;
}

/** Inserts notifications; a key already present (a transition planned again) is skipped. */
export async function enqueueNotifications(
  db: DbOrTx,
  notifications: readonly RolloutNotification[],
): Promise<void> {
  for (const notification of notifications) {
    const payload = JSON.stringify(notification, (_key, value) =>
      typeof value === 'string' ? value.replaceAll('\u0000', '') : value,
    );
    await db.execute(
      sql`insert into notification_outbox (key, namespace, payload)
          values (${notification.key}, ${notification.namespace}, ${payload}::jsonb)
          on conflict (key) do nothing`,
    );
  }
}

/**
 * Fans out up to `limit` new notifications, oldest first: one delivery per channel `channelsOf`
 * returns, then the row is marked fanned out. Returns how many notifications it handled.
 */
export async function fanOut(
  db: Db,
  channelsOf: (notification: RolloutNotification) => ChannelRef[],
  limit = 100,
): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await queryRows<{ id: number; payload: RolloutNotification }>(
      tx,
      sql`select id::int as id, payload from notification_outbox
          where fanned_out_at is null order by id limit ${limit} for update skip locked`,
    );
    for (const row of rows) {
      for (const channel of channelsOf(row.payload)) {
        await tx.execute(
          sql`insert into notification_deliveries
                (notification_id, channel_uid, channel_namespace, channel_name)
              values (${row.id}, ${channel.uid}, ${channel.namespace}, ${channel.name})
              on conflict (notification_id, channel_uid) do nothing`,
        );
      }
      await tx.execute(
        sql`update notification_outbox set fanned_out_at = now() where id = ${row.id}`,
      );
    }
    return rows.length;
  });
}

/**
 * Claims up to `limit` due deliveries (not delivered, not given up, next attempt passed, no live
 * claim) for `claimMs`, counting the attempt; `skip` leaves out rate-limited channels' uids.
 */
export async function claimDue(
  db: DbOrTx,
  options: { limit: number; claimMs: number; skip?: readonly string[] },
): Promise<DueDelivery[]> {
  const skip = options.skip ?? [];
  const skipped = skip.length
    ? sql`and d.channel_uid not in (${sql.join(
        skip.map((uid) => sql`${uid}`),
        sql`, `,
      )})`
    : sql``;
  return queryRows<DueDelivery>(
    db,
    sql`update notification_deliveries d
        set attempts = d.attempts + 1,
            claimed_until = now() + ${options.claimMs} * interval '1 millisecond'
        from notification_outbox o
        where o.id = d.notification_id and d.id in (
          select d.id from notification_deliveries d
          where d.delivered_at is null and d.abandoned_at is null and d.next_attempt_at <= now()
            and (d.claimed_until is null or d.claimed_until < now()) ${skipped}
          order by d.id limit ${options.limit} for update skip locked)
        returning d.id::int as id, d.attempts, d.channel_uid as "channelUid",
          d.channel_namespace as "channelNamespace", d.channel_name as "channelName",
          o.payload as notification`,
  );
}

/** Records a successful delivery. */
export async function markDelivered(db: DbOrTx, id: number): Promise<void> {
  await db.execute(
    sql`update notification_deliveries
        set delivered_at = now(), claimed_until = null, last_error = null where id = ${id}`,
  );
}

/** Records a failed attempt: retried after `retryMs`, or given up when `retryMs` is undefined. */
export async function markFailed(
  db: DbOrTx,
  id: number,
  error: string,
  retryMs: number | undefined,
): Promise<void> {
  const next =
    retryMs === undefined
      ? sql`abandoned_at = now()`
      : sql`next_attempt_at = now() + ${retryMs} * interval '1 millisecond'`;
  await db.execute(
    sql`update notification_deliveries
        set ${next}, claimed_until = null, last_error = ${error.slice(0, 1024)} where id = ${id}`,
  );
}

/** Gives a claimed delivery back without counting the attempt (rate limit, shutdown). */
export async function releaseClaim(db: DbOrTx, id: number, afterMs: number): Promise<void> {
  await db.execute(
    sql`update notification_deliveries
        set attempts = greatest(attempts - 1, 0), claimed_until = null,
            next_attempt_at = now() + ${afterMs} * interval '1 millisecond'
        where id = ${id}`,
  );
}

/** Notifications not fanned out yet plus deliveries still to make, for the backlog gauge. */
export async function pendingCounts(db: DbOrTx): Promise<{ outbox: number; deliveries: number }> {
  const [row] = await queryRows<{ outbox: number; deliveries: number }>(
    db,
    sql`select
          (select count(*)::int from notification_outbox where fanned_out_at is null) as outbox,
          (select count(*)::int from notification_deliveries
            where delivered_at is null and abandoned_at is null) as deliveries`,
  );
  return row ?? { outbox: 0, deliveries: 0 };
}
