import { type Clock, systemClock, type TimerHandle } from '../../src/controller/clock.js';

/** The real clock, counting the timers scheduled through it that have neither fired nor been cleared. */
export class TrackingClock implements Clock {
  private readonly pending = new Set<TimerHandle>();

  now(): number {
    return systemClock.now();
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const handle = systemClock.setTimeout(() => {
      this.pending.delete(handle);
      callback();
    }, ms);
    this.pending.add(handle);
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle);
    systemClock.clearTimeout(handle);
  }

  /** Timers still waiting to fire. */
  get pendingTimers(): number {
    return this.pending.size;
  }
}
