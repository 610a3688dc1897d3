import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** The append-only event log (`image.webhook_received`, `image.rollout_created`, …). */
export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    subject: text('subject').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('events_type_created_idx').on(t.type, t.createdAt),
    // Reads by rollout (subject `namespace/name`) or device (subject uuid), in keyset order.
    index('events_subject_created_idx').on(t.subject, t.createdAt, t.id),
    // Reads by policy: entries about a rollout name its policy in the payload, and its namespace
    // in the subject; both in the key, so a page is an ordered range scan, not a sort.
    index('events_policy_idx')
      .on(sql`split_part(${t.subject}, '/', 1)`, sql`(${t.payload}->>'policy')`, t.createdAt, t.id)
      .where(sql`${t.payload} ? 'policy'`),
    // Retention deletes the oldest entries in batches, and unfiltered reads page in this order.
    index('events_created_at_idx').on(t.createdAt, t.id),
  ],
);
