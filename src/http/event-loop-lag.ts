import { performance } from 'node:perf_hooks';

/** How often the lag is sampled: a timer due this often that runs late shows the loop's backlog. */
const SAMPLE_INTERVAL_MS = 100;

/**
 * How late this process's event loop runs: a timer due every 100 ms measures its own lateness.
 * `lateMs()` is the larger of the last lateness measured and how overdue the next tick is now, so
 * a loop that is behind shows it before the late timer gets to run.
 */
export class EventLoopLag {
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  private lastLateMs = 0;

  /** Starts sampling; the timer never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    this.due = performance.now() + SAMPLE_INTERVAL_MS;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lastLateMs = Math.max(0, now - this.due);
      this.due = now + SAMPLE_INTERVAL_MS;
    }, SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.lastLateMs = 0;
  }

  /** Milliseconds the event loop is behind; 0 when it keeps up (or sampling has not started). */
  lateMs(): number {
    if (!this.timer) return 0;
    return Math.max(this.lastLateMs, performance.now() - this.due);
  }
}
