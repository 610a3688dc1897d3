import { describe, expect, it } from 'vitest';
import {
  extendByOutages,
  type OutageWindow,
  offlineCutoff,
  offlineFrom,
  timerClock,
} from '../../src/planner/outages.js';
import { at } from './fixtures.js';

/** An outage from minute `from` to minute `to`. */
const down = (from: number, to: number): OutageWindow => ({ from: at(from), to: at(to) });
const minutes = (n: number) => n * 60_000;

describe('extendByOutages: a progress deadline counts only time the device API was up', () => {
  it.each<[string, OutageWindow[], number]>([
    ['no outage', [], 30],
    ['an outage before the start', [down(-20, -5)], 30],
    ['an outage after the end', [down(31, 50)], 30],
    ['an outage inside', [down(10, 25)], 45],
    ['an outage across the start counts from the start', [down(-5, 5)], 35],
    ['an outage across the end', [down(25, 40)], 45],
    ['an outage the extension reaches', [down(10, 20), down(35, 40)], 45],
    ['two outages, given out of order', [down(20, 25), down(5, 10)], 40],
  ])('%s', (_, outages, end) => {
    expect(extendByOutages(at(0), minutes(30), outages)).toEqual(at(end));
  });
});

describe('offlineCutoff: silence counts only while devices could report', () => {
  it.each<[string, number, OutageWindow[], number]>([
    ['no outage: offlineAfter ago', 60, [], 50],
    ['an outage that ended more than offlineAfter ago', 60, [down(20, 40)], 50],
    ['an outage that ended less than offlineAfter ago: as at its start', 60, [down(30, 55)], 20],
    ['offline before an outage stays offline', 40, [down(30, 35)], 20],
    ['during an outage: as at its start', 60, [down(55, 100)], 45],
    ['outages in a row walk back to the first', 60, [down(20, 45), down(47, 55)], 10],
  ])('%s', (_, clock, outages, cutoff) => {
    expect(offlineCutoff(at(clock), minutes(10), outages)).toEqual(at(cutoff));
  });

  it('a device silent through an outage and offlineAfter after it is offline', () => {
    const outages = [down(10, 30)];
    // heard from at minute 9: not offline until offlineAfter after the outage ended
    expect(offlineCutoff(at(39), minutes(10), outages).getTime()).toBeLessThan(at(9).getTime());
    expect(offlineCutoff(at(40), minutes(10), outages).getTime()).toBeGreaterThan(at(9).getTime());
  });
});

describe('offlineFrom: when a batch can first have offline devices', () => {
  it.each<[string, number, OutageWindow[], number | undefined]>([
    ['offlineAfter after the start', 5, [], 10],
    ['already', 12, [], undefined],
    ['offlineAfter after an outage in the batch', 12, [down(3, 8)], 18],
    ['an outage before the start does not matter', 5, [down(-8, -3)], 10],
  ])('%s', (_, clock, outages, when) => {
    const from = offlineFrom(at(0), at(clock), minutes(10), outages);
    expect(from).toEqual(when === undefined ? undefined : at(when));
  });
});

describe('timerClock', () => {
  it.each<[string, Date | undefined, Date]>([
    ['no heartbeat known: now', undefined, at(10)],
    ['held back to the latest heartbeat', at(9), at(9)],
    ['never ahead of now', at(11), at(10)],
  ])('%s', (_, lastBeatAt, clock) => {
    expect(timerClock(at(10), { available: true, lastBeatAt, outages: [] })).toEqual(clock);
  });
});
