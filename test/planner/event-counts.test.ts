import { describe, expect, it } from 'vitest';
import type { BatchStatus } from '../../src/api/types.js';
import type { RolloutPlan } from '../../src/planner/types.js';
import { at, type Behaviour, step, world } from './fixtures.js';

/** The counts a note quotes: "3 healthy, 4 failed, 0 offline[, N soaking or updating] of 10 devices". */
function quoted(note: string) {
  const match = note.match(
    /(\d+) healthy, (\d+) failed, (\d+) offline(?:, (\d+) soaking or updating)?(?:, (\d+) pending)? of (\d+) devices/,
  );
  if (!match) return undefined;
  const [healthy, failed, offline, updating, pending, devices] = match.slice(1).map(Number);
  return { healthy, failed, offline, updating: updating || 0, pending: pending || 0, devices };
}

/** The same counts as the status shows them for `batch`. */
function shown(batch: BatchStatus) {
  const { healthy, failed, offline, pending, devices } = batch;
  return { healthy, failed, offline, updating: batch.updated - healthy, pending, devices };
}

/** Batch 1 (10 devices): 3 healthy, 4 failed, 3 still updating; the later batches are healthy. */
const fourOfSeven: Behaviour = (batch, devices) =>
  batch === 1 ? { healthy: 3, failed: 4, updating: 3 } : { healthy: devices };

describe('planRollout: Event notes quote the counts of the status written with them', () => {
  it('the pause names 4 failed of the 7 that reported and the batch of 10 as status shows it', () => {
    const w = world(100, { failurePolicy: { maxFailurePercent: 20 } }, fourOfSeven);
    const plans = [step(w, at(0))];
    while (plans.length < 10 && plans.at(-1)?.status.phase !== 'Paused') plans.push(step(w, at(0)));
    const plan = plans.at(-1) as RolloutPlan;
    const [event] = plan.events;
    expect(event).toMatchObject({ type: 'Warning', reason: 'FailureBudgetExceeded' });
    expect(event?.note).toBe(
      'Paused, batch 1: 4 failed, 57% of the 7 devices that reported, above the 20% budget (3 healthy, 4 failed, 0 offline, 3 soaking or updating of 10 devices)',
    );
    expect(plan.status.message).toBe(event?.note);
    expect(plan.status.batches?.[0]).toMatchObject({ devices: 10, healthy: 3, failed: 4 });
    expect(quoted(event?.note ?? '')).toEqual(shown(plan.status.batches?.[0] as BatchStatus));
  });

  it.each<[string, Behaviour]>([
    ['all healthy', (_batch, devices) => ({ healthy: devices })],
    [
      'some failed and offline within the budget',
      (batch, devices) =>
        batch === 1 ? { healthy: devices - 2, failed: 1, offline: 1 } : { healthy: devices },
    ],
    ['over the budget', fourOfSeven],
  ])('every note with counts agrees with the status of its pass (%s)', (_, behaviour) => {
    const w = world(100, { failurePolicy: { action: 'Pause' } }, behaviour);
    const plans: RolloutPlan[] = [];
    for (let minute = 0; minute <= 120; minute += 5) {
      for (let pass = 0; pass < 10; pass++) {
        const plan = step(w, at(minute));
        plans.push(plan);
        if (plan.requeueAt?.getTime() !== at(minute).getTime()) break;
      }
    }
    const checked = plans.flatMap((plan) =>
      plan.events.flatMap((event) => {
        const counts = quoted(event.note);
        if (!counts) return [];
        const batch = Number(event.note.match(/^(?:Batch |Paused, batch )(\d+)/)?.[1]);
        const batches = plan.status.batches ?? [];
        const expected = Number.isNaN(batch)
          ? sumShown(batches)
          : shown(batches[batch - 1] as BatchStatus);
        expect({ reason: event.reason, counts }).toEqual({
          reason: event.reason,
          counts: expected,
        });
        return [event.reason];
      }),
    );
    expect(checked.length).toBeGreaterThan(0);
  });
});

function sumShown(batches: BatchStatus[]) {
  const total = { healthy: 0, failed: 0, offline: 0, updating: 0, pending: 0, devices: 0 };
  for (const batch of batches) {
    const counts = shown(batch);
    for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += counts[key];
  }
  return total;
}
