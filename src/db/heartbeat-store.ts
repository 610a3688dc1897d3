import { sql } from 'drizzle-orm';
import type { OutageWindow } from '../planner/outages.js';
import type { DbOrTx } from './client.js';
import { queryRows } from './rows.js';

/*
 * The device API's heartbeat: each replica beats every few seconds, with the database's clock.
 * The beat that finds every replica's heartbeat expired records the gap as an outage (from the
 * last beat of any replica to now) in the same statement, so a reader never sees the device API
 * back without the outage it came back from. Only the replicas write; the controller reads.
 */

/** Heartbeat rows of replicas gone for this long are removed. */
const REPLICA_RETENTION = '1 day';
/** Outages that ended this long ago are removed (a batch's deadline rarely spans more). */
const OUTAGE_RETENTION = '30 days';

/**
 * Records that `replica` can take reports for the next `ttlMs`. Returns the outage this beat
 * ended (no replica's heartbeat was fresh), if any. Also prunes old rows.
 */
export async function beat(
  db: DbOrTx,
  replica: string,
  ttlMs: number,
): Promise<OutageWindow | undefined> {
  const rows = await queryRows<{ from_ms: number; to_ms: number }>(
    db,
    sql`with last as (
          select max(beat_at) as beat_at, max(expires_at) as expires_at from device_api_heartbeats
        ), gap as (
          insert into device_api_outages (started_at, ended_at)
          select beat_at, now() from last where expires_at < now()
          on conflict (started_at) do update
            set ended_at = greatest(device_api_outages.ended_at, excluded.ended_at)
          returning started_at, ended_at
        ), gone as (
          delete from device_api_heartbeats
          where expires_at < now() - ${REPLICA_RETENTION}::interval and replica <> ${replica}
        ), old as (
          delete from device_api_outages where ended_at < now() - ${OUTAGE_RETENTION}::interval
        ), me as (
          insert into device_api_heartbeats (replica, beat_at, expires_at)
          values (${replica}, now(), now() + make_interval(secs => ${ttlMs / 1000}))
          on conflict (replica) do update
            set beat_at = excluded.beat_at, expires_at = excluded.expires_at
        )
        select (extract(epoch from started_at) * 1000)::float8 as from_ms,
          (extract(epoch from ended_at) * 1000)::float8 as to_ms
        from gap`,
  );
  const row = rows[0];
  return row && { from: new Date(row.from_ms), to: new Date(row.to_ms) };
}

/** A replica that stops cleanly: it takes no report from now on. */
export async function stopBeating(db: DbOrTx, replica: string): Promise<void> {
  await db.execute(
    sql`update device_api_heartbeats set beat_at = now(), expires_at = now()
        where replica = ${replica}`,
  );
}

/** The device API's heartbeat as the controller reads it. */
export interface DeviceApiHeartbeat {
  /** Some replica's heartbeat is fresh, or no replica ever beat. */
  available: boolean;
  /** Age of the latest beat of any replica, by the database's clock; undefined without rows. */
  lastBeatAgeMs?: number;
  /** Outages that ended after `endedAfter`, oldest first. */
  outages: OutageWindow[];
}

/** Reads whether the device API can take reports, and the outages that ended after a time. */
export async function readHeartbeat(db: DbOrTx, endedAfter: Date): Promise<DeviceApiHeartbeat> {
  const { available, lastBeatAgeMs } = await readLatestBeat(db);
  const outages = await queryRows<{ from_ms: number; to_ms: number }>(
    db,
    sql`select (extract(epoch from started_at) * 1000)::float8 as from_ms,
          (extract(epoch from ended_at) * 1000)::float8 as to_ms
        from device_api_outages where ended_at > ${endedAfter.toISOString()}::timestamptz
        order by started_at`,
  );
  return {
    available,
    lastBeatAgeMs,
    outages: outages.map((row) => ({ from: new Date(row.from_ms), to: new Date(row.to_ms) })),
  };
}

/** Whether some replica's heartbeat is fresh (or none ever beat), and the latest beat's age. */
export async function readLatestBeat(db: DbOrTx): Promise<Omit<DeviceApiHeartbeat, 'outages'>> {
  const [row] = await queryRows<{ available: boolean; age_ms: number | null }>(
    db,
    sql`select coalesce(bool_or(expires_at > now()), true) as available,
          (extract(epoch from now() - max(beat_at)) * 1000)::float8 as age_ms
        from device_api_heartbeats`,
  );
  return { available: row?.available ?? true, lastBeatAgeMs: row?.age_ms ?? undefined };
}
