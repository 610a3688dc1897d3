import { describe, expect, it } from 'vitest';
import { InvalidDuration, parseDuration } from '../../src/planner/duration.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['-0s', 0],
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['1h30m', 5_400_000],
    ['2h45m10s', 9_910_000],
    ['-2m', -120_000],
    ['+5s', 5_000],
    ['.5s', 500],
    ['5.s', 5_000],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['2000000ns', 2],
    ['10m0s', 600_000],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', /invalid duration/],
    ['5', /missing unit/],
    ['1.5', /missing unit/],
    ['1d', /invalid duration/],
    ['h', /invalid duration/],
    ['1h 30m', /invalid duration/],
    ['-', /invalid duration/],
    ['1hh', /invalid duration/],
    ['.s', /invalid duration/],
    ['9'.repeat(70), /invalid duration/],
  ])('rejects %j', (text, message) => {
    expect(() => parseDuration(text)).toThrow(InvalidDuration);
    expect(() => parseDuration(text)).toThrow(message);
  });
});
