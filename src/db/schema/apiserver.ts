import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

/** A stored Kubernetes object as JSON; `metadata` always carries name, uid and resourceVersion. */
export type StoredObject = Record<string, unknown> & { metadata: Record<string, unknown> };

/**
 * The local API server's objects, one row per (resource, namespace, name). `resource` is the
 * storage key `plural.group` (`imagepolicies.fleet.iotistic.io`, `namespaces`); `namespace` is
 * '' for cluster-scoped objects.
 */
export const apiserverObjects = pgTable(
  'apiserver_objects',
  {
    resource: text('resource').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    uid: uuid('uid').notNull(),
    resourceVersion: bigint('resource_version', { mode: 'number' }).notNull(),
    object: jsonb('object').$type<StoredObject>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.resource, t.namespace, t.name] })],
);

/**
 * The append-only change log watches read from: every write gets the next resourceVersion and
 * one row here, with the object before (`prevObject`, null for ADDED) and after the change.
 * Compaction deletes old rows; `apiserverState.compactedResourceVersion` remembers how far.
 */
export const apiserverChanges = pgTable(
  'apiserver_changes',
  {
    resourceVersion: bigint('resource_version', { mode: 'number' }).primaryKey(),
    resource: text('resource').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    type: text('type').$type<'ADDED' | 'MODIFIED' | 'DELETED'>().notNull(),
    object: jsonb('object').$type<StoredObject>().notNull(),
    prevObject: jsonb('prev_object').$type<StoredObject>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('apiserver_changes_resource_idx').on(t.resource, t.resourceVersion),
    index('apiserver_changes_created_idx').on(t.createdAt),
  ],
);

/**
 * One row (id 1): the latest resourceVersion and how far the change log is compacted. Writers
 * lock this row first, so resourceVersions are assigned and committed in the same order — a
 * Postgres sequence would hand out numbers in an order commits do not follow, and a watch could
 * then skip a change.
 */
export const apiserverState = pgTable('apiserver_state', {
  id: integer('id').primaryKey(),
  resourceVersion: bigint('resource_version', { mode: 'number' }).notNull(),
  compactedResourceVersion: bigint('compacted_resource_version', { mode: 'number' }).notNull(),
});
