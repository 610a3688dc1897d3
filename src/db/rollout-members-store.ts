import { eq, type SQL, sql } from 'drizzle-orm';
import { etagOf, rewriteImages, type TargetApps } from '../devices/target-document.js';
import type { EventLogEntry } from '../planner/types.js';
import type { Db, DbOrTx } from './client.js';
import {
  appendEvent,
  countMembers,
  getRolloutTarget,
  lockRolloutTarget,
  type RolloutTarget,
  RolloutTargetError,
  requireState,
} from './rollout-target-store.js';
import { queryRows } from './rows.js';
import { rolloutTargets } from './schema/index.js';
import { notifyTargets } from './target-notifications.js';
import { loadEffectiveTargets } from './target-store.js';
import { uuidRanges } from './uuid-ranges.js';

/** One device of a rollout as the planner placed it. */
export interface PlannedMember {
  uuid: string;
  /** Stable rank (hash of rollout uid and device uuid); batch k is a prefix of batch k+1. */
  rank: number;
  /** 1-based batch number. */
  batch: number;
}

const DEFAULT_CHUNK = 2_000;
/** A million members fold in ranges of about 16k documents. */
const FOLD_RANGES = 64;

/**
 * Persists membership: for each member, its current effective ETag (`from_etag`), the ETag after
 * this rollout's rewrite (`to_etag`) and the images the rewrite replaces (`previous`). Members are
 * consumed in chunks (pass an async iterable to stream a million of them in bounded memory);
 * each chunk is one transaction with one read and one set-based insert. Idempotent: existing rows
 * are kept as they are. Unregistered uuids are skipped. Members added to an already started batch
 * are announced so the device cache picks them up; at the end, the batches that got members are
 * announced (`members`) so a device API that prepared them reads them again.
 */
export async function createMembership(
  db: Db,
  uid: string,
  members: Iterable<PlannedMember> | AsyncIterable<PlannedMember>,
  options: { chunkSize?: number } = {},
): Promise<{ inserted: number; skipped: number }> {
  const rollout = await getRolloutTarget(db, uid);
  if (!rollout) throw new RolloutTargetError(`rollout ${uid} has no target overlay`);
  const total = { inserted: 0, skipped: 0 };
  const batches = new Set<number>();
  const write = async (planning: Promise<PlannedChunk>) => {
    const result = await insertMemberChunk(db, uid, await planning);
    total.inserted += result.inserted;
    total.skipped += result.skipped;
    for (const batch of result.batches) batches.add(batch);
  };
  // Chunks are written in order (a resumed run starts after the highest rank written), and each
  // chunk's targets are read while the chunk before it is written: reading dominates.
  let previous: Promise<PlannedChunk> | undefined;
  try {
    for await (const chunk of chunks(members, options.chunkSize ?? DEFAULT_CHUNK)) {
      const planning = planMemberChunk(db, rollout, chunk);
      planning.catch(() => undefined); // awaited below; not unhandled while the write runs
      if (previous) await write(previous);
      previous = planning;
    }
    if (previous) await write(previous);
  } finally {
    // Stopped early (abort, error): let a read in flight settle before returning.
    await previous?.catch(() => undefined);
  }
  if (batches.size > 0) {
    await notifyTargets(db, {
      type: 'members',
      rollout: uid,
      batches: [...batches].sort((a, b) => a - b),
    });
  }
  return total;
}

/** A chunk of members with the rows to insert (ETags and previous images computed). */
interface PlannedChunk {
  size: number;
  rows: Array<{
    device_uuid: string;
    rank: number;
    batch: number;
    from_etag: string;
    to_etag: string;
    previous: Record<string, string>;
  }>;
}

/**
 * Reads the members' effective targets and computes their rows. Outside the insert's
 * transaction: the planned ETags are checked again when a batch starts (see device-cache.ts),
 * so a target changed in between only costs a recompute there.
 */
async function planMemberChunk(
  db: Db,
  rollout: RolloutTarget,
  chunk: PlannedMember[],
): Promise<PlannedChunk> {
  for (const member of chunk) validateMember(member);
  const targets = await loadEffectiveTargets(
    db,
    chunk.map((member) => member.uuid.toLowerCase()),
  );
  const rows: PlannedChunk['rows'] = [];
  for (const member of chunk) {
    const target = targets.get(member.uuid.toLowerCase());
    if (!target) continue;
    const rewrite = rewriteImages(
      target.apps,
      rollout.repository,
      rollout.image,
      rollout.healthChecks,
    );
    const changed = Object.keys(rewrite.previous).length > 0;
    rows.push({
      device_uuid: target.uuid,
      rank: member.rank,
      batch: member.batch,
      from_etag: target.etag,
      to_etag: changed ? etagOf(rewrite.apps) : target.etag,
      previous: rewrite.previous,
    });
  }
  return { size: chunk.length, rows };
}

