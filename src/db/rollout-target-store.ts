import { asc, eq, sql } from 'drizzle-orm';
import { normalizeRepository, parseImageReference } from '../api/image-reference.js';
import type { HealthCheck } from '../api/types.js';
import type { EventLogEntry } from '../planner/types.js';
import type { Db, DbOrTx } from './client.js';
import { appendLog, type LogEntry } from './event-log.js';
import { queryRows } from './rows.js';
import { type RolloutTargetState, rolloutTargets } from './schema/index.js';
import { notifyTargets } from './target-notifications.js';
import { uuidRanges } from './uuid-ranges.js';

/** A rollout's overlay row (see `rollout_targets`). */
export type RolloutTarget = typeof rolloutTargets.$inferSelect;

/** What the rollout engine knows when a rollout starts: its identity and image. */
export interface RolloutTargetSpec {
  uid: string;
  namespace: string;
  name: string;
  /** Normalized repository, as `normalizeRepository` returns it. */
  repository: string;
  /** The full new reference; its repository must be `repository`. */
  image: string;
  /** The ImageRollout's policy (`spec.policyRef.name`), named in its event-log entries. */
  policy?: string;
  /** Health checks rewritten services carry in the target document ([] for none). */
  healthChecks?: HealthCheck[];
}

/** Thrown when a rollout is asked to do what its state forbids, or does not exist. */
export class RolloutTargetError extends Error {}

/**
 * Creates the rollout's overlay (state active, no batch started); idempotent. A second call for
 * the same uid returns the existing row and refuses a different repository or image.
 */
export async function createRolloutTarget(db: DbOrTx, spec: RolloutTargetSpec) {
  if (normalizeRepository(spec.repository).repository !== spec.repository) {
    throw new RolloutTargetError(`repository "${spec.repository}" is not normalized`);
  }
  if (parseImageReference(spec.image).repository !== spec.repository) {
    throw new RolloutTargetError(`image "${spec.image}" is not in "${spec.repository}"`);
  }
  await db.insert(rolloutTargets).values(spec).onConflictDoNothing({ target: rolloutTargets.uid });
  const existing = await getRolloutTarget(db, spec.uid);
  if (existing?.repository !== spec.repository || existing.image !== spec.image) {
    throw new RolloutTargetError(`rollout ${spec.uid} already exists with another image`);
  }
  return existing;
}

/** The rollout's overlay row, or undefined. */
export async function getRolloutTarget(
  db: DbOrTx,
  uid: string,
): Promise<RolloutTarget | undefined> {
  const [row] = await db.select().from(rolloutTargets).where(eq(rolloutTargets.uid, uid));
  return row;
}

/** Locks the rollout row for the rest of the transaction; throws when it does not exist. */
export async function lockRolloutTarget(
  tx: DbOrTx,
  uid: string,
  mode: 'update' | 'share',
): Promise<RolloutTarget> {
  const [row] = await tx.select().from(rolloutTargets).where(eq(rolloutTargets.uid, uid)).for(mode);
  if (!row) throw new RolloutTargetError(`rollout ${uid} has no target overlay`);
  return row;
}

/** Outcome of startBatch; `started` is false when the batch had already started. */
export interface BatchStart {
  started: boolean;
  /** started_batches before this call. */
  previous: number;
  /** Devices whose target changed with this call (members of batches previous+1 … batch). */
  devices: number;
}

/**
 * Starts batches up to `batch` (cumulative, forward only; idempotent) in one transaction that
 * writes one row, one event-log entry and one notification: no per-device write, because each
 * member's new target was computed when the membership was created. `log` entries are appended
 * in the same transaction when the call starts something (see appendEvent).
 */
export async function startBatch(
  db: Db,
  uid: string,
  batch: number,
  log: readonly EventLogEntry[] = [],
): Promise<BatchStart> {
  if (!Number.isInteger(batch) || batch < 1) throw new RolloutTargetError(`invalid batch ${batch}`);
  return db.transaction(async (tx) => {
    const rollout = await lockRolloutTarget(tx, uid, 'update');
    requireState(rollout, 'active', 'start a batch of');
    const previous = rollout.startedBatches;
    if (batch <= previous) return { started: false, previous, devices: 0 };
    await tx
      .update(rolloutTargets)
      .set({ startedBatches: batch })
      .where(eq(rolloutTargets.uid, uid));
    const devices = await countMembers(tx, uid, previous, batch);
    await appendEvent(tx, 'image.device_scheduled', rollout, { batch, devices }, log);
    await notifyTargets(tx, {
      type: 'batch',
      rollout: uid,
      after: previous,
      through: batch,
      devices,
    });
    return { started: true, previous, devices };
  });
}

