import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/controller/event-recorder.js';
import { EventRecorder } from '../../src/controller/event-recorder.js';
import { writeStatus } from '../../src/controller/status-writer.js';
import { databaseBackends } from '../support/database.js';
import { rollout } from '../support/fixtures.js';
import { type KubeServerHarness, startKubeServer } from '../support/kube-server.js';
import { kubectlFor } from '../support/kubectl.js';

interface EventList {
  items: Array<{
    metadata: { name: string };
    reason: string;
    note: string;
    eventTime: string;
    series?: { count: number; lastObservedTime: string };
    regarding: { kind: string; name: string; uid: string };
  }>;
}

describe.each(databaseBackends)('status writes and events through client-node (%s)', (backend) => {
  let server: KubeServerHarness;

  beforeAll(async () => {
    server = await startKubeServer(backend);
    await server.namespace('events');
  });
  afterAll(() => server?.stop());

  it('writes status only when it changed, with the resourceVersion it read', async () => {
    const rollouts = server.kube.imageRollouts;
    const read = await rollouts.create(rollout('status'));
    const first = await writeStatus(rollouts, read, { phase: 'Progressing', currentBatch: 1 });
    expect(first.outcome).toBe('written');
    if (first.outcome === 'conflict') return;
    const version = first.object.metadata.resourceVersion;

    const again = await writeStatus(rollouts, first.object, {
      currentBatch: 1,
      phase: 'Progressing',
    });
    expect(again.outcome).toBe('unchanged');
    expect((await rollouts.get('default', 'status'))?.metadata.resourceVersion).toBe(version);
  });

  it('reports a conflict on a stale read and writes nothing', async () => {
    const rollouts = server.kube.imageRollouts;
    const read = await rollouts.create(rollout('conflict'));
    await rollouts.mergePatch('default', 'conflict', { spec: { paused: true } });
    const result = await writeStatus(rollouts, read, { phase: 'Paused' });
    expect(result.outcome).toBe('conflict');
    expect((await rollouts.get('default', 'conflict'))?.status?.phase).toBeUndefined();
  });

  it('aggregates repeated events into one Event with a series', async () => {
    const regarding = await server.kube.imageRollouts.create(rollout('noisy', 'events'));
    const recorder = new EventRecorder({
      events: server.kube.events,
      controller: 'fleet.iotistic.io/controller',
      instance: 'test',
    });
    const paused = {
      type: 'Warning',
      reason: 'FailureBudgetExceeded',
      action: 'Pause',
      note: 'batch 1: 3 of 10 devices failed (limit 20%)',
    } as const;
    await recorder.record(regarding, paused);
    await recorder.record(regarding, paused);
    await recorder.record(regarding, paused);
    await recorder.record(regarding, { ...paused, reason: 'BatchStarted', type: 'Normal' });
    await recorder.flush();

    const list = (await server.getJson(
      '/apis/events.k8s.io/v1/namespaces/events/events',
    )) as EventList;
    const byReason = Object.fromEntries(list.items.map((item) => [item.reason, item]));
    expect(list.items).toHaveLength(2);
    expect(byReason.FailureBudgetExceeded).toMatchObject({
      note: paused.note,
      series: { count: 3 },
      regarding: { kind: 'ImageRollout', name: 'noisy', uid: regarding.metadata.uid },
    });
    expect(byReason.FailureBudgetExceeded?.eventTime).toMatch(/\.\d{6}Z$/);
    expect(byReason.FailureBudgetExceeded?.series?.lastObservedTime).toMatch(/\.\d{6}Z$/);
    expect(byReason.BatchStarted?.series).toBeUndefined();
  });

  it('shows every batch in kubectl describe, each repeat counted on its own Event', {
    timeout: 60_000,
  }, async () => {
    const regarding = await server.kube.imageRollouts.create(rollout('batches', 'events'));
    const recorder = new EventRecorder({
      events: server.kube.events,
      controller: 'fleet.iotistic.io/controller',
      instance: 'test',
    });
    const started = (batch: number): EventInput => ({
      type: 'Normal',
      reason: 'BatchStarted',
      action: 'StartBatch',
      note: `Batch ${batch}/3 started: 4 devices scheduled`,
    });
    for (const batch of [1, 1, 2, 3, 3, 3]) await recorder.record(regarding, started(batch));
    await recorder.flush();

    const kubectl = await kubectlFor(server);
    try {
      const described = await kubectl.run(['describe', 'imagerollout', 'batches', '-n', 'events']);
      expect(described.stderr).toBe('');
      const lines = described.stdout.split('\n').filter((line) => line.includes('BatchStarted'));
      expect(lines).toHaveLength(3);
      expect(lines.find((line) => line.includes('Batch 1/3 started'))).toMatch(/\(x2 over /);
      expect(lines.find((line) => line.includes('Batch 2/3 started'))).not.toMatch(/\(x\d/);
      expect(lines.find((line) => line.includes('Batch 3/3 started'))).toMatch(/\(x3 over /);
    } finally {
      await kubectl.cleanup();
    }
  });
});
