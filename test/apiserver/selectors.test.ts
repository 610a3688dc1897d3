import { describe, expect, it } from 'vitest';
import { parseResourcePath } from '../../src/apiserver/http/paths.js';
import {
  fieldMatcher,
  parseFieldSelector,
  parseLabelSelector,
} from '../../src/apiserver/selectors.js';

const labels = { app: 'web', tier: 'edge', size: '10' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app=api', false],
    ['missing!=x', true],
    ['app in (web, api)', true],
    ['app notin (web)', false],
    ['missing notin (web)', true],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['app=web,tier=edge', true],
    ['app=web,tier=core', false],
    ['size>5', true],
    ['size<5', false],
    ['missing>5', false],
    ['example.com/key=v', false],
    ['app=', false],
  ])('%s → %s', (selector, expected) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(expected);
  });

  it.each(['a b=c', 'app=we b', 'size>x', ',', 'app in (a,b'])(
    'rejects %s with 400',
    (selector) => {
      expect(() => parseLabelSelector(selector)).toThrow(expect.objectContaining({ code: 400 }));
    },
  );
});

describe('field selectors', () => {
  it.each([
    ['metadata.name=a', [{ field: 'metadata.name', operator: '=', value: 'a' }]],
    ['metadata.name==a', [{ field: 'metadata.name', operator: '=', value: 'a' }]],
    ['status.phase!=Done', [{ field: 'status.phase', operator: '!=', value: 'Done' }]],
    [
      'a=x\\,y,b=z',
      [
        { field: 'a', operator: '=', value: 'x,y' },
        { field: 'b', operator: '=', value: 'z' },
      ],
    ],
    ['a=', [{ field: 'a', operator: '=', value: '' }]],
  ])('parses %s', (selector, expected) => {
    expect(parseFieldSelector(selector)).toEqual(expected);
  });

  it('matches objects and refuses fields the kind does not support', () => {
    const byName = fieldMatcher(
      parseFieldSelector('name=a,phase!=Done'),
      ['name', 'phase'],
      (o: Record<string, string>) => o,
    );
    expect(byName({ name: 'a', phase: 'Running' })).toBe(true);
    expect(byName({ name: 'a', phase: 'Done' })).toBe(false);
    expect(() => fieldMatcher(parseFieldSelector('spec.x=1'), ['name'], () => ({}))).toThrow(
      'field label not supported: spec.x',
    );
    expect(() => parseFieldSelector('novalue')).toThrow(expect.objectContaining({ code: 400 }));
  });
});

describe('resource paths', () => {
  it.each([
    ['imagepolicies', { plural: 'imagepolicies' }],
    ['namespaces/default/imagepolicies', { namespace: 'default', plural: 'imagepolicies' }],
    [
      'namespaces/default/imagepolicies/web/status',
      { namespace: 'default', plural: 'imagepolicies', name: 'web', subresource: 'status' },
    ],
    ['namespaces/team-a', { plural: 'namespaces', name: 'team-a' }],
    ['namespaces/team-a/status', { plural: 'namespaces', name: 'team-a', subresource: 'status' }],
    [
      'namespaces/team-a/finalize',
      { plural: 'namespaces', name: 'team-a', subresource: 'finalize' },
    ],
    ['namespaces/a/x/b/c/d', undefined],
    ['x/../y', undefined],
  ])('%s', (path, expected) => {
    expect(parseResourcePath(path.split('/'))).toEqual(expected);
  });
});