/**
 * Rolls the rollout back: its overlay stops applying, so every member falls back to exactly the
 * document it would have without this rollout. Idempotent; a folded rollout cannot roll back.
 * `log` entries are appended in the same transaction when it rolls back (see appendEvent).
 */
export async function rollBack(
  db: Db,
  uid: string,
  log: readonly EventLogEntry[] = [],
): Promise<{ rolledBack: boolean; devices: number }> {
  return db.transaction(async (tx) => {
    const rollout = await lockRolloutTarget(tx, uid, 'update');
    if (rollout.state === 'rolledBack') return { rolledBack: false, devices: 0 };
    requireState(rollout, 'active', 'roll back');
    await tx.update(rolloutTargets).set({ state: 'rolledBack' }).where(eq(rolloutTargets.uid, uid));
    const devices = await countMembers(tx, uid, 0, rollout.startedBatches);
    await appendEvent(tx, 'image.rollback_started', rollout, { devices }, log);
    await notifyTargets(tx, { type: 'rollback', rollout: uid, through: rollout.startedBatches });
    return { rolledBack: true, devices };
  });
}

/** Throws unless the rollout is in `state`. */
export function requireState(rollout: RolloutTarget, state: RolloutTargetState, action: string) {
  if (rollout.state !== state) {
    throw new RolloutTargetError(`cannot ${action} rollout ${rollout.uid}: it is ${rollout.state}`);
  }
}

/** Counts members in batches after+1 … through. */
export async function countMembers(db: DbOrTx, uid: string, after: number, through: number) {
  const [row] = await queryRows<{ count: number }>(
    db,
    sql`select count(*)::int as count from rollout_members
        where rollout_uid = ${uid} and batch > ${after} and batch <= ${through}`,
  );
  return row?.count ?? 0;
}

/**
 * Appends an `image.*` entry about the rollout to the event log, then the caller's `log`
 * entries; a caller's entry of the same type is merged into this one instead (the caller's
 * fields first, this call's win), so one transition is one entry.
 */
export async function appendEvent(
  db: DbOrTx,
  type: `image.${string}`,
  rollout: RolloutTarget,
  details: Record<string, unknown>,
  log: readonly EventLogEntry[] = [],
) {
  const { uid, namespace, name, image } = rollout;
  const policy = rollout.policy === null ? {} : { policy: rollout.policy };
  const own: LogEntry | undefined = log.find((entry) => entry.type === type);
  await appendLog(db, [
    {
      type,
      subject: `${namespace}/${name}`,
      payload: { ...own?.payload, rollout: uid, namespace, name, image, ...policy, ...details },
      ...(own?.notifications ? { notifications: own.notifications } : {}),
    },
    ...log.filter((entry) => entry !== own),
  ]);
}

/** Active rollouts with a started batch, oldest first: the order their overlays apply in. */
export async function listStartedRollouts(db: DbOrTx): Promise<RolloutTarget[]> {
  return (await listActiveRollouts(db)).filter((rollout) => rollout.startedBatches > 0);
}

/** Active rollouts, oldest first. */
export async function listActiveRollouts(db: DbOrTx): Promise<RolloutTarget[]> {
  return db
    .select()
    .from(rolloutTargets)
    .where(eq(rolloutTargets.state, 'active'))
    .orderBy(asc(rolloutTargets.createdAt), asc(rolloutTargets.uid));
}

/** A member's planned ETags, as the device cache flips them. */
export interface MemberEtags {
  uuid: string;
  batch: number;
  fromEtag: string;
  toEtag: string;
}

/**
 * Yields the members of batches after+1 … through, one batch and one uuid range at a time, so
 * memory stays bounded and each row is read once whatever plan the statistics suggest. The next
 * range is read while the caller handles the current one.
 */
export async function* pagesOfMembers(
  db: DbOrTx,
  uid: string,
  after: number,
  through: number,
  parts = 16,
): AsyncGenerator<MemberEtags[]> {
  const reads: Array<() => Promise<MemberEtags[]>> = [];
  for (let batch = after + 1; batch <= through; batch++) {
    for (const range of uuidRanges(sql`device_uuid`, parts)) {
      reads.push(() =>
        queryRows<MemberEtags>(
          db,
          sql`select device_uuid::text as "uuid", batch, from_etag as "fromEtag", to_etag as "toEtag"
              from rollout_members
              where rollout_uid = ${uid} and batch = ${batch} and ${range}`,
        ),
      );
    }
  }
  let next = reads[0]?.();
  try {
    for (let i = 0; i < reads.length; i++) {
      const page = (await next) as MemberEtags[];
      next = reads[i + 1]?.();
      if (page.length > 0) yield page;
    }
  } finally {
    // A caller that stops early leaves one read in flight: let it settle quietly.
    await next?.catch(() => undefined);
  }
}
