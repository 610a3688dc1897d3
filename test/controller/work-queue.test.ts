import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/controller/backoff.js';
import {
  TerminalError,
  type WorkHandler,
  WorkQueue,
  type WorkQueueOptions,
} from '../../src/controller/work-queue.js';
import { ManualClock, settle } from '../support/manual-clock.js';

/** A handler whose calls the test completes one by one. */
function controllable() {
  const calls: Array<{ key: string; signal: AbortSignal; finish(error?: Error): void }> = [];
  const handler: WorkHandler = (key, signal) =>
    new Promise((resolve, reject) => {
      calls.push({ key, signal, finish: (error) => (error ? reject(error) : resolve(undefined)) });
    });
  return { calls, handler };
}

function newQueue(handler: WorkHandler, options: Partial<WorkQueueOptions> = {}) {
  const clock = new ManualClock();
  const registry = new Registry();
  const queue = new WorkQueue({
    name: 'test',
    handler,
    clock,
    registry,
    random: () => 0,
    backoff: { baseMs: 100, maxMs: 1000, jitter: 0.5 },
    ...options,
  });
  return { queue, clock, registry };
}

describe('backoffDelay', () => {
  it.each([
    { attempt: 0, random: 0, expected: 100 },
    { attempt: 1, random: 0, expected: 200 },
    { attempt: 3, random: 0, expected: 800 },
    { attempt: 4, random: 0, expected: 1000 },
    { attempt: 60, random: 0, expected: 1000 },
    { attempt: 1, random: 1, expected: 100 },
    { attempt: 4, random: 0.5, expected: 750 },
  ])('attempt $attempt with random $random waits $expected ms', ({ attempt, random, expected }) => {
    expect(backoffDelay(attempt, { baseMs: 100, maxMs: 1000, jitter: 0.5 }, () => random)).toBe(
      expected,
    );
  });
});

