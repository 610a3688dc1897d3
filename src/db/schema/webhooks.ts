import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';

/**
 * Registry deliveries seen by any webhook replica, keyed by (registry, delivery id): the claim
 * that makes a delivery processed once however many copies arrive at once. `processing` rows
 * older than the lease and `failed` rows may be claimed again (the registry retried).
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    source: text('source').notNull(),
    deliveryId: text('delivery_id').notNull(),
    state: text('state').$type<'processing' | 'done' | 'failed'>().notNull(),
    attempts: integer('attempts').notNull().default(1),
    claimedAt: timestamp('claimed_at', { withTimezone: true }).notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    outcome: jsonb('outcome').$type<Record<string, unknown>>(),
  },
  (t) => [
    unique('webhook_deliveries_source_delivery_key').on(t.source, t.deliveryId),
    check('webhook_deliveries_state_check', sql`${t.state} in ('processing', 'done', 'failed')`),
  ],
);

/**
 * The rollout each policy got for each image (repository and digest, or tag when no digest is
 * known): one digest under several tags, or announced again later, is one rollout per policy.
 */
export const webhookRollouts = pgTable(
  'webhook_rollouts',
  {
    policyUid: text('policy_uid').notNull(),
    image: text('image').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    source: text('source').notNull(),
    deliveryId: text('delivery_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'webhook_rollouts_pkey', columns: [t.policyUid, t.image] })],
);
