import { sql } from 'drizzle-orm';
import {
  type MemberProgress,
  nextProgress,
  type ReportedApps,
  readReport,
} from '../planner/device-progress.js';
import { type OutageWindow, offlineCutoff } from '../planner/outages.js';
import type { BatchProgress, RollbackProgress } from '../planner/types.js';
import type { DbOrTx } from './client.js';
import { queryRows } from './rows.js';

/*
 * Per-device progress of rollouts: written by device reports (in the report's transaction),
 * counted by the controller in one aggregate pass over `rollout_members_progress_idx`.
 * Only members of started batches are written, and a settled member (healthy or failed) is
 * written only when its progress changes, so heartbeats of a settled fleet write nothing here.
 */

interface MemberRow {
  uid: string;
  key: string;
  state: 'active' | 'rolledBack';
  repository: string;
  image: string;
  previous: Record<string, string>;
  progress: MemberProgress;
  soak_elapsed: boolean;
  restored: boolean;
}

/**
 * Records what one report says about the device's progress in every rollout that has started
 * its batch (active, or rolled back and not yet restored). Run it in the report's transaction.
 * Returns the `namespace/name` of each rollout whose counts this report changed.
 */
export async function recordReportProgress(
  tx: DbOrTx,
  uuid: string,
  apps: ReportedApps,
): Promise<string[]> {
  const rows = await queryRows<MemberRow>(
    tx,
    sql`select m.rollout_uid::text as uid, r.namespace || '/' || r.name as key, r.state,
          r.repository, r.image, m.previous, m.progress, m.restored_at is not null as restored,
          coalesce(m.healthy_since, now()) + r.soak <= now() as soak_elapsed
        from rollout_members m join rollout_targets r on r.uid = m.rollout_uid
        where m.device_uuid = ${uuid} and m.batch <= r.started_batches
          and r.state in ('active', 'rolledBack')`,
  );
  const changed: string[] = [];
  for (const row of rows) {
    const reading = readReport(apps, row);
    if (row.state === 'rolledBack') {
      if (await recordRestore(tx, uuid, row, reading.restored)) changed.push(row.key);
      continue;
    }
    const next = nextProgress({ progress: row.progress, soakElapsed: row.soak_elapsed }, reading);
    const settled = next === 'healthy' || next === 'failed';
    if (next === row.progress && settled) continue;
    await tx.execute(
      sql`update rollout_members set progress = ${next}, last_report_at = now(),
            healthy_since = case when ${next}::text in ('soaking', 'healthy')
              then coalesce(healthy_since, now()) end,
            failed_at = case when ${next}::text = 'failed' then coalesce(failed_at, now()) end
          where rollout_uid = ${row.uid} and device_uuid = ${uuid}`,
    );
    if (next !== row.progress) changed.push(row.key);
  }
  return changed;
}

/** After a rollback only the restore matters; true when this report restored the device. */
async function recordRestore(tx: DbOrTx, uuid: string, row: MemberRow, restored: boolean) {
  if (row.restored) return false;
  await tx.execute(
    sql`update rollout_members set last_report_at = now(),
          restored_at = ${restored ? sql`now()` : sql`null`}
        where rollout_uid = ${row.uid} and device_uuid = ${uuid}`,
  );
  return restored;
}

/** What the counts of one rollout depend on besides the members. */
export interface ProgressQuery {
  uid: string;
  /** Batches 1..startedBatches have started; members of later batches are pending. */
  startedBatches: number;
  soakMs: number;
  offlineAfterMs: number;
  /** The clock offline time is judged by (the planner's timer clock). */
  now: Date;
  /** Device-API outages: silence during one does not count, and each ends with a fresh offlineAfter. */
  outages?: readonly OutageWindow[];
  /**
   * When each started batch started (from the status); members not heard from since count as
   * offline only once their batch has run for offlineAfter. Undefined: it just started.
   */
  batchStartedAt(batch: number): Date | undefined;
}

interface BatchRow {
  batch: number;
  devices: number;
  scheduled: number;
  updating: number;
  soaking: number;
  healthy: number;
  failed: number;
  quiet_scheduled: number;
  quiet_updating: number;
  quiet_soaking: number;
  soaking_since: number | null;
}

/**
 * Device counts of every batch of a rollout, in one aggregate pass that reads only the progress
 * index. A member is offline when it is not settled and was not heard from for offlineAfter
 * (over the device API's uptime: see offlineCutoff);
 * offline on the new image when it reported the new image before (updating or soaking).
 */
