import { describe, expect, it } from 'vitest';
import type { DeviceSelector } from '../../src/api/types.js';
import { selectsDevice } from '../../src/planner/selector.js';

const device = {
  uuid: '5B0A1F3E-8C1D-4A8E-9A57-2F4D7C9E0B11',
  fleet: 'berlin',
  labels: { env: 'prod', tier: 'edge', gpu: '' },
};

describe('selectsDevice', () => {
  it.each<[string, DeviceSelector, boolean]>([
    ['its fleet', { fleets: ['paris', 'berlin'] }, true],
    ['another fleet', { fleets: ['paris'] }, false],
    ['matching labels', { matchLabels: { env: 'prod', tier: 'edge' } }, true],
    ['a label with another value', { matchLabels: { env: 'dev' } }, false],
    ['a missing label', { matchLabels: { site: 'a' } }, false],
    ['an empty label value', { matchLabels: { gpu: '' } }, true],
    [
      'In with its value',
      { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] },
      true,
    ],
    [
      'In without its value',
      { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] },
      false,
    ],
    [
      'In on a missing key',
      { matchExpressions: [{ key: 'site', operator: 'In', values: ['a'] }] },
      false,
    ],
    [
      'NotIn with its value',
      { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
      false,
    ],
    [
      'NotIn without its value',
      { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] },
      true,
    ],
    [
      'NotIn on a missing key',
      { matchExpressions: [{ key: 'site', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, true],
    ['Exists on a missing key', { matchExpressions: [{ key: 'site', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'site', operator: 'DoesNotExist' }] }, true],
    [
      'DoesNotExist on a present key',
      { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] },
      false,
    ],
    ['fleet AND labels, both match', { fleets: ['berlin'], matchLabels: { env: 'prod' } }, true],
    ['fleet AND labels, labels fail', { fleets: ['berlin'], matchLabels: { env: 'dev' } }, false],
    ['fleet AND labels, fleet fails', { fleets: ['paris'], matchLabels: { env: 'prod' } }, false],
    [
      'labels AND expressions, one fails',
      {
        matchLabels: { env: 'prod' },
        matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['edge'] }],
      },
      false,
    ],
    ['its uuid listed (any case)', { devices: ['5b0a1f3e-8c1d-4a8e-9a57-2f4d7c9e0b11'] }, true],
    ['only other uuids listed', { devices: ['00000000-0000-4000-8000-000000000000'] }, false],
    ['its uuid listed, rules fail: union', { fleets: ['paris'], devices: [device.uuid] }, true],
    [
      'rules match, other uuids listed: union',
      { fleets: ['berlin'], devices: ['00000000-0000-4000-8000-000000000000'] },
      true,
    ],
    ['an empty selector', {}, false],
    ['an empty matchLabels (matches every device)', { matchLabels: {} }, true],
  ])('%s → %s', (_, selector, expected) => {
    expect(selectsDevice(selector, device)).toBe(expected);
  });
});
