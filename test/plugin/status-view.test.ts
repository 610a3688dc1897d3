import type { EventsV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ImageRollout, ImageRolloutStatus } from '../../src/api/types.js';
import { renderStatus, waitingFor } from '../../src/plugin/status-view.js';
import { progressBar } from '../../src/plugin/text.js';

const NOW = new Date('2026-01-01T11:12:00Z');

function rollout(
  status: ImageRolloutStatus,
  spec: Partial<ImageRollout['spec']> = {},
): ImageRollout {
  return {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImageRollout',
    metadata: { name: 'web-1-29', namespace: 'default', uid: 'u1' },
    spec: {
      policyRef: { name: 'web' },
      image: 'docker.io/library/nginx',
      tag: '1.29',
      strategy: { type: 'Manual', batches: [10, 50, 100] },
      approvedBatches: 1,
      ...spec,
    },
    status,
  };
}

const waiting: ImageRolloutStatus = {
  phase: 'WaitingForApproval',
  currentBatch: 1,
  totalBatches: 3,
  devices: 100,
  updated: 9,
  healthy: 9,
  failed: 1,
  message: 'Batch 2/3 waits for approval: set spec.approvedBatches to 2',
  batches: [
    {
      batch: 1,
      percent: 10,
      devices: 10,
      updated: 9,
      healthy: 9,
      failed: 1,
      offline: 0,
      pending: 0,
      startedAt: '2026-01-01T11:00:00Z',
      completedAt: '2026-01-01T11:10:00Z',
    },
    {
      batch: 2,
      percent: 50,
      devices: 40,
      updated: 0,
      healthy: 0,
      failed: 0,
      offline: 0,
      pending: 40,
    },
    {
      batch: 3,
      percent: 100,
      devices: 50,
      updated: 0,
      healthy: 0,
      failed: 0,
      offline: 0,
      pending: 50,
    },
  ],
  conditions: [
    {
      type: 'Ready',
      status: 'False',
      reason: 'WaitingForApproval',
      message: 'Batch 2/3 waits for approval',
      lastTransitionTime: '2026-01-01T11:10:00Z',
    },
  ],
};

const event = (reason: string, note: string, time: string, count?: number): EventsV1Event => ({
  type: 'Normal',
  reason,
  note,
  eventTime: time as unknown as EventsV1Event['eventTime'],
  ...(count ? { series: { count, lastObservedTime: time as never } } : {}),
});

describe('renderStatus', () => {
  it('draws identity, what the rollout waits for, batches with bars, conditions and Events', () => {
    const events = [
      event('BatchCompleted', 'Batch 1/3 completed', '2026-01-01T11:10:00.000000Z'),
      event(
        'BatchStarted',
        'Batch 1/3 started: 10 devices scheduled',
        '2026-01-01T11:00:00.000000Z',
      ),
    ];
    expect(renderStatus(rollout(waiting), events, NOW)).toBe(`Name:         web-1-29
Namespace:    default
Policy:       web
Image:        docker.io/library/nginx:1.29
Strategy:     Manual, batches 10% 50% 100%, 1 approved
Phase:        WaitingForApproval
Message:      Batch 2/3 waits for approval: set spec.approvedBatches to 2
Waiting for:  approval of batch 2 (kubectl fleet approve web-1-29)
Devices:      100: 9 updated, 9 healthy, 1 failed, batch 1/3

Batches:
BATCH   UP TO   DEVICES   PROGRESS                           UPDATED   HEALTHY   FAILED   OFFLINE   PENDING   STATE
1       10%     10        [███████████████████████████✗✗✗]   9         9         1        0         0         Completed 2m ago
2       50%     40        [······························]   0         0         0        0         40        Pending
3       100%    50        [······························]   0         0         0        0         50        Pending
█ healthy   ▒ updating or soaking   ✗ failed   · not updated yet

Conditions:
TYPE    STATUS   REASON               AGE   MESSAGE
Ready   False    WaitingForApproval   2m    Batch 2/3 waits for approval

Events (last 5):
AGE   TYPE     REASON           MESSAGE
12m   Normal   BatchStarted     Batch 1/3 started: 10 devices scheduled
2m    Normal   BatchCompleted   Batch 1/3 completed
`);
  });

  it('shows the last five Events, oldest first, with their series count', () => {
    const events = Array.from({ length: 7 }, (_, i) =>
      event(`Reason${i}`, `note ${i}`, `2026-01-01T11:0${i}:00Z`, i === 6 ? 3 : undefined),
    );
    const text = renderStatus(rollout(waiting), events, NOW);
    const shown = text.slice(text.indexOf('Events'));
    expect(shown).not.toContain('Reason1 ');
    expect(shown).toMatch(/Reason2[\s\S]*Reason5[\s\S]*Reason6 \(x3\)\s+note 6\n$/);
  });

  it('says so before the controller selected devices', () => {
    const text = renderStatus(rollout({}), [], NOW);
    expect(text).toContain('Phase:        Pending');
    expect(text).toContain('Batches: none yet (the controller has not selected devices)');
    expect(text).toContain('Conditions: none');
    expect(text).toContain('Events: none');
  });
});

