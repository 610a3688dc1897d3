import { describe, expect, it } from 'vitest';
import type { MaintenanceWindow } from '../../src/api/types.js';
import { windowOpenAt, windowProblem } from '../../src/planner/windows.js';

const nightly = (timeZone?: string): MaintenanceWindow => ({
  schedule: '0 22 * * *',
  duration: '4h',
  timeZone,
});

describe('windowOpenAt', () => {
  it.each<[string, MaintenanceWindow[], string, string | undefined]>([
    [
      'inside a window that crossed midnight (UTC)',
      [nightly()],
      '2025-06-03T01:30:00Z',
      '2025-06-03T01:30:00Z',
    ],
    ['at the exact opening', [nightly()], '2025-06-02T22:00:00Z', '2025-06-02T22:00:00Z'],
    [
      'at the exact closing: the next night',
      [nightly()],
      '2025-06-03T02:00:00Z',
      '2025-06-03T22:00:00Z',
    ],
    [
      'before the opening: later that day',
      [nightly()],
      '2025-06-02T12:00:00Z',
      '2025-06-02T22:00:00Z',
    ],
    [
      'New York 22:00 EDT is 02:00 UTC: open at 03:00 UTC',
      [nightly('America/New_York')],
      '2025-06-03T03:00:00Z',
      '2025-06-03T03:00:00Z',
    ],
    [
      'New York window still closed at 01:00 UTC',
      [nightly('America/New_York')],
      '2025-06-03T01:00:00Z',
      '2025-06-03T02:00:00Z',
    ],
    [
      'Tokyo 22:00 JST is 13:00 UTC',
      [nightly('Asia/Tokyo')],
      '2025-06-02T12:00:00Z',
      '2025-06-02T13:00:00Z',
    ],
    [
      'the earliest of several windows',
      [nightly('Asia/Tokyo'), nightly()],
      '2025-06-02T18:00:00Z',
      '2025-06-02T22:00:00Z',
    ],
    [
      'weekdays only: Saturday waits for Monday',
      [{ schedule: '0 9 * * 1-5', duration: '8h' }],
      '2025-06-07T10:00:00Z',
      '2025-06-09T09:00:00Z',
    ],
    // Europe/Berlin springs forward on 2025-03-30 at 02:00 → 03:00: a 02:30 start moves to 03:00 CEST.
    [
      'a start in the spring DST gap opens after the gap',
      [{ schedule: '30 2 * * *', duration: '1h', timeZone: 'Europe/Berlin' }],
      '2025-03-30T00:45:00Z',
      '2025-03-30T01:00:00Z',
    ],
    [
      'the day after the spring change keeps local time',
      [{ schedule: '30 2 * * *', duration: '1h', timeZone: 'Europe/Berlin' }],
      '2025-03-30T12:00:00Z',
      '2025-03-31T00:30:00Z',
    ],
    // Berlin falls back on 2025-10-26 at 03:00 → 02:00: 02:30 happens twice, the window opens once.
    [
      'a repeated local time opens once (first occurrence)',
      [{ schedule: '30 2 * * *', duration: '30m', timeZone: 'Europe/Berlin' }],
      '2025-10-26T00:00:00Z',
      '2025-10-26T00:30:00Z',
    ],
    [
      '…and not again at the second occurrence',
      [{ schedule: '30 2 * * *', duration: '30m', timeZone: 'Europe/Berlin' }],
      '2025-10-26T01:15:00Z',
      '2025-10-27T01:30:00Z',
    ],
    [
      'a window spanning the fall change lasts its elapsed duration',
      [{ schedule: '0 1 * * *', duration: '3h', timeZone: 'Europe/Berlin' }],
      '2025-10-26T01:59:00Z',
      '2025-10-26T01:59:00Z',
    ],
    [
      '…closes 3 elapsed hours after 01:00 CEST; the next opens at 01:00 CET',
      [{ schedule: '0 1 * * *', duration: '3h', timeZone: 'Europe/Berlin' }],
      '2025-10-26T02:00:00Z',
      '2025-10-27T00:00:00Z',
    ],
    [
      'a schedule that never fires again',
      [{ schedule: '0 0 30 2 *', duration: '1h' }],
      '2025-06-02T12:00:00Z',
      undefined,
    ],
  ])('%s', (_, windows, from, expected) => {
    expect(windowOpenAt(windows, new Date(from))?.toISOString().replace('.000Z', 'Z')).toBe(
      expected,
    );
  });
});

describe('windowProblem', () => {
  it.each<[MaintenanceWindow, RegExp | undefined]>([
    [nightly('Europe/Berlin'), undefined],
    [
      { schedule: '0 22 * * *', duration: '4h', timeZone: 'Mars/Olympus' },
      /unknown IANA time zone/,
    ],
    [{ schedule: '0 22 * *', duration: '4h' }, /invalid cron schedule/],
    [{ schedule: '0 0 22 * * *', duration: '4h' }, /invalid cron schedule/],
    [{ schedule: '61 22 * * *', duration: '4h' }, /invalid cron schedule/],
    [{ schedule: '0 22 * * *', duration: '4 hours' }, /invalid duration/],
    [{ schedule: '0 22 * * *', duration: '0s' }, /must be positive/],
    [{ schedule: '0 0 30 2 *', duration: '1h' }, /never fires/],
  ])('%j → %s', (window, problem) => {
    const found = windowProblem(window);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });
});
