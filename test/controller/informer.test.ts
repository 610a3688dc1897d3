import { afterEach, describe, expect, it } from 'vitest';
import { type ChangeType, Informer } from '../../src/controller/informer.js';
import { KubeApiError, type KubeObject } from '../../src/kube/port.js';
import { ManualClock, settle } from '../support/manual-clock.js';
import { ScriptedWatchable } from '../support/scripted-watchable.js';

function object(name: string, resourceVersion: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Thing', metadata: { namespace: 'ns', name, resourceVersion } };
}

describe('Informer (scripted list and watch, manual clock)', () => {
  const informers: Array<Informer<KubeObject>> = [];
  afterEach(async () => {
    await Promise.all(informers.splice(0).map((informer) => informer.stop()));
  });

  function setup() {
    const clock = new ManualClock();
    const resource = new ScriptedWatchable<KubeObject>();
    const informer = new Informer({
      resource,
      name: 'things',
      clock,
      random: () => 0,
      backoff: { baseMs: 1000, maxMs: 8000, jitter: 0 },
      watchTimeoutSeconds: 60,
    });
    informers.push(informer);
    const changes: Array<[string, ChangeType]> = [];
    informer.onChange((key, _object, type) => changes.push([key, type]));
    return { clock, resource, informer, changes };
  }

  it('lists, then watches from the list version and keeps the cache current', async () => {
    const { resource, informer, changes } = setup();
    resource.items = [object('a', '5')];
    resource.resourceVersion = '7';
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    await settle();
    expect(resource.latest.options.resourceVersion).toBe('7');
    resource.send('ADDED', object('b', '8'));
    resource.send('MODIFIED', object('a', '9'));
    resource.send('DELETED', object('b', '10'));
    expect(changes).toEqual([
      ['ns/a', 'added'],
      ['ns/b', 'added'],
      ['ns/a', 'updated'],
      ['ns/b', 'deleted'],
    ]);
    expect(informer.list()).toEqual([object('a', '9')]);
  });

  it('reconnects at once from the last seen version (bookmarks included) when a watch ends', async () => {
    const { resource, informer } = setup();
    informer.start();
    await settle();
    resource.send('ADDED', object('a', '3'));
    resource.send('BOOKMARK', object('', '12'));
    resource.end();
    await settle();
    expect(resource.watches).toHaveLength(2);
    expect(resource.latest.options.resourceVersion).toBe('12');
    expect(resource.lists).toBe(1);
  });

  it('relists at once on 410 Gone and emits what changed meanwhile', async () => {
    const { resource, informer, changes } = setup();
    resource.items = [object('a', '2'), object('b', '3')];
    informer.start();
    await settle();
    changes.length = 0;
    resource.items = [object('a', '2'), object('c', '20')];
    resource.resourceVersion = '21';
    resource.end(new KubeApiError('too old resource version', 410, 'Expired'));
    await settle();
    expect(resource.lists).toBe(2);
    expect(changes).toEqual([
      ['ns/b', 'deleted'],
      ['ns/c', 'added'],
    ]);
    expect(resource.latest.options.resourceVersion).toBe('21');
  });

  it('relists after the backoff when a watch answers Too large resource version', async () => {
    const { clock, resource, informer, changes } = setup();
    resource.items = [object('a', '40')];
    resource.resourceVersion = '50';
    informer.start();
    await settle();
    changes.length = 0;
    // The server's store was reset: it is far behind the version the informer watches from.
    resource.items = [object('fresh', '2')];
    resource.resourceVersion = '3';
    const status = {
      code: 504,
      reason: 'Timeout',
      message: 'Timeout: Too large resource version: 50, current: 3',
      details: { causes: [{ reason: 'ResourceVersionTooLarge' }] },
    };
    resource.end(new KubeApiError(status.message, 504, 'Timeout', { status }));
    await settle();
    expect(resource.lists).toBe(1);
    await clock.advance(1000);
    expect(resource.lists).toBe(2);
    expect(resource.latest.options.resourceVersion).toBe('3');
    expect(changes).toEqual([
      ['ns/a', 'deleted'],
      ['ns/fresh', 'added'],
    ]);
  });

  it('backs off exponentially while lists fail', async () => {
    const { clock, resource, informer } = setup();
    resource.listFailures = 3;
    informer.start();
    await settle();
    expect(resource.lists).toBe(1);
    await clock.advance(999);
    expect(resource.lists).toBe(1);
    await clock.advance(1);
    expect(resource.lists).toBe(2);
    await clock.advance(2000);
    expect(resource.lists).toBe(3);
    await clock.advance(4000);
    expect(resource.lists).toBe(4);
    expect(informer.hasSynced).toBe(true);
  });

  it('opens no watch and leaves no timer once stopped during backoff', async () => {
    const { clock, resource, informer } = setup();
    informer.start();
    await settle();
    resource.end(new Error('connection reset'));
    await settle();
    expect(resource.watches).toHaveLength(1);
    await informer.stop();
    await clock.advance(60_000);
    expect(resource.watches).toHaveLength(1);
    expect(resource.openWatches).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops a watch that was still opening when stop() was called', async () => {
    const { resource, informer, changes } = setup();
    let open = () => {};
    resource.openGate = new Promise((resolve) => {
      open = resolve;
    });
    informer.start();
    await settle();
    expect(resource.watches).toHaveLength(1);
    let stopped = false;
    const stopping = informer.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    open();
    await stopping;
    expect(resource.openWatches).toBe(0);
    resource.send('ADDED', object('late', '99'));
    expect(changes).toEqual([]);
  });

  it('ends a watch that stays silent past its timeout and reconnects', async () => {
    const { clock, resource, informer } = setup();
    informer.start();
    await settle();
    const timeoutSeconds = resource.latest.options.timeoutSeconds ?? 0;
    expect(timeoutSeconds).toBe(60);
    await clock.advance(timeoutSeconds * 1000 + 29_000);
    expect(resource.watches).toHaveLength(1);
    await clock.advance(1000);
    expect(resource.watches[0]?.stopped).toBe(true);
    await clock.advance(1000);
    expect(resource.watches).toHaveLength(2);
  });

  it('hands every cached object to the handlers again each resync period', async () => {
    const clock = new ManualClock();
    const resource = new ScriptedWatchable<KubeObject>();
    resource.items = [object('a', '1'), object('b', '2')];
    const informer = new Informer({ resource, name: 'things', clock, resyncMs: 10_000 });
    informers.push(informer);
    const resynced: string[] = [];
    informer.onChange((key, _object, type) => type === 'resync' && resynced.push(key));
    informer.start();
    await clock.advance(25_000);
    expect(resynced).toEqual(['ns/a', 'ns/b', 'ns/a', 'ns/b']);
  });
});
