import { V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EventRecorder, type EventRecorderOptions } from '../../src/controller/event-recorder.js';
import type { KubeObject } from '../../src/kube/port.js';
import { ManualClock } from '../support/manual-clock.js';
import { MemoryEvents } from '../support/memory-events.js';

const rollout: KubeObject = {
  apiVersion: 'fleet.iotistic.io/v1alpha1',
  kind: 'ImageRollout',
  metadata: { namespace: 'prod', name: 'app-1-2-3', uid: 'u-1', resourceVersion: '7' },
};
const paused = {
  type: 'Warning',
  reason: 'FailureBudgetExceeded',
  action: 'Pause',
  note: 'x',
} as const;

function setup(options: Partial<EventRecorderOptions> = {}) {
  const clock = new ManualClock();
  const events = new MemoryEvents();
  const recorder = new EventRecorder({
    events,
    controller: 'fleet.iotistic.io/controller',
    instance: 'host-1',
    clock,
    ...options,
  });
  return { clock, events, recorder };
}

/** `BatchStarted` of batch `batch` of `of`, as the planner notes it. */
function started(batch: number, of: number) {
  const note = `Batch ${batch}/${of} started: 4 devices scheduled`;
  return { type: 'Normal', reason: 'BatchStarted', action: 'StartBatch', note } as const;
}

/** The Events as `kubectl describe` lists them: reason, `(xN)` for a series, note; by time. */
function listed(events: MemoryEvents): string[] {
  return [...events.events.values()]
    .sort((a, b) => a.eventTime.getTime() - b.eventTime.getTime())
    .map((event) => {
      const count = event.series ? ` (x${event.series.count})` : '';
      return `${event.reason}${count} ${event.note}`;
    });
}

