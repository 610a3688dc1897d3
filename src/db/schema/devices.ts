import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { TargetApps } from '../../devices/target-document.js';

/** A registered device: its fleet, labels and credential (sha256 of the API key, base64url). */
export const devices = pgTable(
  'devices',
  {
    uuid: uuid('uuid').primaryKey(),
    fleet: text('fleet').notNull(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    apiKeyHash: text('api_key_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
  },
  (t) => [
    index('devices_fleet_idx').on(t.fleet),
    // Devices registered since a rollout started (includeNewDevices) are found by this index.
    index('devices_created_at_idx').on(t.createdAt),
    index('devices_labels_idx').using('gin', t.labels.op('jsonb_path_ops')),
    uniqueIndex('devices_api_key_hash_idx').on(t.apiKeyHash),
  ],
);

/**
 * The base target state of a device, as set by an admin or by a finished rollout.
 * `etag` is the content hash of `apps`; it changes exactly when the content does.
 */
export const deviceTargets = pgTable('device_targets', {
  deviceUuid: uuid('device_uuid')
    .primaryKey()
    .references(() => devices.uuid, { onDelete: 'cascade' }),
  apps: jsonb('apps').$type<TargetApps>().notNull(),
  etag: text('etag').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The state a device last reported: what it runs and how healthy it is. */
export const deviceReports = pgTable('device_reports', {
  deviceUuid: uuid('device_uuid')
    .primaryKey()
    .references(() => devices.uuid, { onDelete: 'cascade' }),
  apps: jsonb('apps').$type<Record<string, unknown>>().notNull(),
  reportedAt: timestamp('reported_at', { withTimezone: true }).notNull().defaultNow(),
});
