import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthCheck } from '../../src/api/types.js';
import { checksForService } from '../../src/devices/health-checks.js';
import { applyOverlays, etagOf, rewriteImages } from '../../src/devices/target-document.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';
import { ADMIN, register, startDeviceApi, type TestDeviceApi } from '../support/device-api.js';

const OLD = 'docker.io/library/nginx:1.27';
const NEW = 'docker.io/library/nginx:1.28';
const script: HealthCheck = { type: 'Script', command: ['/usr/bin/check', '--quick'] };

describe('health checks in the target document', () => {
  it.each<[string, HealthCheck, object]>([
    ['HTTP: path / by default', { type: 'HTTP', port: 80 }, { path: '/', port: 80 }],
    ['TCP', { type: 'TCP', port: 5432, periodSeconds: 5 }, { port: 5432, periodSeconds: 5 }],
    ['ContainerRunning', { type: 'ContainerRunning' }, { periodSeconds: 10 }],
    ['Script: timeout 10 s by default', script, { command: script.command, timeoutSeconds: 10 }],
    [
      'Script: the default timeout is at most the period',
      { ...script, periodSeconds: 4 },
      { timeoutSeconds: 4, periodSeconds: 4 },
    ],
    [
      'Script: its own timeout',
      { ...script, timeoutSeconds: 2, periodSeconds: 30 },
      { timeoutSeconds: 2, periodSeconds: 30 },
    ],
  ])('%s', (_name, check, expected) => {
    const [sent] = checksForService([{ ...check, service: 'web' }], 'web');
    expect(sent).toMatchObject({ type: check.type, periodSeconds: 10, ...expected });
    expect(sent).not.toHaveProperty('service');
  });

  it('gives each rewritten service the checks meant for it and replaces its old ones', () => {
    const apps = {
      app: {
        services: {
          web: { image: OLD, healthChecks: [{ type: 'TCP', port: 1, periodSeconds: 10 }] },
          api: { image: OLD, env: { A: '1' } },
          db: { image: 'docker.io/library/postgres:16' },
        },
      },
    };
    const checks: HealthCheck[] = [script, { type: 'HTTP', port: 8080, service: 'api' }];
    const { apps: next } = rewriteImages(apps, 'docker.io/library/nginx', NEW, checks);
    expect(next.app?.services).toEqual({
      web: { image: NEW, healthChecks: checksForService([script], 'web') },
      api: { image: NEW, env: { A: '1' }, healthChecks: checksForService(checks, 'api') },
      db: { image: 'docker.io/library/postgres:16' },
    });
    // A rollout without checks takes the old image's away; one from before checks keeps them.
    const none = rewriteImages(apps, 'docker.io/library/nginx', NEW, []).apps;
    expect(none.app?.services.web).toEqual({ image: NEW });
    const legacy = applyOverlays(apps, [{ repository: 'docker.io/library/nginx', image: NEW }]);
    expect(legacy.app?.services.web?.healthChecks).toEqual(apps.app.services.web.healthChecks);
  });

  it('changes the ETag when only the checks differ', () => {
    const base = { app: { services: { web: { image: OLD } } } };
    const overlay = { repository: 'docker.io/library/nginx', image: NEW };
    const a = applyOverlays(base, [{ ...overlay, checks: [script] }]);
    const b = applyOverlays(base, [{ ...overlay, checks: [{ ...script, timeoutSeconds: 3 }] }]);
    expect(etagOf(a)).not.toBe(etagOf(b));
  });
});

describe.each(databaseBackends)('health checks through the admin API on %s', (backend) => {
  let test: TestDatabase;
  let server: TestDeviceApi;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    server = await startDeviceApi(test.database);
  });
  afterAll(async () => {
    await server?.close();
    await test?.drop();
  });

  const setTarget = (uuid: string, checks: unknown) =>
    server.app.inject({
      method: 'PUT',
      url: `/api/v1/devices/${uuid}/target`,
      headers: ADMIN,
      payload: { apps: { app: { services: { web: { image: OLD, healthChecks: checks } } } } },
    });
  const good = { type: 'Script', periodSeconds: 10, command: ['true'], timeoutSeconds: 5 };

  it('takes checks in a target and serves them to the device', async () => {
    const device = await register(server.app, {});
    const answer = await setTarget(device.uuid, [good]);
    expect(answer.statusCode).toBe(200);
    expect(answer.json().target.apps.app.services.web.healthChecks).toEqual([good]);
  });

  it.each<[string, unknown, string]>([
    ['an unknown type', [{ ...good, type: 'Exec' }], 'must be equal to one of the allowed values'],
    ['no period', [{ type: 'ContainerRunning' }], "must have required property 'periodSeconds'"],
    ['an empty argv', [{ ...good, command: [] }], 'must NOT have fewer than 1 items'],
    [
      'a too long argument',
      [{ ...good, command: ['sh', 'x'.repeat(513)] }],
      'must NOT have more than 512 characters',
    ],
    ['a timeout of 0', [{ ...good, timeoutSeconds: 0 }], 'must be >= 1'],
    ['an unknown field', [{ ...good, shell: true }], 'must NOT have additional properties'],
    [
      'a Script without command',
      [{ type: 'Script', periodSeconds: 10 }],
      'Script checks need command',
    ],
    ['an empty program', [{ ...good, command: ['', 'x'] }], 'the program must not be empty'],
    [
      'a timeout past the period',
      [{ ...good, timeoutSeconds: 11 }],
      'timeoutSeconds must not be longer than periodSeconds',
    ],
    [
      'a command on a TCP check',
      [{ type: 'TCP', port: 1, periodSeconds: 10, command: ['x'] }],
      'not allowed on TCP checks',
    ],
    [
      'a timeout on an HTTP check',
      [{ type: 'HTTP', port: 1, periodSeconds: 10, timeoutSeconds: 1 }],
      'not allowed on HTTP checks',
    ],
  ])('refuses %s with a 400 problem', async (_name, checks, message) => {
    const device = await register(server.app, {});
    const answer = await setTarget(device.uuid, checks);
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body).toContain(message);
  });
});
