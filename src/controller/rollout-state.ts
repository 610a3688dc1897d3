import { sql } from 'drizzle-orm';
import type { ImagePolicy, ImageRollout } from '../api/types.js';
import type { Db } from '../db/client.js';
import { isConnectionError } from '../db/connection-errors.js';
import { readHeartbeat } from '../db/heartbeat-store.js';
import { completeMembership, completeSelection, stageNewcomers } from '../db/membership-store.js';
import { batchProgress, rollbackProgress, setSoak } from '../db/progress-store.js';
import { getRolloutTarget, type RolloutTarget } from '../db/rollout-target-store.js';
import { queryRows } from '../db/rows.js';
import { ROLLOUT_DEFAULTS } from '../planner/defaults.js';
import { parseDuration } from '../planner/duration.js';
import { DEVICE_API_ASSUMED, type DeviceApiAvailability, timerClock } from '../planner/outages.js';
import { type RolloutSettings, resolveRolloutSettings } from '../planner/settings.js';
import { isTerminal } from '../planner/siblings.js';
import type { BatchProgress, RollbackProgress } from '../planner/types.js';

/** What Postgres holds for a rollout, as the planner reads it. */
export interface RolloutState {
  target?: { startedBatches: number; state: RolloutTarget['state'] };
  progress: BatchProgress[];
  rollback?: RollbackProgress;
  /** The soak time the counts used (written to the overlay row for the report path). */
  soakMs: number;
}

/** A rollout's state and whether devices can report, as one pass of the planner reads them. */
export interface RolloutInputs {
  deviceApi: DeviceApiAvailability;
  state: RolloutState;
}

/**
 * Reads whether the device API can take reports, then, when it can, the rollout's state with
 * offline time measured over the device API's uptime. Postgres unreachable is not an error here:
 * it is an outage of the device API too, and the planner waits (docs/rollout-engine.md).
 */
export async function readRolloutInputs(
  db: Db,
  rollout: ImageRollout,
  policy: ImagePolicy | undefined,
  now: Date,
  signal?: AbortSignal,
): Promise<RolloutInputs> {
  if (isTerminal(rollout.status?.phase)) {
    return { deviceApi: DEVICE_API_ASSUMED, state: { progress: [], soakMs: 0 } };
  }
  try {
    const deviceApi = await readDeviceApi(db, rollout, now);
    if (!deviceApi.available) return { deviceApi, state: { progress: [], soakMs: 0 } };
    return {
      deviceApi,
      state: await readRolloutState(db, rollout, policy, now, signal, deviceApi),
    };
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    const deviceApi: DeviceApiAvailability = {
      available: false,
      cause: 'DatabaseUnreachable',
      outages: [],
    };
    return { deviceApi, state: { progress: [], soakMs: 0 } };
  }
}

/**
 * The device API's heartbeat, with its latest beat moved to the controller's clock (`now` minus
 * the beat's age by the database's clock, so clock skew does not matter) and the outages that
 * ended since the rollout started.
 */
async function readDeviceApi(
  db: Db,
  rollout: ImageRollout,
  now: Date,
): Promise<DeviceApiAvailability> {
  const began = dateOf(rollout.status?.startedAt ?? rollout.metadata.creationTimestamp) ?? now;
  const heartbeat = await readHeartbeat(db, began);
  const age = heartbeat.lastBeatAgeMs;
  return {
    available: heartbeat.available,
    cause: heartbeat.available ? undefined : 'NoReplica',
    lastBeatAt: age === undefined ? undefined : new Date(now.getTime() - Math.max(0, age)),
    outages: heartbeat.outages,
  };
}

/**
 * Reads a rollout's overlay and device counts. Before counting it finishes membership a crash
 * left incomplete, keeps the overlay's soak time in step with the spec, and, with
 * `includeNewDevices`, adds devices registered since (see docs/rollout-engine.md). A terminal
 * rollout reads nothing: the planner keeps its status as it is. Offline time is judged on the
 * timer clock, over the device API's uptime (`deviceApi`; assumed always up when left out).
 */
