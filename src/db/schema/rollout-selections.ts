import { integer, pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core';

/**
 * The devices a rollout selected and their ranks, written in one statement and kept until they
 * are all members: selection happens once (so a crash cannot reshuffle ranks), and membership is
 * then created from here in rank-ordered chunks of bounded memory. Rows exist only while a
 * selection is being turned into members.
 */
export const rolloutSelections = pgTable(
  'rollout_selections',
  {
    rolloutUid: uuid('rollout_uid').notNull(),
    /** 0-based position in the rollout's (rank key, uuid) order. */
    rank: integer('rank').notNull(),
    deviceUuid: uuid('device_uuid').notNull(),
  },
  (t) => [primaryKey({ columns: [t.rolloutUid, t.rank] })],
);