async function insertMemberChunk(db: Db, uid: string, { size, rows }: PlannedChunk) {
  return db.transaction(async (tx) => {
    // Share lock: a concurrent startBatch commits wholly before or after this chunk.
    const rollout = await lockRolloutTarget(tx, uid, 'share');
    requireState(rollout, 'active', 'add members to');
    const inserted = await queryRows<{ uuid: string; batch: number }>(
      tx,
      sql`insert into rollout_members
            (rollout_uid, device_uuid, rank, batch, from_etag, to_etag, previous)
          select ${uid}::uuid, x.device_uuid, x.rank, x.batch, x.from_etag, x.to_etag, x.previous
          from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(device_uuid uuid,
            rank integer, batch integer, from_etag text, to_etag text, previous jsonb)
          on conflict (rollout_uid, device_uuid) do nothing
          returning device_uuid::text as uuid, batch`,
    );
    const late = inserted.filter((row) => row.batch <= rollout.startedBatches);
    if (late.length > 0) {
      await notifyTargets(tx, { type: 'devices', uuids: late.map((row) => row.uuid) });
    }
    const batches = new Set(inserted.map((row) => row.batch));
    return { inserted: inserted.length, skipped: size - rows.length, batches };
  });
}

function validateMember(member: PlannedMember): void {
  if (!Number.isInteger(member.batch) || member.batch < 1 || !Number.isInteger(member.rank)) {
    throw new RolloutTargetError(`invalid member ${JSON.stringify(member)}`);
  }
}

async function* chunks<T>(items: Iterable<T> | AsyncIterable<T>, size: number) {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Folds a finished rollout into the base targets of its started members and marks it folded, in
 * one transaction, one uuid range at a time with set-based updates. Effective documents and ETags do not
 * change, so no device sees a new ETag. An older active rollout of the same repository on the
 * same devices would then override the folded image: fold that one first (or roll it back).
 * `options.log` entries are appended in the same transaction when it folds.
 */
export async function fold(
  db: Db,
  uid: string,
  options: { parts?: number; log?: readonly EventLogEntry[] } = {},
): Promise<{ folded: boolean; devices: number }> {
  return db.transaction(async (tx) => {
    const rollout = await lockRolloutTarget(tx, uid, 'update');
    if (rollout.state === 'folded') return { folded: false, devices: 0 };
    requireState(rollout, 'active', 'fold');
    await refuseOlderOverlap(tx, rollout);
    for (const range of uuidRanges(sql`m.device_uuid`, options.parts ?? FOLD_RANGES)) {
      await rewriteBaseRange(tx, rollout, range);
    }
    await tx.update(rolloutTargets).set({ state: 'folded' }).where(eq(rolloutTargets.uid, uid));
    const devices = await countMembers(tx, uid, 0, rollout.startedBatches);
    await appendEvent(tx, 'image.rollout_folded', rollout, { devices }, options.log);
    await notifyTargets(tx, { type: 'fold', rollout: uid, through: rollout.startedBatches });
    return { folded: true, devices };
  });
}

/** Rewrites the base targets of the started members in one uuid range, set-based. */
async function rewriteBaseRange(tx: DbOrTx, rollout: RolloutTarget, range: SQL): Promise<void> {
  const page = await queryRows<{ uuid: string; apps: TargetApps }>(
    tx,
    sql`select m.device_uuid::text as uuid, t.apps
        from rollout_members m join device_targets t on t.device_uuid = m.device_uuid
        where m.rollout_uid = ${rollout.uid} and m.batch <= ${rollout.startedBatches} and ${range}
        for update of t`,
  );
  const rows = [];
  for (const { uuid, apps } of page) {
    const rewrite = rewriteImages(apps, rollout.repository, rollout.image, rollout.healthChecks);
    if (Object.keys(rewrite.previous).length === 0) continue;
    rows.push({ device_uuid: uuid, apps: rewrite.apps, etag: etagOf(rewrite.apps) });
  }
  if (rows.length === 0) return;
  await tx.execute(
    sql`update device_targets t set apps = x.apps, etag = x.etag, updated_at = now()
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as x(device_uuid uuid, apps jsonb, etag text)
        where t.device_uuid = x.device_uuid`,
  );
}

/** Throws when an older active rollout of the same repository applies to one of the members. */
async function refuseOlderOverlap(tx: DbOrTx, rollout: RolloutTarget): Promise<void> {
  const [overlap] = await queryRows<{ namespace: string; name: string }>(
    tx,
    sql`select o.namespace, o.name from rollout_targets o
        where o.state = 'active' and o.repository = ${rollout.repository} and o.uid <> ${rollout.uid}
          and o.started_batches > 0
          and (o.created_at, o.uid) < (select r.created_at, r.uid from rollout_targets r
                                       where r.uid = ${rollout.uid})
          and exists (
            select 1 from rollout_members m join rollout_members om on om.device_uuid = m.device_uuid
            where m.rollout_uid = ${rollout.uid} and m.batch <= ${rollout.startedBatches}
              and om.rollout_uid = o.uid and om.batch <= o.started_batches)
        limit 1`,
  );
  if (overlap) {
    throw new RolloutTargetError(
      `cannot fold rollout ${rollout.uid}: older rollout ${overlap.namespace}/${overlap.name} of the same repository still applies to its devices; fold or roll it back first`,
    );
  }
}