describe('WorkQueue', () => {
  it('processes a key added several times while queued once', async () => {
    const seen: string[] = [];
    const { queue } = newQueue(async (key) => {
      seen.push(key);
      return undefined;
    });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.depth).toBe(2);
    queue.start();
    await settle();
    expect(seen).toEqual(['ns/a', 'ns/b']);
    expect(queue.depth).toBe(0);
  });

  it('processes a key added during its processing again afterwards, never concurrently', async () => {
    const { calls, handler } = controllable();
    const { queue } = newQueue(handler, { concurrency: 4 });
    queue.start();
    queue.add('ns/a');
    await settle();
    queue.add('ns/a');
    queue.add('ns/a');
    await settle();
    expect(calls.map((call) => call.key)).toEqual(['ns/a']);
    calls[0]!.finish();
    await settle();
    expect(calls.map((call) => call.key)).toEqual(['ns/a', 'ns/a']);
    calls[1]!.finish();
    await settle();
    expect(calls).toHaveLength(2);
  });

  it('never runs more handlers at once than its concurrency', async () => {
    const { calls, handler } = controllable();
    const { queue } = newQueue(handler, { concurrency: 2 });
    queue.start();
    for (const key of ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e']) queue.add(key);
    await settle();
    expect(calls.map((call) => call.key)).toEqual(['ns/a', 'ns/b']);
    expect(queue.depth).toBe(3);
    calls[1]!.finish();
    await settle();
    expect(calls.map((call) => call.key)).toEqual(['ns/a', 'ns/b', 'ns/c']);
    calls[0]!.finish();
    calls[2]!.finish();
    await settle();
    expect(calls.map((call) => call.key)).toEqual(['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e']);
  });

  it('retries a failing key with doubling backoff and resets it after a success', async () => {
    const outcomes = [false, false, false, true, false];
    const times: number[] = [];
    const { queue, clock } = newQueue(async () => {
      times.push(clock.now());
      if (!outcomes.shift()) throw new Error('transient');
      return undefined;
    });
    const start = clock.now();
    queue.start();
    queue.add('ns/a');
    await settle();
    await clock.advance(10_000);
    expect(times.map((time) => time - start)).toEqual([0, 100, 300, 700]);
    queue.add('ns/a');
    await settle();
    await clock.advance(99);
    expect(times).toHaveLength(5);
    await clock.advance(1);
    expect(times).toHaveLength(6);
  });

  it('drops a key whose handler throws a TerminalError', async () => {
    let calls = 0;
    const { queue, clock, registry } = newQueue(async () => {
      calls++;
      throw new TerminalError('invalid spec');
    });
    queue.start();
    queue.add('ns/a');
    await clock.advance(60_000);
    expect(calls).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    const errors = await registry.getSingleMetric('fleet_rollout_workqueue_errors_total')!.get();
    expect(errors.values).toEqual([
      expect.objectContaining({ labels: { name: 'test', kind: 'terminal' }, value: 1 }),
    ]);
  });

  it('processes addAfter keys only when due, the earliest request winning', async () => {
    const seen: number[] = [];
    const { queue, clock } = newQueue(async () => {
      seen.push(clock.now());
      return undefined;
    });
    const start = clock.now();
    queue.start();
    queue.addAfter('ns/a', 500);
    queue.addAfter('ns/a', 200);
    queue.addAfter('ns/a', 900);
    await clock.advance(199);
    expect(seen).toEqual([]);
    await clock.advance(2000);
    expect(seen.map((time) => time - start)).toEqual([200]);
  });

  it('wakes up at the longest timer Node keeps for a delay beyond it (a window weeks ahead)', async () => {
    const seen: number[] = [];
    const { queue, clock } = newQueue(async () => {
      seen.push(clock.now());
      return undefined;
    });
    const start = clock.now();
    queue.start();
    queue.addAfter('ns/a', 40 * 24 * 3600_000);
    await clock.advance(2 ** 31 - 2);
    expect(seen).toEqual([]);
    await clock.advance(1);
    expect(seen.map((time) => time - start)).toEqual([2 ** 31 - 1]);
  });

  it('requeues a key after the requeueAfter its handler returns', async () => {
    const seen: number[] = [];
    const { queue, clock } = newQueue(async () => {
      seen.push(clock.now());
      return seen.length < 3 ? { requeueAfter: 1000 } : undefined;
    });
    const start = clock.now();
    queue.start();
    queue.add('ns/a');
    await clock.advance(10_000);
    expect(seen.map((time) => time - start)).toEqual([0, 1000, 2000]);
  });

  it('shuts down cleanly: aborts handlers, waits for them, leaves no timers, ignores adds', async () => {
    const { calls, handler } = controllable();
    const { queue, clock } = newQueue(handler, { concurrency: 1 });
    queue.start();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.addAfter('ns/c', 1000);
    await settle();
    let stopped = false;
    const shutdown = queue.shutdown().then(() => {
      stopped = true;
    });
    await settle();
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(stopped).toBe(false);
    calls[0]!.finish(new Error('aborted'));
    await shutdown;
    queue.add('ns/d');
    await clock.advance(10_000);
    expect(calls.map((call) => call.key)).toEqual(['ns/a']);
    expect(clock.pendingTimers).toBe(0);
    expect(queue.depth).toBe(0);
  });

  it('exports depth, adds, retries, errors and durations with the fleet_rollout_ prefix', async () => {
    let fail = true;
    const { queue, clock, registry } = newQueue(async () => {
      if (fail) {
        fail = false;
        throw new Error('once');
      }
      return undefined;
    });
    queue.add('ns/a');
    queue.add('ns/b');
    const text = () => registry.metrics();
    expect(await text()).toContain('fleet_rollout_workqueue_depth{name="test"} 2');
    queue.start();
    await clock.advance(1000);
    const exposed = await text();
    expect(exposed).toContain('fleet_rollout_workqueue_depth{name="test"} 0');
    expect(exposed).toContain('fleet_rollout_workqueue_adds_total{name="test"} 3');
    expect(exposed).toContain('fleet_rollout_workqueue_retries_total{name="test"} 1');
    expect(exposed).toContain('fleet_rollout_workqueue_errors_total{name="test",kind="retried"} 1');
    expect(exposed).toContain('fleet_rollout_workqueue_work_duration_seconds_count{name="test"} 3');
    expect(exposed).toContain(
      'fleet_rollout_workqueue_queue_duration_seconds_count{name="test"} 3',
    );
  });
});
