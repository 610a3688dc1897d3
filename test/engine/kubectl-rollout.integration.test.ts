import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { databaseBackends } from '../support/database.js';
import { type Engine, startEngine } from '../support/engine.js';
import { kubectlFor } from '../support/kubectl.js';

type Kubectl = Awaited<ReturnType<typeof kubectlFor>>;

/** What an operator sees with the real kubectl while the controller runs a rollout. */
describe.each(databaseBackends.slice(0, 1))('kubectl and a running controller (%s)', (backend) => {
  let engine: Engine;
  let kubectl: Kubectl;
  beforeAll(async () => {
    engine = await startEngine(backend);
    kubectl = await kubectlFor(engine.server);
    await engine.simulate({
      register: {
        count: 4,
        fleet: 'sim',
        apps: { web: { services: { nginx: { image: 'nginx:1.27' } } } },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await kubectl?.cleanup();
    await engine?.stop();
  });

  it('shows printer columns and waits for Ready on a finished rollout', {
    timeout: 90_000,
  }, async () => {
    await engine.policy('web', {
      strategy: { type: 'Manual', batches: [50, 100], interval: '0s' },
      health: { soakTime: '0s' },
    });
    await engine.rollout('web-1-28', { policy: 'web' });
    await engine.until('web-1-28', (r) => expect(r.status?.phase).toBe('WaitingForApproval'));
    // The columns themselves are tested in test/apiserver/kubectl.test.ts; here, their values.
    const waiting = await kubectl.run(['get', 'imagerollouts', '--no-headers']);
    expect(waiting.stderr).toBe('');
    expect(waiting.stdout.trim().split(/\s+/).slice(0, 9).join(' ')).toBe(
      'web-1-28 docker.io/library/nginx 1.28 WaitingForApproval 0 4 0 0 0',
    );
    const approve = ['patch', 'iro', 'web-1-28', '--type', 'merge', '-p'];
    expect((await kubectl.run([...approve, '{"spec":{"approvedBatches":2}}'])).code).toBe(0);
    const wait = await kubectl.run(
      ['wait', '--for=condition=Ready', 'imagerollout/web-1-28', '--timeout=60s'],
      70_000,
    );
    expect(wait).toMatchObject({ code: 0 });
    expect(wait.stdout).toContain('condition met');
    const done = await kubectl.run(['get', 'iro', 'web-1-28', '--no-headers']);
    expect(done.stdout.trim().split(/\s+/).slice(3, 9).join(' ')).toBe('Succeeded 2 4 4 4 0');
    const policy = await kubectl.run(['get', 'imagepolicy', 'web', '--no-headers']);
    expect(policy.stdout.trim().split(/\s+/).slice(0, 4).join(' ')).toBe(
      'web docker.io/library/nginx 4 docker.io/library/nginx:1.28',
    );
  });

  it('shows the image the fleet went back to as Latest after a rollback, and the rolled-back one', {
    timeout: 90_000,
  }, async () => {
    await engine.until('web-1-28', (r) => expect(r.status?.phase).toBe('Succeeded'));
    await engine.rollout('web-1-29', { policy: 'web', tag: '1.29' });
    await engine.until('web-1-29', (r) => expect(r.status?.phase).toBe('WaitingForApproval'));
    const patch = ['patch', 'iro', 'web-1-29', '--type', 'merge', '-p', '{"spec":{"abort":true}}'];
    expect((await kubectl.run(patch)).code).toBe(0);
    await engine.until('web-1-29', (r) => expect(r.status?.phase).toBe('RolledBack'));
    await vi.waitFor(
      async () => {
        const policy = await kubectl.run(['get', 'imagepolicy', 'web']);
        const [header, row] = policy.stdout.trim().split('\n');
        expect(header?.split(/\s{2,}/).slice(0, 5)).toEqual([
          'NAME',
          'IMAGE',
          'SELECTED',
          'LATEST',
          'ROLLED BACK',
        ]);
        expect(row?.split(/\s+/).slice(0, 5)).toEqual([
          'web',
          'docker.io/library/nginx',
          '4',
          'docker.io/library/nginx:1.28',
          'docker.io/library/nginx:1.29',
        ]);
      },
      { timeout: 30_000, interval: 250 },
    );
  });
});
