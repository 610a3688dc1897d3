import { describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/runtime.js';
import { TerminalError } from '../../src/controller/work-queue.js';
import type { KubeObject } from '../../src/kube/port.js';
import { ManualClock, settle } from '../support/manual-clock.js';
import { ScriptedWatchable } from '../support/scripted-watchable.js';

function object(kind: string, name: string, resourceVersion: string, owner?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind,
    metadata: { namespace: 'ns', name, resourceVersion, labels: owner ? { owner } : {} },
  };
}

describe('Controller (scripted sources, manual clock)', () => {
  it('reconciles every listed object once synced, and the keys a second source maps to', async () => {
    const clock = new ManualClock();
    const rollouts = new ScriptedWatchable<KubeObject>();
    const policies = new ScriptedWatchable<KubeObject>();
    rollouts.items = [object('Rollout', 'r1', '1', 'p'), object('Rollout', 'r2', '2', 'p')];
    policies.items = [object('Policy', 'p', '3')];
    const seen: string[] = [];
    const controller = new Controller({
      name: 'rollouts',
      clock,
      sources: [
        { name: 'rollouts', resource: rollouts },
        {
          name: 'policies',
          resource: policies,
          keys: (policy) =>
            rollouts.items
              .filter((r) => r.metadata.labels?.owner === policy.metadata.name)
              .map((r) => `ns/${r.metadata.name}`),
        },
      ],
      reconcile: async (key) => {
        seen.push(key);
        return undefined;
      },
    });
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    await settle();
    expect(seen.sort()).toEqual(['ns/r1', 'ns/r2']);
    expect(controller.cached('policies', 'ns/p')?.metadata.resourceVersion).toBe('3');
    policies.send('MODIFIED', object('Policy', 'p', '4'));
    await settle();
    expect(seen.sort()).toEqual(['ns/r1', 'ns/r1', 'ns/r2', 'ns/r2']);
    stop.abort();
    await running;
  });

  it('aborts running reconciles the moment the signal aborts and leaves nothing running', async () => {
    const clock = new ManualClock();
    const resource = new ScriptedWatchable<KubeObject>();
    resource.items = [object('Rollout', 'r1', '1')];
    let reconcileSignal: AbortSignal | undefined;
    const controller = new Controller({
      name: 'rollouts',
      clock,
      resyncMs: 60_000,
      sources: [{ name: 'rollouts', resource }],
      reconcile: (_key, signal) => {
        reconcileSignal = signal;
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve(undefined)));
      },
    });
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    await settle();
    expect(reconcileSignal?.aborted).toBe(false);
    stop.abort();
    expect(reconcileSignal?.aborted).toBe(true);
    await running;
    expect(resource.openWatches).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    controller.enqueue('ns/r1');
    expect(controller.cached('rollouts', 'ns/r1')).toBeUndefined();
  });

  it('requeues after requeueAfter, retries errors with backoff, drops terminal errors', async () => {
    const clock = new ManualClock();
    const resource = new ScriptedWatchable<KubeObject>();
    resource.items = [
      object('R', 'later', '1'),
      object('R', 'flaky', '2'),
      object('R', 'bad', '3'),
    ];
    const calls: Record<string, number[]> = { later: [], flaky: [], bad: [] };
    const start = clock.now();
    const controller = new Controller({
      name: 'rollouts',
      clock,
      random: () => 0,
      backoff: { baseMs: 500, maxMs: 10_000, jitter: 0 },
      sources: [{ name: 'rollouts', resource }],
      reconcile: async (key) => {
        const name = key.split('/')[1]!;
        calls[name]!.push(clock.now() - start);
        if (name === 'later') return calls.later!.length < 2 ? { requeueAfter: 3000 } : undefined;
        if (name === 'bad') throw new TerminalError('invalid spec');
        if (calls.flaky!.length < 3) throw new Error('transient');
        return undefined;
      },
    });
    const stop = new AbortController();
    const running = controller.run(stop.signal);
    await clock.advance(20_000);
    expect(calls).toEqual({ later: [0, 3000], flaky: [0, 500, 1500], bad: [0] });
    stop.abort();
    await running;
  });

  it('can run again after it stopped, as a re-elected leader does', async () => {
    const clock = new ManualClock();
    const resource = new ScriptedWatchable<KubeObject>();
    resource.items = [object('R', 'a', '1')];
    let reconciles = 0;
    const controller = new Controller({
      name: 'rollouts',
      clock,
      sources: [{ name: 'rollouts', resource }],
      reconcile: async () => {
        reconciles++;
        return undefined;
      },
    });
    for (let term = 1; term <= 2; term++) {
      const stop = new AbortController();
      const running = controller.run(stop.signal);
      await settle();
      expect(reconciles).toBe(term);
      stop.abort();
      await running;
    }
  });
});