describe('EventRecorder', () => {
  it('creates an events.k8s.io/v1 Event about the object, with a MicroTime eventTime', async () => {
    const { events, recorder, clock } = setup();
    await recorder.record(rollout, {
      type: 'Normal',
      reason: 'BatchStarted',
      action: 'StartBatch',
      note: 'batch 1 of 3: 12 devices',
    });
    const [event] = [...events.events.values()];
    expect(event).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      metadata: { namespace: 'prod' },
      reportingController: 'fleet.iotistic.io/controller',
      reportingInstance: 'host-1',
      regarding: { kind: 'ImageRollout', name: 'app-1-2-3', uid: 'u-1', namespace: 'prod' },
      type: 'Normal',
      reason: 'BatchStarted',
      action: 'StartBatch',
      note: 'batch 1 of 3: 12 devices',
    });
    expect(event?.metadata?.name).toMatch(/^app-1-2-3\.[0-9a-f]+$/);
    expect(event?.eventTime).toBeInstanceOf(V1MicroTime);
    expect(event?.eventTime.getTime()).toBe(clock.now());
    expect(event?.series).toBeUndefined();
  });

  it('aggregates repeats into one Event with a series count and last observed time', async () => {
    const { events, recorder, clock } = setup();
    const first = clock.now();
    await recorder.record(rollout, paused);
    await clock.advance(1000);
    await recorder.record(rollout, paused);
    await clock.advance(1000);
    await recorder.record(rollout, paused);
    expect(events.events.size).toBe(1);
    const [event] = [...events.events.values()];
    expect(event?.series?.count).toBe(3);
    expect(event?.series?.lastObservedTime.getTime()).toBe(first + 2000);
    expect(event?.eventTime.getTime()).toBe(first);
  });

  it('coalesces a burst of repeats into few writes carrying the final count', async () => {
    const { events, recorder } = setup();
    await Promise.all(Array.from({ length: 50 }, () => recorder.record(rollout, paused)));
    await recorder.flush();
    expect(events.events.size).toBe(1);
    expect([...events.events.values()][0]?.series?.count).toBe(50);
    expect(events.calls).toBeLessThanOrEqual(2);
  });

  it('keeps every distinct note in an Event of its own', async () => {
    const { events, recorder, clock } = setup();
    for (const batch of [1, 2, 3]) {
      await recorder.record(rollout, started(batch, 3));
      await clock.advance(1000);
    }
    await recorder.record(rollout, started(1, 3));
    expect(listed(events)).toEqual([
      'BatchStarted (x2) Batch 1/3 started: 4 devices scheduled',
      'BatchStarted Batch 2/3 started: 4 devices scheduled',
      'BatchStarted Batch 3/3 started: 4 devices scheduled',
    ]);
  });

  it('combines similar notes from the tenth within ten minutes into one Event, as client-go', async () => {
    const { events, recorder, clock } = setup();
    for (const batch of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
      await recorder.record(rollout, started(batch, 12));
      await clock.advance(20_000);
    }
    await recorder.record(rollout, started(3, 12));
    expect(listed(events)).toEqual([
      ...[1, 2].map((batch) => `BatchStarted Batch ${batch}/12 started: 4 devices scheduled`),
      'BatchStarted (x2) Batch 3/12 started: 4 devices scheduled',
      ...[4, 5, 6, 7, 8, 9].map(
        (batch) => `BatchStarted Batch ${batch}/12 started: 4 devices scheduled`,
      ),
      'BatchStarted (x3) (combined from similar events): Batch 10/12 started: 4 devices scheduled',
    ]);
  });

  it('counts similar notes afresh after ten quiet minutes', async () => {
    const { events, recorder, clock } = setup();
    for (const batch of [1, 2, 3, 4, 5, 6, 7, 8, 9])
      await recorder.record(rollout, started(batch, 20));
    await clock.advance(600_001);
    for (const batch of [10, 11, 12]) await recorder.record(rollout, started(batch, 20));
    expect(listed(events).filter((line) => line.includes('combined'))).toEqual([]);
    expect(events.events.size).toBe(12);
  });

  it('holds back repeats beyond the spam burst and writes their count once a token refills', async () => {
    const { events, recorder, clock } = setup({ spamBurst: 3, spamRefillMs: 60_000 });
    for (let i = 0; i < 6; i++) {
      await recorder.record(rollout, paused);
      await clock.advance(1000);
    }
    expect(listed(events)).toEqual(['FailureBudgetExceeded (x3) x']);
    await clock.advance(60_000);
    expect(listed(events)).toEqual(['FailureBudgetExceeded (x6) x']);
    await recorder.record(rollout, paused);
    await recorder.flush();
    expect(listed(events)).toEqual(['FailureBudgetExceeded (x7) x']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('starts a new Event for another reason, another object, or after the series window', async () => {
    const { events, recorder, clock } = setup({ seriesWindowMs: 60_000 });
    await recorder.record(rollout, paused);
    await recorder.record(rollout, { ...paused, reason: 'RollbackStarted', action: 'Rollback' });
    await recorder.record({ ...rollout, metadata: { ...rollout.metadata, name: 'other' } }, paused);
    await clock.advance(60_001);
    await recorder.record(rollout, paused);
    expect(events.events.size).toBe(4);
  });

  it('creates the Event again when its series is bumped after it expired on the server', async () => {
    const { events, recorder } = setup();
    await recorder.record(rollout, paused);
    events.events.clear();
    await recorder.record(rollout, paused);
    expect([...events.events.values()][0]?.series?.count).toBe(2);
  });

  it('never puts secrets in the note and cuts it to 1 kB', async () => {
    const { events, recorder } = setup();
    await recorder.record(rollout, {
      ...paused,
      note: `pull https://bot:tok3n@registry.local/app failed ${'x'.repeat(2000)}`,
    });
    const note = [...events.events.values()][0]?.note ?? '';
    expect(note).not.toContain('tok3n');
    expect(note.length).toBe(1024);
  });

  it('does not throw when the API fails', async () => {
    const { events, recorder } = setup();
    events.failing = true;
    await expect(recorder.record(rollout, paused)).resolves.toBeUndefined();
  });
});
