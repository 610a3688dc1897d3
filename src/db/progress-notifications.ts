import { sql } from 'drizzle-orm';
import type { DbOrTx } from './client.js';

/** The NOTIFY channel on which device reports announce rollouts whose progress changed. */
export const PROGRESS_CHANNEL = 'fleet_rollout_progress';

/** Payloads stay well under Postgres' 8000-byte limit. */
const MAX_PAYLOAD = 7000;

/**
 * Announces rollouts (`namespace/name` keys) whose device counts changed: JSON
 * `{"rollouts":[…]}`, split over several notifications when long.
 */
export async function notifyProgress(db: DbOrTx, keys: readonly string[]): Promise<void> {
  let batch: string[] = [];
  let size = 0;
  const send = async () => {
    if (batch.length === 0) return;
    await db.execute(
      sql`select pg_notify(${PROGRESS_CHANNEL}, ${JSON.stringify({ rollouts: batch })})`,
    );
    batch = [];
    size = 0;
  };
  for (const key of keys) {
    if (size + key.length + 3 > MAX_PAYLOAD) await send();
    batch.push(key);
    size += key.length + 3;
  }
  await send();
}

/** The rollout keys of a payload; empty for anything malformed. */
export function parseProgressNotification(payload: string): string[] {
  try {
    const value = JSON.parse(payload) as { rollouts?: unknown };
    const keys = value?.rollouts;
    return Array.isArray(keys) ? keys.filter((key): key is string => typeof key === 'string') : [];
  } catch {
    return [];
  }
}
