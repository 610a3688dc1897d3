import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  interval,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import type { HealthCheck } from '../../api/types.js';
import type { MemberProgress } from '../../planner/device-progress.js';

/** Lifecycle of a rollout's overlay on the device targets. */
export const ROLLOUT_TARGET_STATES = ['active', 'rolledBack', 'folded'] as const;
export type RolloutTargetState = (typeof ROLLOUT_TARGET_STATES)[number];

/**
 * One ImageRollout's overlay on the base targets: while `active`, members in batches up to
 * `started_batches` get every service of `repository` rewritten to `image`.
 */
export const rolloutTargets = pgTable(
  'rollout_targets',
  {
    /** The ImageRollout's metadata.uid. */
    uid: uuid('uid').primaryKey(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    /** Normalized repository (`docker.io/library/nginx`) whose services are rewritten. */
    repository: text('repository').notNull(),
    /** The full new reference (`docker.io/library/nginx:1.27@sha256:…`). */
    image: text('image').notNull(),
    startedBatches: integer('started_batches').notNull().default(0),
    state: text('state').$type<RolloutTargetState>().notNull().default('active'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** How long a member must report healthy before it counts as healthy (the rollout engine's). */
    soak: interval('soak').notNull().default('0'),
    /** The ImageRollout's `spec.policyRef.name` (same namespace); null on rows older than it. */
    policy: text('policy'),
    /** The health checks rewritten services carry in the target document; null: none. */
    healthChecks: jsonb('health_checks').$type<HealthCheck[]>(),
  },
  (t) => [
    check('rollout_targets_state_check', sql`${t.state} in ('active', 'rolledBack', 'folded')`),
    index('rollout_targets_active_idx').on(t.createdAt, t.uid).where(sql`${t.state} = 'active'`),
  ],
);

/**
 * Membership of a device in a rollout, planned once: its batch and the ETags before and after
 * this rollout's rewrite, so starting a batch only flips `rollout_targets.started_batches`.
 * No foreign keys: a per-row key check costs a third of the insert rate; rows of a deleted
 * device are ignored because the effective target starts from device_targets.
 */
export const rolloutMembers = pgTable(
  'rollout_members',
  {
    rolloutUid: uuid('rollout_uid').notNull(),
    deviceUuid: uuid('device_uuid').notNull(),
    rank: integer('rank').notNull(),
    /** 1-based batch number. */
    batch: integer('batch').notNull(),
    /** Effective ETag when planned, before this rollout's rewrite. */
    fromEtag: text('from_etag').notNull(),
    /** Effective ETag when planned, after this rollout's rewrite. */
    toEtag: text('to_etag').notNull(),
    /** `app/service` → the image it ran before this rollout. */
    previous: jsonb('previous').$type<Record<string, string>>().notNull(),
    /** Written by device reports once the member's batch started (the rollout engine's). */
    progress: text('progress').$type<MemberProgress>().notNull().default('scheduled'),
    /** When the member first reported the new image healthy, in its current streak. */
    healthySince: timestamp('healthy_since', { withTimezone: true }),
    /** When the member first reported the new image failing. */
    failedAt: timestamp('failed_at', { withTimezone: true }),
    /** The member's latest report while it was not settled (healthy or failed). */
    lastReportAt: timestamp('last_report_at', { withTimezone: true }),
    /** When the member reported its previous images again after a rollback. */
    restoredAt: timestamp('restored_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.rolloutUid, t.deviceUuid] }),
    index('rollout_members_batch_idx').on(t.rolloutUid, t.batch, t.deviceUuid),
    index('rollout_members_device_idx').on(t.deviceUuid),
    // Every column the progress counts read: they run as an index-only scan.
    index('rollout_members_progress_idx').on(
      t.rolloutUid,
      t.batch,
      t.progress,
      t.lastReportAt,
      t.healthySince,
    ),
    check(
      'rollout_members_progress_check',
      sql`${t.progress} in ('scheduled', 'updating', 'soaking', 'healthy', 'failed')`,
    ),
  ],
);
