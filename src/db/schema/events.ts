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
    index('events_subject_idx').on(t.subject),
    // Retention deletes the oldest entries in batches; without it each batch scans the table.
    index('events_created_at_idx').on(t.createdAt),
  ],
);
