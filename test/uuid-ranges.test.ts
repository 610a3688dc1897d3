import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidRanges } from '../src/db/uuid-ranges.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

describe('uuidRanges', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('pglite');
  });
  afterAll(() => test?.drop());

  it.each([1, 2, 16, 64, 256])(
    'splits uuids into %i ranges that cover each exactly once',
    async (parts) => {
      const uuids = [
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
        '3fffffff-ffff-ffff-ffff-ffffffffffff',
        '40000000-0000-0000-0000-000000000000',
        ...Array.from({ length: 200 }, () => randomUUID()),
      ];
      const seen: string[] = [];
      for (const range of uuidRanges(sql`u`, parts)) {
        const rows = await test.database.query<{ u: string }>(
          sql`select u::text from (select value::uuid as u from jsonb_array_elements_text(${JSON.stringify(uuids)}::jsonb)) x where ${range}`,
        );
        seen.push(...rows.map((row) => row.u));
      }
      expect(seen.sort()).toEqual([...uuids].sort());
    },
  );

  it.each([0, 3, 512])('refuses %i parts', (parts) => {
    expect(() => uuidRanges(sql`u`, parts)).toThrow(/power of two/);
  });
});