describe('waitingFor', () => {
  const budget = {
    type: 'Progressing',
    status: 'False' as const,
    reason: 'FailureBudgetExceeded',
    message: 'Paused, batch 1: 3 failed',
    lastTransitionTime: '2026-01-01T11:00:00Z',
  };
  it.each<[string, ImageRolloutStatus, string | undefined]>([
    [
      'approval',
      { phase: 'WaitingForApproval', currentBatch: 0 },
      'approval of batch 1 (kubectl fleet approve web-1-29)',
    ],
    [
      'a window',
      { phase: 'WaitingForWindow', nextBatchAt: '2026-01-02T03:00:00Z' },
      'the maintenance window opening at 2026-01-02T03:00:00Z',
    ],
    [
      'the interval',
      { phase: 'Progressing', nextBatchAt: '2026-01-01T11:20:00Z' },
      'the batch interval, until 2026-01-01T11:20:00Z (kubectl fleet approve web-1-29 skips it)',
    ],
    ['a user pause', { phase: 'Paused' }, 'kubectl fleet resume web-1-29'],
    [
      'a freeze',
      { phase: 'Frozen', message: 'Frozen by FleetFreeze incident (INC-42): batch 2/3 waits' },
      'a FleetFreeze to lift: Frozen by FleetFreeze incident (INC-42): batch 2/3 waits (kubectl fleet get freezes)',
    ],
    [
      'the failure budget',
      { phase: 'Paused', conditions: [budget] },
      'an operator: the failure budget is spent (kubectl fleet retry web-1-29 accepts the failures, kubectl fleet abort web-1-29 rolls back)',
    ],
    [
      'devices',
      waiting.batches
        ? {
            phase: 'Progressing',
            currentBatch: 2,
            batches: [
              waiting.batches[0] as never,
              { ...waiting.batches[1], healthy: 10, updated: 15 } as never,
            ],
          }
        : {},
      'batch 2: 30 of 40 devices to report healthy',
    ],
    ['nothing once finished', { phase: 'Succeeded' }, undefined],
    [
      "a phase it does not know: the controller's message",
      { phase: 'Hibernating' as never, message: 'Held by something new' },
      'Held by something new',
    ],
  ])('%s', (_, status, expected) => {
    expect(waitingFor(rollout(status))).toBe(expected);
  });
});

describe('progressBar', () => {
  it.each([
    [{ devices: 10, updated: 0, healthy: 0, failed: 0 }, '[··········]'],
    [{ devices: 10, updated: 10, healthy: 10, failed: 0 }, '[██████████]'],
    [{ devices: 10, updated: 6, healthy: 4, failed: 2 }, '[████▒▒✗✗··]'],
    // A single device of a thousand still shows.
    [{ devices: 1000, updated: 0, healthy: 0, failed: 1 }, '[✗·········]'],
    [{ devices: 3, updated: 3, healthy: 1, failed: 0 }, '[███▒▒▒▒▒▒▒]'],
    [{ devices: 0, updated: 0, healthy: 0, failed: 0 }, '[··········]'],
  ])('%j → %s', (counts, bar) => {
    expect(progressBar(counts, 10)).toBe(bar);
    expect([...bar].length).toBe(12);
  });
});
