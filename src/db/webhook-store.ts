import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { appendLog } from './event-log.js';
import { webhookDeliveries, webhookRollouts } from './schema/webhooks.js';

/** A rollout the receiver created (or found) for a policy and an image. */
export interface WebhookRolloutRecord {
  policyUid: string;
  /** `imageIdentity`: repository and digest, or repository and tag. */
  image: string;
  namespace: string;
  name: string;
  source: string;
  deliveryId: string;
}

/** How long claims last: a crashed replica's claim expires; a finished one counts as seen. */
export interface ClaimTimes {
  now: Date;
  /** A `processing` claim older than this belongs to a replica that died; take it over. */
  leaseMs: number;
  /** A `done` delivery older than this is processed again if it arrives again. */
  windowMs: number;
}

/** Postgres state of the webhook receiver, shared by every replica. */
export interface WebhookStore {
  /** Claims a delivery for processing; false when another copy has it or had it recently. */
  claimDelivery(source: string, deliveryId: string, times: ClaimTimes): Promise<boolean>;
  /** Marks a claimed delivery done (with what it did) or failed (so a retry can claim it). */
  finishDelivery(
    source: string,
    deliveryId: string,
    state: 'done' | 'failed',
    outcome: Record<string, unknown>,
  ): Promise<void>;
  /** Forgets finished deliveries claimed before `before`; returns how many. */
  pruneDeliveries(before: Date): Promise<number>;
  /** The rollout a policy already has for an image, if any. */
  findRollout(policyUid: string, image: string): Promise<WebhookRolloutRecord | undefined>;
  /** Remembers a policy's rollout of an image; the first record wins. */
  recordRollout(record: WebhookRolloutRecord): Promise<void>;
  /** Appends to the event log. */
  appendEvent(type: string, subject: string, payload: Record<string, unknown>): Promise<void>;
}

/** The WebhookStore over a drizzle database (node-postgres or PGlite). */
export function createWebhookStore(db: Db): WebhookStore {
  const d = webhookDeliveries;
  return {
    async claimDelivery(source, deliveryId, { now, leaseMs, windowMs }) {
      const leaseCutoff = new Date(now.getTime() - leaseMs);
      const windowCutoff = new Date(now.getTime() - windowMs);
      const claimed = await db
        .insert(d)
        .values({ source, deliveryId, state: 'processing', claimedAt: now })
        .onConflictDoUpdate({
          target: [d.source, d.deliveryId],
          set: {
            state: 'processing',
            claimedAt: now,
            completedAt: null,
            outcome: null,
            attempts: sql`${d.attempts} + 1`,
          },
          setWhere: sql`${d.state} = 'failed'
            or (${d.state} = 'processing' and ${d.claimedAt} < ${leaseCutoff.toISOString()})
            or (${d.state} = 'done' and ${d.claimedAt} < ${windowCutoff.toISOString()})`,
        })
        .returning({ id: d.id });
      return claimed.length > 0;
    },

    async finishDelivery(source, deliveryId, state, outcome) {
      await db
        .update(d)
        .set({ state, outcome, completedAt: sql`now()` })
        .where(and(eq(d.source, source), eq(d.deliveryId, deliveryId)));
    },

    async pruneDeliveries(before) {
      const pruned = await db
        .delete(d)
        .where(and(inArray(d.state, ['done', 'failed']), lt(d.claimedAt, before)))
        .returning({ id: d.id });
      return pruned.length;
    },

    async findRollout(policyUid, image) {
      const [row] = await db
        .select()
        .from(webhookRollouts)
        .where(and(eq(webhookRollouts.policyUid, policyUid), eq(webhookRollouts.image, image)));
      if (!row) return undefined;
      const { createdAt: _createdAt, ...record } = row;
      return record;
    },

    async recordRollout(record) {
      await db.insert(webhookRollouts).values(record).onConflictDoNothing();
    },

    async appendEvent(type, subject, payload) {
      await appendLog(db, [{ type, subject, payload }]);
    },
  };
}