export async function batchProgress(db: DbOrTx, query: ProgressQuery): Promise<BatchProgress[]> {
  const offlineBefore = offlineCutoff(
    query.now,
    query.offlineAfterMs,
    query.outages ?? [],
  ).toISOString();
  const quiet = sql`coalesce(last_report_at, '-infinity') < ${offlineBefore}::timestamptz`;
  const rows = await queryRows<BatchRow>(
    db,
    sql`select batch, count(*)::int as devices,
          count(*) filter (where progress = 'scheduled')::int as scheduled,
          count(*) filter (where progress = 'updating')::int as updating,
          count(*) filter (where progress = 'soaking')::int as soaking,
          count(*) filter (where progress = 'healthy')::int as healthy,
          count(*) filter (where progress = 'failed')::int as failed,
          count(*) filter (where progress = 'scheduled' and ${quiet})::int as quiet_scheduled,
          count(*) filter (where progress = 'updating' and ${quiet})::int as quiet_updating,
          count(*) filter (where progress = 'soaking' and ${quiet})::int as quiet_soaking,
          (extract(epoch from max(healthy_since) filter (
            where progress = 'soaking' and not ${quiet})) * 1000)::float8 as soaking_since
        from rollout_members where rollout_uid = ${query.uid}
        group by batch order by batch`,
  );
  return rows.map((row) => toBatchProgress(row, query, Date.parse(offlineBefore)));
}

function toBatchProgress(row: BatchRow, query: ProgressQuery, offlineBefore: number) {
  const zero = { scheduled: 0, updating: 0, soaking: 0, healthy: 0, failed: 0 };
  if (row.batch > query.startedBatches) {
    const counts = { ...zero, offline: 0, offlineOnNewImage: 0 };
    return { batch: row.batch, devices: row.devices, pending: row.devices, ...counts };
  }
  const startedAt = query.batchStartedAt(row.batch)?.getTime();
  const eligible = startedAt !== undefined && startedAt <= offlineBefore;
  const quiet = (count: number) => (eligible ? count : 0);
  const progress: BatchProgress = {
    batch: row.batch,
    devices: row.devices,
    pending: 0,
    scheduled: row.scheduled - quiet(row.quiet_scheduled),
    updating: row.updating - quiet(row.quiet_updating),
    soaking: row.soaking - quiet(row.quiet_soaking),
    healthy: row.healthy,
    failed: row.failed,
    offline: quiet(row.quiet_scheduled + row.quiet_updating + row.quiet_soaking),
    offlineOnNewImage: quiet(row.quiet_updating + row.quiet_soaking),
  };
  if (row.soaking_since !== null)
    progress.soakingUntil = new Date(row.soaking_since + query.soakMs);
  return progress;
}

/**
 * How far a rollback has come: members of started batches, those reporting their previous
 * images again, and of the rest those not heard from for offlineAfter — counted once the
 * rollback has run that long (`rollbackStartedAt`; undefined: it just started).
 */
export async function rollbackProgress(
  db: DbOrTx,
  query: Omit<ProgressQuery, 'soakMs' | 'batchStartedAt'> & { rollbackStartedAt?: Date },
): Promise<RollbackProgress> {
  const offlineBefore = offlineCutoff(query.now, query.offlineAfterMs, query.outages ?? []);
  const [row] = await queryRows<{ devices: number; restored: number; quiet: number }>(
    db,
    sql`select count(*)::int as devices,
          count(*) filter (where restored_at is not null)::int as restored,
          count(*) filter (where restored_at is null
            and coalesce(last_report_at, '-infinity') < ${offlineBefore.toISOString()}::timestamptz
          )::int as quiet
        from rollout_members
        where rollout_uid = ${query.uid} and batch <= ${query.startedBatches}`,
  );
  const started = query.rollbackStartedAt?.getTime();
  const eligible = started !== undefined && started <= offlineBefore.getTime();
  return {
    devices: row?.devices ?? 0,
    restored: row?.restored ?? 0,
    offline: eligible ? (row?.quiet ?? 0) : 0,
  };
}

/** Sets how long members must report healthy before they count as healthy; true if it changed. */
export async function setSoak(db: DbOrTx, uid: string, soakMs: number): Promise<boolean> {
  const rows = await queryRows<{ uid: string }>(
    db,
    sql`update rollout_targets set soak = make_interval(secs => ${soakMs / 1000})
        where uid = ${uid} and soak <> make_interval(secs => ${soakMs / 1000})
        returning uid`,
  );
  return rows.length > 0;
}
