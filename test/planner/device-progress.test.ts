import { describe, expect, it } from 'vitest';
import {
  type MemberProgress,
  nextProgress,
  type ReportReading,
  readReport,
  sameImage,
} from '../../src/planner/device-progress.js';

const NEW = 'docker.io/library/nginx:1.28';
const OLD = 'docker.io/library/nginx:1.27';
const member = {
  repository: 'docker.io/library/nginx',
  image: NEW,
  previous: { 'web/nginx': OLD },
};

/** A report of one `web` app whose `nginx` service is `service`, plus an unrelated service. */
const report = (service: Record<string, unknown> | undefined) => ({
  web: {
    services: {
      ...(service ? { nginx: service } : {}),
      app: { image: 'ghcr.io/acme/app:1', status: 'running', health: 'healthy' },
    },
  },
});

const reading = (r: Partial<ReportReading>): ReportReading => ({
  updated: false,
  healthy: false,
  failing: false,
  restored: false,
  ...r,
});

describe('readReport', () => {
  it.each<[string, Record<string, unknown> | undefined, Partial<ReportReading>]>([
    [
      'the previous image',
      { image: OLD, status: 'running', health: 'healthy' },
      { restored: true },
    ],
    ['no such service', undefined, {}],
    [
      'the new image starting',
      { image: NEW, status: 'starting', health: 'unknown' },
      { updated: true },
    ],
    [
      'the new image healthy',
      { image: NEW, status: 'running', health: 'healthy' },
      { updated: true, healthy: true },
    ],
    [
      'the new image as a short name',
      { image: 'nginx:1.28', status: 'running', health: 'healthy' },
      { updated: true, healthy: true },
    ],
    [
      'the new image unhealthy',
      { image: NEW, status: 'running', health: 'unhealthy' },
      { updated: true, failing: true },
    ],
    ['the new image exited', { image: NEW, status: 'exited' }, { updated: true, failing: true }],
    [
      'the new image running, health unknown',
      { image: NEW, status: 'running', health: 'unknown' },
      { updated: true },
    ],
    ['an old image exited', { image: OLD, status: 'exited' }, { restored: true }],
  ])('%s', (_, service, expected) => {
    expect(readReport(report(service), member)).toEqual(reading(expected));
  });

  it('watches every service of the repository, not only those the rollout changed', () => {
    const apps = {
      web: {
        services: {
          nginx: { image: NEW, status: 'running', health: 'healthy' },
          proxy: { image: 'nginx:1.26', status: 'running', health: 'healthy' },
        },
      },
    };
    expect(readReport(apps, member)).toEqual(reading({}));
  });

  it('reads a device with nothing to update as updated and healthy', () => {
    const apps = { cache: { services: { redis: { image: 'redis:7', status: 'running' } } } };
    expect(readReport(apps, { ...member, previous: {} })).toEqual(
      reading({ updated: true, healthy: true, restored: true }),
    );
  });

  it('ignores malformed parts of a report', () => {
    expect(readReport({ web: null, x: { services: 3 } }, member)).toEqual(reading({}));
  });
});

describe('nextProgress', () => {
  const healthy = reading({ updated: true, healthy: true });
  const failing = reading({ updated: true, failing: true });
  const updating = reading({ updated: true });
  const old = reading({ restored: true });
  it.each<[MemberProgress, boolean, ReportReading, MemberProgress]>([
    ['scheduled', false, old, 'scheduled'],
    ['scheduled', false, updating, 'updating'],
    ['scheduled', false, healthy, 'soaking'],
    ['scheduled', true, healthy, 'healthy'],
    ['updating', false, healthy, 'soaking'],
    ['soaking', false, healthy, 'soaking'],
    ['soaking', true, healthy, 'healthy'],
    ['soaking', true, updating, 'updating'],
    ['healthy', false, healthy, 'healthy'],
    ['healthy', true, updating, 'healthy'],
    ['healthy', false, updating, 'healthy'],
    ['healthy', true, old, 'healthy'],
    ['healthy', false, failing, 'failed'],
    ['healthy', true, failing, 'failed'],
    ['updating', false, failing, 'failed'],
    ['failed', false, healthy, 'failed'],
    ['failed', false, old, 'failed'],
  ])('%s (soak passed: %s) + report → %s', (progress, soakElapsed, read, expected) => {
    expect(nextProgress({ progress, soakElapsed }, read)).toBe(expected);
  });
});

describe('sameImage', () => {
  it.each([
    ['nginx:1.28', NEW, true],
    [NEW, 'docker.io/library/nginx:1.27', false],
    [`${NEW}@sha256:${'a'.repeat(64)}`, NEW, true],
    [`${NEW}@sha256:${'a'.repeat(64)}`, `nginx:1.29@sha256:${'a'.repeat(64)}`, true],
    [`${NEW}@sha256:${'a'.repeat(64)}`, `${NEW}@sha256:${'b'.repeat(64)}`, false],
    ['nginx', 'nginx:latest', true],
    ['not a reference!', NEW, false],
  ])('%s vs %s → %s', (a, b, expected) => {
    expect(sameImage(a, b)).toBe(expected);
  });
});
