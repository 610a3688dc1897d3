import type { Database } from '../db/client.js';
import { isConnectionError } from '../db/connection-errors.js';
import { readLatestBeat } from '../db/heartbeat-store.js';
import type { Logger } from '../telemetry/logger.js';

/** How often the controller looks at the device API's heartbeat (as often as replicas beat). */
export const DEVICE_API_WATCH_MS = 2_000;

/**
 * Watches the device API's heartbeat (or the database going away) and calls `changed` with the
 * new availability when devices become able or unable to report, so every rollout shows the
 * wait, or resumes, at once instead of at its next timer. Reconciles read the heartbeat
 * themselves: this only wakes them (and sets the availability gauge).
 */
export class DeviceApiWatch {
  private available = true;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    private readonly changed: (available: boolean) => void,
    private readonly intervalMs = DEVICE_API_WATCH_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      this.update(await this.read());
    } finally {
      this.checking = false;
    }
  }

  private async read(): Promise<{ available: boolean; cause?: string }> {
    try {
      return await readLatestBeat(this.database.db);
    } catch (error) {
      if (isConnectionError(error)) return { available: false, cause: 'DatabaseUnreachable' };
      this.logger.warn({ err: error }, 'device API heartbeat read failed');
      return { available: this.available };
    }
  }

  private update(next: { available: boolean; cause?: string }): void {
    if (next.available === this.available) return;
    this.available = next.available;
    if (next.available) this.logger.info('device API available again: rollouts resume');
    else
      this.logger.warn(
        { cause: next.cause ?? 'NoReplica' },
        'device API unavailable: rollouts wait',
      );
    this.changed(next.available);
  }
}
