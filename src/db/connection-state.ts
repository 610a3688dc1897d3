import type { Logger } from '../telemetry/logger.js';
import { connectionErrorOf } from './connection-errors.js';

/**
 * Whether this process can reach its database, as its connections last saw it. Every pool
 * client, LISTEN connection and request that meets a connection error reports it here, every
 * new connection reports success; the log gets one line per change, never one per failure.
 */
export class ConnectionState {
  private up = true;

  constructor(private readonly logger: Logger) {}

  /** False from a connection error until a connection succeeds again. */
  get available(): boolean {
    return this.up;
  }

  /** Records `error` if it is a connection error (returns whether it was). */
  failed(error: unknown): boolean {
    const cause = connectionErrorOf(error);
    if (!cause) return false;
    if (this.up) {
      this.up = false;
      const code = (cause as { code?: unknown }).code;
      this.logger.warn({ code, reason: cause.message }, 'database connection lost');
    }
    return true;
  }

  /** Records that a connection was made (or a query answered). */
  succeeded(): void {
    if (this.up) return;
    this.up = true;
    this.logger.info('database connection restored');
  }
}
