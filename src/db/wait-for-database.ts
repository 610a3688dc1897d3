import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../controller/backoff.js';
import type { Logger } from '../telemetry/logger.js';
import type { Database } from './client.js';
import { connectionErrorOf } from './connection-errors.js';

/** Retry delays while the database is unreachable at start: 0.5 s doubling up to 5 s, jittered. */
const RETRY = { baseMs: 500, maxMs: 5_000, jitter: 0.2 };

/**
 * Applies the migrations, waiting for a database that cannot be reached yet (a Postgres that
 * starts after us, or restarts): each connection error is retried with backoff, with one warning
 * line when the wait begins and one info line when the database answers. Any other error (a
 * failed migration, bad credentials) is thrown at once. Rejects with `signal`'s reason if aborted.
 */
export async function migrateWhenReachable(
  database: Database,
  logger: Logger,
  options: { signal?: AbortSignal; random?: () => number } = {},
): Promise<void> {
  const startedAt = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      await database.migrate();
      if (attempt > 0) {
        logger.info({ waitedMs: Date.now() - startedAt }, 'database reachable; starting');
      }
      return;
    } catch (error) {
      const cause = connectionErrorOf(error);
      if (!cause) throw error;
      const delayMs = backoffDelay(attempt, RETRY, options.random);
      const fields = { code: (cause as { code?: unknown }).code, reason: cause.message, delayMs };
      if (attempt === 0) logger.warn(fields, 'database unreachable; waiting for it');
      else logger.debug(fields, 'database still unreachable');
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}
