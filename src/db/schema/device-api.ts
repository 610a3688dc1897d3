import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per device-API replica (process): it beats every few seconds with the database's
 * clock, so the controller can tell whether any replica can take reports (docs/rollout-engine.md).
 */
export const deviceApiHeartbeats = pgTable('device_api_heartbeats', {
  /** host/pid/random of the process; a restarted process is a new replica. */
  replica: text('replica').primaryKey(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  beatAt: timestamp('beat_at', { withTimezone: true }).notNull(),
  /** The replica counts as down after this, unless it beats again (a clean stop sets it to now). */
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/**
 * Spans during which no replica could take reports, from the last heartbeat before to the first
 * one after; written by the beat that ends the span. Device timers do not run inside them.
 */
export const deviceApiOutages = pgTable(
  'device_api_outages',
  {
    startedAt: timestamp('started_at', { withTimezone: true }).primaryKey(),
    endedAt: timestamp('ended_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('device_api_outages_ended_idx').on(t.endedAt)],
);
