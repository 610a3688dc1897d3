import { sql } from 'drizzle-orm';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../telemetry/logger.js';
import { METRIC_PREFIX } from '../telemetry/metrics.js';
import type { Database } from './client.js';

/** Rows deleted by one statement: short transactions, however big the backlog. */
const BATCH_SIZE = 1000;
/** Batches per round at most, so a round on a huge backlog ends and the next one goes on. */
const MAX_BATCHES = 500;

/**
 * Deletes event-log entries created before `before`, oldest first, in batches of `batchSize`
 * (each its own statement, found through the index on `created_at`). Rows another pruner holds
 * are skipped, so processes pruning at once neither wait for nor repeat each other's work.
 * Returns how many entries were deleted.
 */
export async function pruneEventLog(
  database: Pick<Database, 'query'>,
  before: Date,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const maxBatches = options.maxBatches ?? MAX_BATCHES;
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const [row] = await database.query<{ count: number }>(
      sql`with doomed as (
            select id from events where created_at < ${before.toISOString()}::timestamptz
            order by created_at limit ${batchSize} for update skip locked),
          gone as (delete from events where id in (select id from doomed) returning 1)
          select count(*)::int as count from gone`,
    );
    const count = Number(row?.count ?? 0);
    deleted += count;
    if (count < batchSize) break;
  }
  return deleted;
}

/** What the periodic pruner needs. */
export interface EventLogPrunerOptions {
  database: Pick<Database, 'query' | 'connection'>;
  /** Entries older than this are deleted. */
  retentionMs: number;
  logger: Logger;
  metrics: Registry;
  /** Between rounds; default 10 minutes. The first round runs after a tenth of it. */
  intervalMs?: number;
  now?: () => Date;
}

/**
 * Prunes the event log every `intervalMs` in every process that runs a role (cheap: an index
 * range scan finding nothing when nothing is old; concurrent pruners skip each other's rows).
 * Counts deletions in `fleet_rollout_event_log_pruned_total`. Stop it before closing the database.
 */
export function startEventLogPruner(options: EventLogPrunerOptions): { stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 600_000;
  const now = options.now ?? (() => new Date());
  const logger = options.logger.child({ component: 'event-log' });
  const pruned = new Counter({
    name: `${METRIC_PREFIX}event_log_pruned_total`,
    help: 'Event log entries deleted because they were older than the retention.',
    registers: [options.metrics],
  });
  let round: Promise<void> | undefined;
  const run = () => {
    if (round) return; // the previous round is still deleting
    round = (async () => {
      try {
        const count = await pruneEventLog(
          options.database,
          new Date(now().getTime() - options.retentionMs),
        );
        pruned.inc(count);
        if (count > 0) logger.info({ pruned: count }, 'pruned old event log entries');
      } catch (error) {
        // An unreachable database is logged once by the connection state, not every round.
        if (!options.database.connection.failed(error)) {
          logger.warn({ err: error }, 'cannot prune the event log');
        }
      }
    })().finally(() => {
      round = undefined;
    });
  };
  const first = setTimeout(run, intervalMs / 10);
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await round;
    },
  };
}
