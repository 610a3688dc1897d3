import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceSelector } from '../../src/api/types.js';
import { deviceSelectorSql } from '../../src/db/device-selector-sql.js';
import { registerDevice } from '../../src/db/device-store.js';
import { queryRows } from '../../src/db/rows.js';
import { type SelectableDevice, selectsDevice } from '../../src/planner/selector.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';

const FLEET: Array<Omit<SelectableDevice, 'uuid'>> = [
  { fleet: 'berlin', labels: { env: 'prod', tier: 'edge' } },
  { fleet: 'berlin', labels: { env: 'dev' } },
  { fleet: 'paris', labels: { env: 'prod', gpu: '' } },
  { fleet: 'paris', labels: {} },
  { fleet: 'oslo', labels: { tier: 'core', env: 'staging' } },
];

const SELECTORS: Array<[string, DeviceSelector]> = [
  ['fleets', { fleets: ['berlin', 'oslo'] }],
  ['matchLabels', { matchLabels: { env: 'prod' } }],
  ['an empty label value', { matchLabels: { gpu: '' } }],
  ['In', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'staging'] }] }],
  [
    'NotIn (also without the key)',
    { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
  ],
  ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }],
  ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }],
  [
    'every part together',
    {
      fleets: ['berlin', 'paris'],
      matchLabels: { env: 'prod' },
      matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }],
    },
  ],
  ['an empty matchLabels', { matchLabels: {} }],
];

/** The SQL translation selects exactly the devices `selectsDevice` selects. */
describe.each(databaseBackends)('device selector in SQL on %s', (backend) => {
  let test: TestDatabase;
  const devices: SelectableDevice[] = [];
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    for (const device of FLEET) {
      const { uuid } = await registerDevice(test.database.db, { ...device, apps: {} });
      devices.push({ uuid, ...device });
    }
  });
  afterAll(() => test?.drop());

  const selected = async (selector: DeviceSelector) => {
    const rows = await queryRows<{ uuid: string }>(
      test.database.db,
      sql`select uuid::text as uuid from devices where ${deviceSelectorSql(selector)}`,
    );
    return rows.map((row) => row.uuid).sort();
  };

  it.each(SELECTORS)('%s', async (_, selector) => {
    const expected = devices.filter((d) => selectsDevice(selector, d)).map((d) => d.uuid);
    expect(await selected(selector)).toEqual(expected.sort());
  });

  it('adds listed devices (any case) to those the rules select', async () => {
    const listed = devices[3]!.uuid.toUpperCase();
    const selector = { fleets: ['oslo'], devices: [listed] };
    expect(await selected(selector)).toEqual([devices[3]!.uuid, devices[4]!.uuid].sort());
    expect(await selected({ devices: [listed] })).toEqual([devices[3]!.uuid]);
  });
});
