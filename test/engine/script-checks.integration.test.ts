import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import type { TargetApps } from '../../src/devices/target-document.js';
import { databaseBackends } from '../support/database.js';
import { ADMIN } from '../support/device-api.js';
import { type Engine, startEngine } from '../support/engine.js';

const NGINX = 'docker.io/library/nginx';
const OLD = `${NGINX}:1.27`;
const NEW = `${NGINX}:1.28`;
const apps = (image: string): TargetApps => ({
  web: { services: { nginx: { image }, sidecar: { image: 'docker.io/library/redis:7' } } },
});
const health = { soakTime: '1s', offlineAfter: '60s', progressDeadline: '120s' };

/**
 * A shell script as the check's argv: exits 3 on the devices of `failing`, outlives its
 * timeout on those of `slow` (in a child process, which the timeout must kill as well), and
 * exits 0 elsewhere. The simulator runs it for real, with the device's uuid in its environment.
 */
function script(failing: string[], slow: string[]): string[] {
  const cases = [
    failing.length > 0 ? `${failing.join('|')}) exit 3 ;;` : '',
    slow.length > 0 ? `${slow.join('|')}) sleep 30; exit 0 ;;` : '',
  ].join(' ');
  return ['sh', '-c', `case "$FLEET_DEVICE_UUID" in ${cases} esac; exit 0`];
}

describe.each(databaseBackends)('script health checks on %s', (backend) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startEngine(backend);
  }, 60_000);
  afterAll(() => engine?.stop());

  it('pass on some devices and fail on others, and the failure budget trips', async () => {
    const simulator = await engine.simulate({
      register: { count: 10, fleet: 'scripted', apps: apps(OLD) },
      seed: 'scripted',
    });
    const uuids = simulator.devices().map((device) => device.uuid);
    const [a = '', b = '', c = ''] = uuids;
    const command = script([a, b], [c]);
    await engine.policy('scripted', {
      selector: { fleets: ['scripted'] },
      strategy: { type: 'AllAtOnce' },
      health: {
        ...health,
        checks: [{ type: 'Script', service: 'nginx', command, timeoutSeconds: 1 }],
      },
      failurePolicy: { maxFailurePercent: 20, minSample: 3, action: 'Pause' },
    });
    await engine.rollout('scripted-1-28', { policy: 'scripted' });
    const paused = await engine.until('scripted-1-28', (r: ImageRollout) => {
      expect(r.status?.phase).toBe('Paused');
      expect(r.status?.batches?.[0]).toMatchObject({ devices: 10, healthy: 7, failed: 3 });
    });
    expect(paused.status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'FailureBudgetExceeded',
    });
    // Every device got the check with its service's new image, the sidecar none.
    const device = simulator.device(a);
    expect(device?.target?.web?.services.nginx).toEqual({
      image: NEW,
      healthChecks: [{ type: 'Script', periodSeconds: 10, command, timeoutSeconds: 1 }],
    });
    expect(device?.target?.web?.services.sidecar).toEqual({ image: 'docker.io/library/redis:7' });
    // The simulator reports why: the exit code, or the timeout.
    const nginx = (uuid: string) => simulator.device(uuid)?.services['web/nginx'];
    expect(nginx(a)).toEqual({
      image: NEW,
      status: 'running',
      health: 'unhealthy',
      healthReason: 'exited with code 3',
    });
    expect(nginx(c)).toMatchObject({ health: 'unhealthy', healthReason: 'timed out after 1s' });
    for (const uuid of uuids.slice(3)) {
      expect(nginx(uuid)).toEqual({ image: NEW, status: 'running', health: 'healthy' });
    }
    // The event log tells it by policy and by device, through the admin API.
    const read = async (query: string) => {
      const answer = await engine.deviceApi.app.inject({
        url: `/api/v1/events?${query}`,
        headers: ADMIN,
      });
      expect(answer.statusCode).toBe(200);
      return (answer.json().items as Array<{ type: string }>).map((entry) => entry.type);
    };
    const byPolicy = await read('policy=default/scripted');
    expect(byPolicy).toEqual(
      expect.arrayContaining(['image.rollout_started', 'image.device_scheduled']),
    );
    expect(byPolicy.at(-1)).toBe('image.rollout_paused');
    expect(await read(`device=${a}`)).toEqual(['image.device_scheduled']);
  });

  it('lets a rollout whose script passes everywhere succeed', async () => {
    const simulator = await engine.simulate({
      register: { count: 4, fleet: 'passing', apps: apps(OLD) },
      seed: 'passing',
    });
    await engine.policy('passing', {
      selector: { fleets: ['passing'] },
      strategy: { batches: [50, 100], interval: '0s' },
      health: { ...health, checks: [{ type: 'Script', command: script([], []) }] },
      failurePolicy: { maxFailurePercent: 0, minSample: 1, action: 'Pause' },
    });
    await engine.rollout('passing-1-28', { policy: 'passing' });
    const done = await engine.until('passing-1-28', (r) =>
      expect(r.status?.phase).toBe('Succeeded'),
    );
    expect(done.status?.batches?.map((batch) => batch.failed)).toEqual([0, 0]);
    await vi.waitFor(() => expect(simulator.summary().images[NEW]).toEqual({ healthy: 4 }));
    // Without `service`, the check applies to every rewritten service (only nginx here).
    const target = simulator.devices()[0]?.target?.web?.services;
    expect(target?.nginx?.healthChecks).toEqual([
      { type: 'Script', periodSeconds: 10, command: script([], []), timeoutSeconds: 10 },
    ]);
  });
});
