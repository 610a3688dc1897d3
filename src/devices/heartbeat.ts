import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db/client.js';
import { beat, stopBeating } from '../db/heartbeat-store.js';
import { formatTime } from '../planner/conditions.js';
import type { Logger } from '../telemetry/logger.js';

/** Default time between beats. */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** A replica counts as down once this many intervals pass without a beat. */
const TTL_INTERVALS = 5;

/**
 * This replica's heartbeat in Postgres: proof for the controller that devices can report here.
 * A beat that fails (the database is down) is simply missed — the gap it leaves is the outage.
 */
export class Heartbeat {
  /** host/pid/random: unique per process, readable for operators. */
  readonly replica = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    private readonly intervalMs = HEARTBEAT_INTERVAL_MS,
  ) {}

  /** Beats once (waits for it: the gap since the last replica is recorded first), then on. */
  async start(): Promise<void> {
    await this.beatOnce();
    this.timer = setInterval(() => {
      // a beat still waiting for the database is not doubled
      this.beating ??= this.beatOnce().finally(() => {
        this.beating = undefined;
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops beating and marks this replica down at once (best effort). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    await stopBeating(this.database.db, this.replica).catch((error: unknown) => {
      if (!this.database.connection.failed(error)) {
        this.logger.warn({ err: error }, 'could not mark the heartbeat stopped');
      }
    });
  }

  private async beatOnce(): Promise<void> {
    try {
      const outage = await beat(this.database.db, this.replica, this.intervalMs * TTL_INTERVALS);
      this.database.connection.succeeded();
      if (outage) {
        const { from, to } = { from: formatTime(outage.from), to: formatTime(outage.to) };
        this.logger.warn({ from, to }, 'device API outage recorded: no replica took reports');
      }
    } catch (error) {
      if (!this.database.connection.failed(error)) {
        this.logger.warn({ err: error }, 'heartbeat failed');
      }
    }
  }
}