export async function readRolloutState(
  db: Db,
  rollout: ImageRollout,
  policy: ImagePolicy | undefined,
  now: Date,
  signal?: AbortSignal,
  deviceApi: DeviceApiAvailability = DEVICE_API_ASSUMED,
): Promise<RolloutState> {
  const resolved = resolveRolloutSettings(rollout, policy);
  const settings = 'settings' in resolved ? resolved.settings : undefined;
  const timing = settings ?? fallbackTiming(rollout, policy);
  const soakMs = timing.soakMs;
  if (isTerminal(rollout.status?.phase)) return { progress: [], soakMs };
  const uid = rollout.metadata.uid ?? '';
  const target = await getRolloutTarget(db, uid);
  if (!target) return { progress: [], soakMs };
  await finishStaged(db, target, settings, signal);
  if (target.state === 'active' && settings) {
    await setSoak(db, uid, soakMs);
    if (settings.includeNewDevices) await joinNewcomers(db, rollout, target, settings, signal);
  }
  const status = rollout.status ?? {};
  const query = {
    uid,
    startedBatches: target.startedBatches,
    ...timing,
    now: timerClock(now, deviceApi),
    outages: deviceApi.outages,
  };
  const progress = await batchProgress(db, {
    ...query,
    batchStartedAt: (batch) => dateOf(status.batches?.[batch - 1]?.startedAt),
  });
  const rollback =
    target.state === 'rolledBack'
      ? await rollbackProgress(db, {
          ...query,
          rollbackStartedAt: dateOf(status.rollback?.startedAt),
        })
      : undefined;
  const { startedBatches, state } = target;
  return { target: { startedBatches, state }, progress, rollback, soakMs };
}

/**
 * Staged devices a crash left behind become members: a first selection (ranks from 0) laid out
 * by the percentages, devices that joined later in the batch newcomers go to.
 */
async function finishStaged(
  db: Db,
  target: RolloutTarget,
  settings: RolloutSettings | undefined,
  signal?: AbortSignal,
) {
  const staged = await stagedRanks(db, target.uid);
  if (staged.count === 0) return;
  if (staged.first === 0) {
    if (settings) await completeSelection(db, target.uid, settings.batches, signal);
    return;
  }
  const batch = await newcomerBatch(db, target);
  await completeMembership(db, target.uid, () => batch, signal);
}

/** Devices that match now and are not members join the last pending batch, or a new one. */
async function joinNewcomers(
  db: Db,
  rollout: ImageRollout,
  target: RolloutTarget,
  settings: RolloutSettings,
  signal?: AbortSignal,
) {
  const { uid, namespace, name } = rollout.metadata;
  const staged = await stageNewcomers(db, target.uid, settings.selector, (devices) => [
    {
      type: 'image.devices_joined',
      subject: `${namespace}/${name}`,
      payload: { rollout: uid, namespace, name, policy: rollout.spec.policyRef.name, devices },
    },
  ]);
  if (staged === 0) return;
  const batch = await newcomerBatch(db, target);
  await completeMembership(db, target.uid, () => batch, signal);
}

/** The last batch when it has not started, else the batch after the started ones. */
async function newcomerBatch(db: Db, target: RolloutTarget): Promise<number> {
  const [row] = await queryRows<{ batch: number }>(
    db,
    sql`select coalesce(max(batch), 0)::int as batch from rollout_members
        where rollout_uid = ${target.uid}`,
  );
  const last = row?.batch ?? 0;
  return last > target.startedBatches ? last : target.startedBatches + 1;
}

async function stagedRanks(db: Db, uid: string) {
  const [row] = await queryRows<{ count: number; first: number | null }>(
    db,
    sql`select count(*)::int as count, min(rank) as first from rollout_selections
        where rollout_uid = ${uid}`,
  );
  return { count: row?.count ?? 0, first: row?.first ?? null };
}

/** Soak and offline times from the rollout's (or policy's) health block, else the defaults. */
function fallbackTiming(rollout: ImageRollout, policy: ImagePolicy | undefined) {
  const health = rollout.spec.health ?? policy?.spec.health ?? {};
  return {
    soakMs: safeDuration(health.soakTime, ROLLOUT_DEFAULTS.soakTime),
    offlineAfterMs: safeDuration(health.offlineAfter, ROLLOUT_DEFAULTS.offlineAfter),
  };
}

function safeDuration(text: string | undefined, fallback: string): number {
  try {
    return parseDuration(text ?? fallback);
  } catch {
    return parseDuration(fallback);
  }
}

function dateOf(time: string | undefined): Date | undefined {
  const ms = time === undefined ? Number.NaN : Date.parse(time);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
