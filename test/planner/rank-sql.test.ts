import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchEnds,
  batchOfRank,
  rankDevices,
  rankKey,
  rankKeySql,
} from '../../src/planner/membership.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';

const uid = '7d1c5e0a-3b2f-4c8d-9e6a-1f2b3c4d5e6f';
const devices = Array.from(
  { length: 200 },
  (_, i) =>
    `${(i * 2654435761).toString(16).padStart(8, '0').slice(-8)}-aaaa-4bbb-8ccc-${String(i).padStart(12, '0')}`,
);

describe.each(databaseBackends)('rank formula in SQL on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test?.drop());

  it('gives the same rank keys, ranks and batches as the TypeScript helpers', async () => {
    const ends = batchEnds(devices.length, [10, 50, 100]);
    const rows = await test.database.query<{
      uuid: string;
      key: string;
      rank: number;
      batch: number;
    }>(
      sql.raw(`
        with d as (select unnest(array[${devices.map((d) => `'${d}'`).join(',')}]::uuid[]) as uuid),
        keyed as (select uuid, ${rankKeySql(`'${uid}'`, 'uuid::text')} as key from d),
        ranked as (select uuid, key, (row_number() over (order by key, uuid) - 1)::int as rank from keyed)
        select uuid::text as uuid, key::text as key, rank,
          (1 + (select count(*) from unnest(array[${ends.join(',')}]::int[]) e where e <= rank))::int as batch
        from ranked order by rank`),
    );
    expect(rows.map((row) => row.uuid)).toEqual(rankDevices(uid, devices));
    for (const row of rows) {
      expect(BigInt(row.key)).toBe(rankKey(uid, row.uuid));
      expect(row.batch).toBe(batchOfRank(row.rank, ends));
    }
  });
});
