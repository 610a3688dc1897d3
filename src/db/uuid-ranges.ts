import { type AnyColumn, type SQL, sql } from 'drizzle-orm';

/**
 * Conditions splitting uuids into `parts` (a power of two up to 256) contiguous ranges by their
 * leading hex digits. Bulk reads go range by range instead of by keyset pages: no ORDER BY and
 * LIMIT, so a plan chosen from stale statistics (right after a bulk insert) cannot turn paging
 * into a sort of the whole set per page, and memory stays bounded by one range.
 */
export function uuidRanges(column: AnyColumn | SQL, parts: number): SQL[] {
  if (!Number.isInteger(Math.log2(parts)) || parts > 256) {
    throw new Error(`uuid ranges: ${parts} is not a power of two up to 256`);
  }
  const step = 256 / parts;
  const bound = (i: number) =>
    `${(i * step).toString(16).padStart(2, '0')}000000-0000-0000-0000-000000000000`;
  return Array.from({ length: parts }, (_, i) => {
    if (parts === 1) return sql`true`;
    if (i === 0) return sql`${column} < ${bound(1)}::uuid`;
    if (i === parts - 1) return sql`${column} >= ${bound(i)}::uuid`;
    return sql`${column} >= ${bound(i)}::uuid and ${column} < ${bound(i + 1)}::uuid`;
  });
}
