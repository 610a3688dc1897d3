import { describe, expect, it } from 'vitest';
import {
  afterBatchStart,
  afterFold,
  afterRollback,
  type CachedDevice,
  DeviceCache,
  NO_OVERLAYS,
} from '../src/devices/device-cache.js';
import { applyOverlays, etagOf } from '../src/devices/target-document.js';

const key = Buffer.alloc(32);
const plain = (etag: string): CachedDevice => ({
  etag: `"${etag}"`,
  baseEtag: `"${etag}"`,
  keyHash: key,
  overlays: NO_OVERLAYS,
});
const overlaid = (base: string, etag: string, overlays: string[]): CachedDevice => ({
  etag: `"${etag}"`,
  baseEtag: `"${base}"`,
  keyHash: key,
  overlays,
});
const planned = { fromEtag: 'A', toEtag: 'B' };

describe('cache rules', () => {
  it.each([
    ['plain device still on the planned base flips', plain('A'), overlaid('A', 'B', ['r'])],
    ['base edited after planning is recomputed', plain('X'), undefined],
    ['another overlay applied is recomputed', overlaid('A', 'C', ['o']), undefined],
    ['already applied stays', overlaid('A', 'B', ['r']), overlaid('A', 'B', ['r'])],
  ])('batch start: %s', (_name, entry, expected) => {
    expect(afterBatchStart(entry, 'r', planned)).toEqual(expected);
  });

  it.each([
    ['only this overlay on the planned base flips back', overlaid('A', 'B', ['r']), plain('A')],
    ['base edited under the overlay is recomputed', overlaid('X', 'B', ['r']), undefined],
    ['overlapping overlays are recomputed', overlaid('A', 'C', ['r', 'o']), undefined],
    ['a device the rollout never reached is recomputed', plain('A'), undefined],
  ])('rollback: %s', (_name, entry, expected) => {
    expect(afterRollback(entry, 'r', planned)).toEqual(expected);
  });

  it.each([
    ['only this overlay becomes the base', overlaid('A', 'B', ['r']), plain('B')],
    ['overlapping overlays are recomputed', overlaid('A', 'C', ['r', 'o']), undefined],
  ])('fold: %s', (_name, entry, expected) => {
    expect(afterFold(entry, 'r')).toEqual(expected);
  });
});

describe('applyOverlays', () => {
  const base = {
    web: { services: { nginx: { image: 'nginx:1.0' }, app: { image: 'ghcr.io/acme/app:1' } } },
  };
  it.each([
    [[], 'nginx:1.0', 'ghcr.io/acme/app:1'],
    [
      [{ repository: 'docker.io/library/nginx', image: 'nginx:2.0' }],
      'nginx:2.0',
      'ghcr.io/acme/app:1',
    ],
    [
      [
        { repository: 'docker.io/library/nginx', image: 'nginx:2.0' },
        { repository: 'docker.io/library/nginx', image: 'nginx:3.0' },
      ],
      'nginx:3.0',
      'ghcr.io/acme/app:1',
    ],
    [
      [
        { repository: 'ghcr.io/acme/app', image: 'ghcr.io/acme/app:2' },
        { repository: 'docker.io/library/nginx', image: 'nginx:2.0' },
      ],
      'nginx:2.0',
      'ghcr.io/acme/app:2',
    ],
  ])('%j', (overlays, nginx, app) => {
    const apps = applyOverlays(base, overlays);
    expect(apps.web?.services.nginx?.image).toBe(nginx);
    expect(apps.web?.services.app?.image).toBe(app);
    expect(etagOf(apps) === etagOf(base)).toBe(overlays.length === 0);
  });
});

describe('DeviceCache long polls', () => {
  const never = new AbortController().signal;

  it('wakes a waiter when the ETag changes, not when the entry is rewritten unchanged', async () => {
    const cache = new DeviceCache();
    cache.set('d', plain('A'));
    let settled = false;
    const waiting = cache.waitForChange('d', '"A"', 5000, never).then((changed) => {
      settled = true;
      return changed;
    });
    cache.set('d', { ...plain('A') });
    await Promise.resolve();
    expect(settled).toBe(false);
    expect(cache.waiting).toBe(1);
    cache.set('d', plain('B'));
    expect(await waiting).toBe(true);
    expect(cache.waiting).toBe(0);
  });

  it('answers at once when the ETag already differs', async () => {
    const cache = new DeviceCache();
    cache.set('d', plain('B'));
    expect(await cache.waitForChange('d', '"A"', 5000, never)).toBe(true);
  });

  it('times out, aborts and releases with false', async () => {
    const cache = new DeviceCache();
    cache.set('d', plain('A'));
    expect(await cache.waitForChange('d', '"A"', 10, never)).toBe(false);
    const gone = new AbortController();
    const aborted = cache.waitForChange('d', '"A"', 5000, gone.signal);
    gone.abort();
    expect(await aborted).toBe(false);
    const released = cache.waitForChange('d', '"A"', 5000, never);
    cache.releaseAll();
    expect(await released).toBe(false);
    expect(cache.waiting).toBe(0);
  });

  it('wakes waiters of devices a full reload changed or removed', async () => {
    const cache = new DeviceCache();
    cache.set('same', plain('A'));
    cache.set('changed', plain('A'));
    cache.set('removed', plain('A'));
    const same = cache.waitForChange('same', '"A"', 50, never);
    const changed = cache.waitForChange('changed', '"A"', 5000, never);
    const removed = cache.waitForChange('removed', '"A"', 5000, never);
    cache.replaceAll(
      new Map([
        ['same', plain('A')],
        ['changed', plain('B')],
      ]),
    );
    expect(await Promise.all([same, changed, removed])).toEqual([false, true, true]);
  });
});
