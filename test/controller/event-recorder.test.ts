import { V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EventRecorder } from '../../src/controller/event-recorder.js';
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

function setup(options: { seriesWindowMs?: number } = {}) {
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
