import { describe, expect, it } from 'vitest';
import { LabelSelectorError, parseLabelSelector } from '../src/devices/label-selector.js';
import { matchesRequirements } from '../src/planner/selector.js';

describe('parseLabelSelector', () => {
  it.each([
    ['', []],
    ['env=prod', [{ key: 'env', operator: 'In', values: ['prod'] }]],
    ['env==prod', [{ key: 'env', operator: 'In', values: ['prod'] }]],
    ['env != prod', [{ key: 'env', operator: 'NotIn', values: ['prod'] }]],
    ['zone in (a, b)', [{ key: 'zone', operator: 'In', values: ['a', 'b'] }]],
    ['zone notin (a,b)', [{ key: 'zone', operator: 'NotIn', values: ['a', 'b'] }]],
    ['gpu', [{ key: 'gpu', operator: 'Exists', values: [] }]],
    ['!legacy', [{ key: 'legacy', operator: 'DoesNotExist', values: [] }]],
    ['example.com/tier=edge', [{ key: 'example.com/tier', operator: 'In', values: ['edge'] }]],
    ['empty=', [{ key: 'empty', operator: 'In', values: [''] }]],
    [
      'env=prod,zone in (a,b),!legacy',
      [
        { key: 'env', operator: 'In', values: ['prod'] },
        { key: 'zone', operator: 'In', values: ['a', 'b'] },
        { key: 'legacy', operator: 'DoesNotExist', values: [] },
      ],
    ],
  ])('parses %j', (input, expected) => {
    expect(parseLabelSelector(input)).toEqual(expected);
  });

  it.each([
    ['zone in (a,b', /unbalanced/],
    ['zone in ()', /at least one value/],
    ['-bad=x', /invalid label key/],
    ['env=has space', /invalid value/],
    ['env=a(b)', /unbalanced|invalid/],
    [`k=${'v'.repeat(64)}`, /invalid value/],
    ['x'.repeat(5000), /longer than/],
  ])('rejects %j', (input, message) => {
    expect(() => parseLabelSelector(input)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(input)).toThrow(message);
  });
});

describe('matchesRequirements of a parsed selector', () => {
  const labels = { env: 'prod', zone: 'a' };
  it.each([
    ['env=prod', true],
    ['env=dev', false],
    ['env!=dev', true],
    ['missing!=x', true],
    ['zone in (a,b)', true],
    ['zone notin (a,b)', false],
    ['missing notin (a)', true],
    ['missing in (a)', false],
    ['env', true],
    ['!env', false],
    ['!missing', true],
    ['env=prod,zone=b', false],
  ])('%s → %s', (selector, expected) => {
    expect(matchesRequirements(parseLabelSelector(selector), labels)).toBe(expected);
  });
});
