import { sql } from 'drizzle-orm';
import type { RolloutNotification } from '../notifications/transitions.js';
import type { DbOrTx } from './client.js';
import { enqueueNotifications } from './notification-store.js';

/** One event-log entry: the planner's `image.*` entries (EventLogEntry), `device.*` entries. */
export interface LogEntry {
  type: string;
  subject: string;
  payload: Record<string, unknown>;
  /** Outbox rows of the same transition, written with the entry (not part of the log). */
  notifications?: readonly RolloutNotification[];
}

/**
 * Entry types that happen at most once per rollout (or per batch of it), with the payload fields
 * that identify the occurrence. A controller that crashed after writing one and before writing
 * the status plans it again; appendLog then skips it.
 */
const ONCE: Record<string, readonly string[]> = {
  'image.rollout_started': ['rollout'],
  'image.device_scheduled': ['rollout', 'batch'],
  'image.batch_completed': ['rollout', 'batch'],
  'image.rollback_started': ['rollout'],
  'image.rollback_completed': ['rollout'],
  'image.rollout_succeeded': ['rollout'],
  'image.rollout_superseded': ['rollout'],
};

/**
 * Appends entries to the event log, and their notifications to the outbox. An entry of a once-per-rollout type is skipped when the
 * log already holds it (same subject, type and identifying fields); others always append. NUL
 * characters, which jsonb cannot hold and untrusted text quoted in a payload may carry, are
 * dropped from its strings.
 */
export async function appendLog(db: DbOrTx, entries: readonly LogEntry[]): Promise<void> {
  for (const entry of entries) {
    if (entry.notifications) await enqueueNotifications(db, entry.notifications);
    const fields = ONCE[entry.type];
    const payload = JSON.stringify(entry.payload, withoutNul);
    if (!fields || fields.some((field) => entry.payload[field] === undefined)) {
      await db.execute(
        sql`insert into events (type, subject, payload)
            values (${entry.type}, ${entry.subject}, ${payload}::jsonb)`,
      );
      continue;
    }
    const identity = JSON.stringify(Object.fromEntries(fields.map((f) => [f, entry.payload[f]])));
    await db.execute(
      sql`insert into events (type, subject, payload)
          select ${entry.type}, ${entry.subject}, ${payload}::jsonb
          where not exists (select 1 from events where subject = ${entry.subject}
            and type = ${entry.type} and payload @> ${identity}::jsonb)`,
    );
  }
}

function withoutNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replaceAll('\u0000', '') : value;
}
