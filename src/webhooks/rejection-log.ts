import type { Logger } from '../telemetry/logger.js';

/** What a log line says about one refused delivery. */
export interface RefusedDelivery {
  registry: string;
  status: number;
  reason: string;
  detail: string | undefined;
  ip: string;
}

/**
 * Logs refused deliveries at most once per interval: the first refusal of an interval is a
 * warning line with `alsoRefused`, how many went unlogged since the previous line. A flood of
 * unauthenticated requests costs a counter increment each, not a line (nor a database row).
 */
export class RejectionLog {
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly intervalMs = 60_000,
  ) {}

  /** Notes one refused delivery; logs it unless a line was written less than an interval ago. */
  refused(delivery: RefusedDelivery): void {
    const now = this.now();
    if (now - this.lastLineAt < this.intervalMs) {
      this.unlogged += 1;
      return;
    }
    this.logger.warn({ ...delivery, alsoRefused: this.unlogged }, 'webhook rejected');
    this.lastLineAt = now;
    this.unlogged = 0;
  }
}
