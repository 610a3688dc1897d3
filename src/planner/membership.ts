import { createHash } from 'node:crypto';

/**
 * The seed a rollout's membership order is drawn from: `<namespace>/<name>`. A name, not the
 * uid the API server assigns at creation, so a preview can tell which devices land in which
 * batch before the rollout exists (the webhook names rollouts deterministically).
 */
export function membershipSeed(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * Stable membership order of a rollout. The rank key of a device is the first 8 bytes of
 * md5(`<seed>:<device uuid>`) (both lower-case text; the seed is membershipSeed) read as a
 * big-endian signed 64-bit integer; ordering members by (rank key, device uuid) and numbering
 * them from 0 gives the `rank` column. Postgres computes the same key with rankKeySql, so
 * either side can rank.
 */
export function rankKey(seed: string, deviceUuid: string): bigint {
  const digest = createHash('md5')
    .update(`${seed.toLowerCase()}:${deviceUuid.toLowerCase()}`)
    .digest();
  return digest.readBigInt64BE(0);
}

/**
 * The SQL expression of rankKey over two text expressions (e.g. `$1::text`, `d.uuid::text`):
 * `('x' || left(md5(lower(seed) || ':' || lower(uuid)), 16))::bit(64)::bigint`.
 */
export function rankKeySql(seedExpr: string, deviceUuidExpr: string): string {
  return `('x' || left(md5(lower(${seedExpr}) || ':' || lower(${deviceUuidExpr})), 16))::bit(64)::bigint`;
}

/** Orders devices by rank key then uuid: index i of the result has rank i. */
export function rankDevices(seed: string, deviceUuids: readonly string[]): string[] {
  return deviceUuids
    .map((uuid) => ({ uuid, key: rankKey(seed, uuid) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.uuid < b.uuid ? -1 : 1))
    .map((entry) => entry.uuid);
}

/** One planned batch: the cumulative device count it reaches and the percentage behind it. */
export interface PlannedBatch {
  end: number;
  percent: number;
}

/**
 * Plans batches for `memberCount` members after the batches already started (`startedEnds`,
 * cumulative counts). Each percentage p reaches ceil(n·p/100) devices; a percentage that would
 * add no device (its count is not above what earlier batches reach) is skipped, so every batch
 * is non-empty and tiny fleets get fewer batches; the last batch reaches all n. Replanning from
 * a prefix of a plan with the same percentages gives back the rest of that same plan.
 */
export function planBatches(
  memberCount: number,
  percentages: readonly number[],
  startedEnds: readonly number[] = [],
): PlannedBatch[] {
  const planned: PlannedBatch[] = [];
  let reached = startedEnds.at(-1) ?? 0;
  for (const percent of percentages) {
    const end = Math.min(memberCount, Math.ceil((memberCount * percent) / 100));
    if (end > reached) {
      planned.push({ end, percent });
      reached = end;
    }
  }
  if (reached < memberCount) planned.push({ end: memberCount, percent: 100 });
  return planned;
}

/**
 * Cumulative device counts ("batch ends"): batch k holds ranks [ends[k-2], ends[k-1]). Started
 * batches keep their ends; the rest follow planBatches.
 */
export function batchEnds(
  memberCount: number,
  percentages: readonly number[],
  startedEnds: readonly number[] = [],
): number[] {
  const rest = planBatches(memberCount, percentages, startedEnds).map((batch) => batch.end);
  return [...startedEnds, ...rest];
}

/** Device count of each batch, from batchEnds. */
export function batchSizes(memberCount: number, percentages: readonly number[]): number[] {
  return endsToSizes(batchEnds(memberCount, percentages));
}

/** Sizes from cumulative ends. */
export function endsToSizes(ends: readonly number[]): number[] {
  return ends.map((end, i) => end - (i === 0 ? 0 : (ends[i - 1] as number)));
}

/**
 * The 1-based batch of the member with 0-based `rank`: one more than the number of ends at or
 * below it. In SQL: `1 + (select count(*) from unnest($ends::int[]) e where e <= rank)`.
 */
export function batchOfRank(rank: number, ends: readonly number[]): number {
  let batch = 1;
  for (const end of ends) if (end <= rank) batch++;
  return batch;
}
