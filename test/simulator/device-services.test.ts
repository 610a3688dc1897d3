import { describe, expect, it } from 'vitest';
import type { TargetApps } from '../../src/devices/target-document.js';
import { DeviceServices, type Outcome } from '../../src/simulator/device-services.js';

const V1 = 'docker.io/library/nginx:1.27';
const V2 = 'docker.io/library/nginx:1.28';
const V3 = 'docker.io/library/nginx:1.29';
const AGENT = 'ghcr.io/acme/agent:1.0';

const target = (nginx: string, extra: Record<string, { image: string }> = {}): TargetApps => ({
  web: { services: { nginx: { image: nginx }, ...extra } },
});

const UNHEALTHY: Outcome = { status: 'running', health: 'unhealthy' };

/** Installs `from`, then moves to each target in turn (start + settle); the services after. */
function run(
  failure: (image: string) => Outcome | undefined,
  from: TargetApps,
  ...to: TargetApps[]
) {
  const services = new DeviceServices(failure);
  services.install(from);
  for (const apps of to) {
    const change = services.plan(apps);
    if (change === undefined) continue;
    services.start(change);
    services.settle(change);
  }
  return services.services();
}

const never = () => undefined;
const always = () => UNHEALTHY;
const onV2 = (image: string) => (image === V2 ? UNHEALTHY : undefined);

describe('DeviceServices', () => {
  it.each([
    ['a healthy device runs the new image healthy', never, [target(V2)], V2, 'healthy'],
    ['a failing device fails on a new image', always, [target(V2)], V2, 'unhealthy'],
    [
      'a rollback to the installed image is healthy',
      always,
      [target(V2), target(V1)],
      V1,
      'healthy',
    ],
    [
      'a failing device fails again on a retried bad image',
      always,
      [target(V2), target(V1), target(V2)],
      V2,
      'unhealthy',
    ],
    ['an image outside the failure filter is healthy', onV2, [target(V3)], V3, 'healthy'],
    ['a filtered image fails', onV2, [target(V3), target(V2)], V2, 'unhealthy'],
  ] as const)('%s', (_, failure, targets, image, health) => {
    expect(run(failure, target(V1), ...targets)['web/nginx']).toMatchObject({ image, health });
  });

  it('plans nothing when the target is what runs', () => {
    const services = new DeviceServices(never);
    services.install(target(V1));
    expect(services.plan(target(V1))).toBeUndefined();
  });

  it('pulls only images it has not pulled before', () => {
    const services = new DeviceServices(always);
    services.install(target(V1));
    const forward = services.plan(target(V2));
    expect(forward).toMatchObject({ pull: true, remove: [] });
    if (forward) services.start(forward);
    expect(services.plan(target(V1))).toMatchObject({ pull: false });
  });

  it('starts added services and removes dropped ones', () => {
    const services = new DeviceServices(never);
    services.install(target(V1, { agent: { image: AGENT } }));
    const change = services.plan({ api: { services: { agent: { image: AGENT } } } });
    expect(change?.remove.sort()).toEqual(['web/agent', 'web/nginx']);
    expect(change?.start).toEqual([{ app: 'api', service: 'agent', image: AGENT }]);
    if (change) services.start(change);
    expect(services.reported()).toEqual({
      api: { services: { agent: { image: AGENT, status: 'starting', health: 'unknown' } } },
    });
  });

  it('restarts a service still starting when the same target comes again', () => {
    const services = new DeviceServices(never);
    services.install(target(V1));
    const change = services.plan(target(V2));
    if (change) services.start(change);
    expect(services.plan(target(V2))?.start).toEqual([{ app: 'web', service: 'nginx', image: V2 }]);
  });
});
