import type { Database } from '../db/client.js';
import { notifyProgress } from '../db/progress-notifications.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * Coalesces the rollouts device reports changed into one NOTIFY per window per process: at fleet
 * scale a report per device must not become a notification per device. A lost notification
 * (crash, database error) only delays the controller until its periodic resync.
 */
export class ProgressNotifier {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    /** How long changes collect before they are announced. */
    private readonly windowMs = 250,
  ) {}

  /** Queues `keys` (rollout `namespace/name`) for the next notification. */
  changed(keys: readonly string[]): void {
    for (const key of keys) this.pending.add(key);
    if (this.pending.size > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), this.windowMs);
    }
  }

  /** Sends what is pending now; resolves when sent (errors are logged). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const keys = [...this.pending];
    this.pending.clear();
    if (keys.length === 0) return this.flushing;
    this.flushing = this.flushing
      .then(() => notifyProgress(this.database.db, keys))
      .catch((error: unknown) =>
        this.logger.warn({ err: error, rollouts: keys.length }, 'progress notification failed'),
      );
    return this.flushing;
  }
}
