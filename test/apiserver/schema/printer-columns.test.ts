import { describe, expect, it } from 'vitest';
import {
  evaluatePrinterColumn,
  findJsonPath,
  humanDuration,
  type PrinterColumn,
} from '../../../src/apiserver/schema/index.js';
import { crdOf, policyWith, rolloutWith } from '../../support/resources.js';

const NOW = new Date('2025-05-01T12:00:00Z');
const created = { creationTimestamp: '2025-05-01T11:54:50Z' };

const cells = (kind: 'ImagePolicy' | 'ImageRollout', object: unknown) =>
  Object.fromEntries(
    crdOf(kind).printerColumns.map((column) => [
      column.name,
      evaluatePrinterColumn(column, object, NOW),
    ]),
  );

describe('evaluatePrinterColumn', () => {
  it('fills every ImageRollout column', () => {
    const rollout = {
      ...rolloutWith(
        {},
        {
          phase: 'Progressing',
          currentBatch: 2,
          totalBatches: 3,
          devices: 40,
          updated: 20,
          healthy: 18,
          failed: 1,
          message: 'soaking',
        },
      ),
      metadata: { name: 'web-1-2-3', ...created },
    };
    expect(cells('ImageRollout', rollout)).toEqual({
      Image: 'ghcr.io/acme/web',
      Tag: '1.2.3',
      Phase: 'Progressing',
      Batch: 2,
      Devices: 40,
      Updated: 20,
      Healthy: 18,
      Failed: 1,
      Batches: 3,
      Policy: 'web',
      Message: 'soaking',
      Age: '5m10s',
    });
  });

  it('fills every ImagePolicy column, Ready from the condition list', () => {
    const policy = {
      ...policyWith(),
      metadata: { name: 'web', ...created },
      status: {
        selectedDevices: 12,
        latestImage: 'ghcr.io/acme/web:1.2.3',
        latestRollout: 'web-1-2-3',
        rolledBackImage: 'ghcr.io/acme/web:1.2.4',
        rolledBackRollout: 'web-1-2-4',
        conditions: [
          { type: 'Progressing', status: 'False' },
          { type: 'Ready', status: 'True' },
        ],
      },
    };
    expect(cells('ImagePolicy', policy)).toEqual({
      Image: 'ghcr.io/acme/web',
      Selected: 12,
      Latest: 'ghcr.io/acme/web:1.2.3',
      'Rolled Back': 'ghcr.io/acme/web:1.2.4',
      Ready: 'True',
      Strategy: null,
      Rollout: 'web-1-2-3',
      Age: '5m10s',
    });
  });

  it('leaves cells of missing fields null, as before the first status', () => {
    const values = Object.values(cells('ImageRollout', rolloutWith()));
    expect(values.filter((value) => value !== null)).toEqual(['ghcr.io/acme/web', '1.2.3', 'web']);
  });

  it.each<[PrinterColumn['type'], unknown, unknown]>([
    ['integer', 2.9, 2],
    ['integer', 'two', null],
    ['number', 2.5, 2.5],
    ['boolean', true, true],
    ['boolean', 'true', null],
    ['string', 7, '7'],
    ['string', { a: 1 }, '{"a":1}'],
    ['date', 'yesterday', '<invalid>'],
    ['date', 5, null],
  ])('renders a %s column holding %j as %j', (type, value, cell) => {
    const column: PrinterColumn = { name: 'X', type, jsonPath: '.spec.x' };
    expect(evaluatePrinterColumn(column, { spec: { x: value } }, NOW)).toEqual(cell);
  });
});

describe('findJsonPath', () => {
  const object = {
    items: [
      { name: 'a', kind: 'x' },
      { name: 'b', kind: 'y' },
      { name: 'c', kind: 'x' },
    ],
  };

  it.each([
    ['.items[0].name', ['a']],
    ['.items[*].name', ['a', 'b', 'c']],
    ['.items[?(@.kind=="x")].name', ['a', 'c']],
    ["{.items[?(@.kind!='x')].name}", ['b']],
    ["$.items[2]['name']", ['c']],
    ['.items[5].name', []],
    ['.missing.deeper', []],
  ])('%s selects %j', (path, values) => {
    expect(findJsonPath(path, object)).toEqual(values);
  });

  it('refuses JSONPath beyond the subset printer columns use', () => {
    expect(() => findJsonPath('.items[0:2]', object)).toThrow('unsupported JSONPath ".items[0:2]"');
  });
});

describe('humanDuration', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  it.each([
    [-5 * s, '<invalid>'],
    [-1 * s, '0s'],
    [0, '0s'],
    [119 * s, '119s'],
    [5 * m, '5m'],
    [5 * m + 10 * s, '5m10s'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [7 * h + 59 * m, '7h59m'],
    [47 * h, '47h'],
    [3 * d + 4 * h, '3d4h'],
    [6 * d, '6d'],
    [400 * d, '400d'],
    [2 * 365 * d + 3 * d, '2y3d'],
    [9 * 365 * d, '9y'],
  ])('renders %d ms as %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
