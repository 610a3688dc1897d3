import type { BatchStatus } from '../api/types.js';

/** The device counts the status shows for a batch, or summed for the rollout. */
export type StatusCounts = Pick<
  BatchStatus,
  'devices' | 'updated' | 'healthy' | 'failed' | 'offline' | 'pending'
>;

/**
 * Counts in the words and numbers the status shows (`status.batches[]`, `status.failed`, …), for
 * every message and Event note that quotes them, so a note never disagrees with the status it
 * was written with: "3 healthy, 4 failed, 0 offline, 3 soaking or updating of 10 devices".
 */
export function countsText(counts: StatusCounts): string {
  const parts = [
    `${counts.healthy} healthy`,
    `${counts.failed} failed`,
    `${counts.offline} offline`,
  ];
  const updating = counts.updated - counts.healthy;
  if (updating > 0) parts.push(`${updating} soaking or updating`);
  if (counts.pending > 0) parts.push(`${counts.pending} pending`);
  return `${parts.join(', ')} of ${counts.devices} devices`;
}

/** The rollout's counts: the sum over its batches, as `status.devices`, `status.failed`, …. */
export function sumCounts(batches: readonly StatusCounts[]): StatusCounts {
  const total = { devices: 0, updated: 0, healthy: 0, failed: 0, offline: 0, pending: 0 };
  for (const batch of batches) {
    for (const key of Object.keys(total) as Array<keyof StatusCounts>) total[key] += batch[key];
  }
  return total;
}
