import { describe, expect, it } from 'vitest';
import type { Condition } from '../../src/api/types.js';
import { formatTime, setCondition, statusEqual } from '../../src/planner/conditions.js';

const earlier: Condition = {
  type: 'Ready',
  status: 'False',
  reason: 'BatchInProgress',
  message: 'Batch 1/3',
  lastTransitionTime: '2025-06-02T10:00:00Z',
  observedGeneration: 1,
};
const now = new Date('2025-06-02T12:00:00.750Z');

describe('setCondition', () => {
  it.each<[string, Partial<Condition>, string]>([
    [
      'keeps the time when only the reason changes',
      { reason: 'WaitingForInterval' },
      '2025-06-02T10:00:00Z',
    ],
    [
      'keeps the time when only the message changes',
      { message: 'Batch 2/3' },
      '2025-06-02T10:00:00Z',
    ],
    [
      'sets the time when the status flips',
      { status: 'True', reason: 'Succeeded' },
      '2025-06-02T12:00:00Z',
    ],
  ])('%s', (_, change, time) => {
    const { lastTransitionTime: _ignored, ...base } = earlier;
    const [result] = setCondition([earlier], { ...base, ...change }, now);
    expect(result).toEqual({ ...earlier, ...change, lastTransitionTime: time });
  });

  it('appends a new type and keeps the others in place', () => {
    const next = setCondition(
      [earlier],
      { type: 'Degraded', status: 'False', reason: 'WithinFailureBudget', message: '' },
      now,
    );
    expect(next.map((c) => c.type)).toEqual(['Ready', 'Degraded']);
    expect(next[1]?.lastTransitionTime).toBe('2025-06-02T12:00:00Z');
  });
});

describe('statusEqual', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['same content, other key order', { a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    ['undefined keys count as absent', { a: 1, b: undefined }, { a: 1 }, true],
    ['a changed nested value', { a: { b: 1 } }, { a: { b: 2 } }, false],
    ['a longer array', { a: [1] }, { a: [1, 2] }, false],
    ['array against object', { a: [] }, { a: {} }, false],
    ['null against object', { a: null }, { a: {} }, false],
    ['a missing key', { a: 1, b: 2 }, { a: 1 }, false],
  ])('%s → %s', (_, a, b, expected) => {
    expect(statusEqual(a, b)).toBe(expected);
    expect(statusEqual(b, a)).toBe(expected);
  });
});

describe('formatTime', () => {
  it('writes RFC 3339 at whole seconds, as the API server keeps it', () => {
    expect(formatTime(now)).toBe('2025-06-02T12:00:00Z');
  });
});
