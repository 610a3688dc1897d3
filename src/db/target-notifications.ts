import { sql } from 'drizzle-orm';
import type { DbOrTx } from './client.js';

/** The NOTIFY channel on which every change of a device's effective target is announced. */
export const TARGETS_CHANNEL = 'fleet_rollout_targets';

/**
 * What changed. Payloads are JSON; every write path sends them inside its own transaction, so
 * they arrive after commit and in commit order.
 * - `devices`: reload these devices (registration, key rotation, deletion, base target, late
 *   joiners); a device no longer in the database is dropped.
 * - `batch`: batches `after + 1 … through` of rollout `rollout` started; `devices` of them.
 * - `members`: the members of these batches of rollout `rollout` changed (created, joined,
 *   rebatched); a device API that prepared one of them for its start reads it again.
 * - `rollback`: rollout `rollout` rolled back; its batches `1 … through` had started.
 * - `fold`: rollout `rollout` was folded into the base targets of batches `1 … through`.
 */
export type TargetNotification =
  | { type: 'devices'; uuids: string[] }
  | { type: 'batch'; rollout: string; after: number; through: number; devices?: number }
  | { type: 'members'; rollout: string; batches: number[] }
  | { type: 'rollback'; rollout: string; through: number }
  | { type: 'fold'; rollout: string; through: number };

/** NOTIFY payloads must stay under 8000 bytes: 150 uuids of 39 bytes each fit easily. */
const UUIDS_PER_NOTIFICATION = 150;

/** Sends the notification (chunking long device lists) on `db`, usually a transaction. */
export async function notifyTargets(db: DbOrTx, notification: TargetNotification): Promise<void> {
  if (notification.type !== 'devices') {
    await db.execute(sql`select pg_notify(${TARGETS_CHANNEL}, ${JSON.stringify(notification)})`);
    return;
  }
  for (let i = 0; i < notification.uuids.length; i += UUIDS_PER_NOTIFICATION) {
    const uuids = notification.uuids.slice(i, i + UUIDS_PER_NOTIFICATION);
    const payload = JSON.stringify({ type: 'devices', uuids });
    await db.execute(sql`select pg_notify(${TARGETS_CHANNEL}, ${payload})`);
  }
}

/** Parses a payload; undefined for anything that is not a well-formed notification. */
export function parseTargetNotification(payload: string): TargetNotification | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  if (message.type === 'devices') {
    const uuids = message.uuids;
    return Array.isArray(uuids) && uuids.every((uuid) => typeof uuid === 'string')
      ? { type: 'devices', uuids }
      : undefined;
  }
  if (typeof message.rollout !== 'string') return undefined;
  if (message.type === 'members') {
    const batches = message.batches;
    return Array.isArray(batches) && batches.every(isCount)
      ? { type: 'members', rollout: message.rollout, batches }
      : undefined;
  }
  if (!isCount(message.through)) return undefined;
  if (message.type === 'batch' && isCount(message.after)) {
    return {
      type: 'batch',
      rollout: message.rollout,
      after: message.after,
      through: message.through,
      ...(isCount(message.devices) ? { devices: message.devices } : {}),
    };
  }
  if (message.type === 'rollback' || message.type === 'fold') {
    return { type: message.type, rollout: message.rollout, through: message.through };
  }
  return undefined;
}

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}
