import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import { createHttpServer } from '../../src/http/server.js';
import { managementRoutes } from '../../src/management/routes.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { type Engine, startEngine } from '../support/engine.js';
import { ADMIN, ADMIN_TOKEN } from '../support/management.js';

/**
 * A dashboard's day with a running controller and simulated devices, through the management API
 * alone: create a policy, test matching, preview, approve batch by batch, pause, resume, freeze
 * and lift it, roll everything back — each answer checked against the resources kubectl reads.
 */
describe('management API driving a rollout with the controller running', () => {
  let engine: Engine;
  let app: FastifyInstance;

  beforeAll(async () => {
    engine = await startEngine('pglite');
    await engine.simulate({
      register: {
        count: 4,
        fleet: 'sim',
        apps: { web: { services: { nginx: { image: 'nginx:1.27' } } } },
      },
    });
    app = await createHttpServer({
      logger: silentLogger(),
      metrics: createMetricsRegistry({ processMetrics: false }),
      database: engine.database,
      plugins: [
        managementRoutes({
          kube: engine.kube,
          db: engine.database.db,
          logger: silentLogger(),
          adminToken: ADMIN_TOKEN,
        }),
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await engine?.stop();
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    app.inject({ method, url, headers: ADMIN, ...(payload ? { payload } : {}) });
  /** The rollout the push creates: its name is the webhook's, which match tells. */
  let name = '';
  const rollout = () => call('GET', `/api/v1/rollouts/default/${name}`);
  const act = (action: string) => call('POST', `/api/v1/rollouts/default/${name}/${action}`);
  const stored = async (): Promise<ImageRollout> => engine.get(name);

  it('creates, matches, previews, approves, pauses, resumes, freezes and rolls back', {
    timeout: 120_000,
  }, async () => {
    const created = await call('POST', '/api/v1/policies', {
      metadata: { name: 'nginx' },
      spec: {
        image: 'docker.io/library/nginx',
        tags: { semver: '>=1.28.0' },
        selector: { fleets: ['sim'] },
        strategy: { type: 'Manual', batches: [50, 100], interval: '0s' },
        health: { soakTime: '0s' },
      },
    });
    expect(created.statusCode).toBe(201);

    // Test matching: the webhook's own verdict.
    const matched = await call('GET', '/api/v1/policies/match?image=nginx:1.28.0');
    expect(matched.statusCode).toBe(200);
    expect(matched.json().policies).toEqual([
      {
        namespace: 'default',
        name: 'nginx',
        matched: true,
        rollout: expect.stringMatching(/^nginx-/),
        exists: false,
      },
    ]);
    name = matched.json().policies[0].rollout;
    const old = await call('GET', '/api/v1/policies/match?image=nginx:1.27.0');
    expect(old.json().policies[0]).toMatchObject({ matched: false });
    expect(old.json().policies[0].reason).toBe('tag does not satisfy ">=1.28.0"');

    // Preview writes nothing and says which device lands in which batch.
    const preview = await call('POST', '/api/v1/policies/default/nginx/preview', { tag: '1.28.0' });
    expect(preview.statusCode).toBe(200);
    const plan = preview.json();
    expect(plan.devices).toBe(4);
    expect(plan.rollout.metadata.name).toBe(name);
    expect(plan.batches.map((b: { devices: string[] }) => b.devices.length)).toEqual([2, 2]);
    expect(plan.firstStep.phase).toBe('WaitingForApproval');
    expect(await engine.kube.imageRollouts.list('default')).toEqual([]);

    // The push arrives (the webhook creates the rollout preview showed).
    const { generation: _g, creationTimestamp: _c, ...metadata } = plan.rollout.metadata;
    await engine.kube.imageRollouts.create({ ...plan.rollout, metadata });
    await engine.until(name, (r) => expect(r.status?.phase).toBe('WaitingForApproval'));
    const waiting = (await rollout()).json();
    expect(waiting).toMatchObject({
      phase: 'WaitingForApproval',
      currentBatch: 0,
      totalBatches: 2,
    });
    expect(waiting.batches.map((b: { state: string }) => b.state)).toEqual(['Pending', 'Pending']);

    // Approve batch 1: spec.approvedBatches, and the controller runs it.
    const approved = await act('approve');
    expect(approved.statusCode).toBe(200);
    expect(approved.json().approvedBatches).toBe(1);
    expect((await stored()).spec.approvedBatches).toBe(1);
    await engine.until(name, (r) => {
      expect(r.status?.batches?.[0]?.completedAt).toBeDefined();
      expect(r.status?.phase).toBe('WaitingForApproval');
    });
    const batch1 = (await rollout()).json();
    const status = (await stored()).status;
    expect(batch1.batches.map(({ state: _, ...counts }: { state: string }) => counts)).toEqual(
      status?.batches,
    );
    expect(batch1.batches[0]).toMatchObject({ state: 'Completed', devices: 2, healthy: 2 });
    expect(batch1.counts).toMatchObject({
      devices: status?.devices,
      updated: status?.updated,
      healthy: status?.healthy,
      failed: status?.failed,
    });

    // The list filters find it the way a dashboard asks.
    const listed = await call('GET', '/api/v1/rollouts?policy=nginx&phase=WaitingForApproval');
    expect(listed.json().items.map((r: { name: string }) => r.name)).toEqual([name]);

    // Pause and resume are spec.paused, as kubectl shows it.
    expect((await act('pause')).statusCode).toBe(200);
    expect((await stored()).spec.paused).toBe(true);
    await engine.until(name, (r) => expect(r.status?.phase).toBe('Paused'));
    expect((await rollout()).json()).toMatchObject({ phase: 'Paused', paused: true });
    expect((await act('resume')).statusCode).toBe(200);
    expect((await stored()).spec.paused).toBe(false);
    await engine.until(name, (r) => expect(r.status?.phase).toBe('WaitingForApproval'));

    // Stop the line: a freeze holds it (phase Frozen, spec.paused untouched); lifting it resumes.
    const frozen = await call('POST', '/api/v1/freezes', { name: 'incident', reason: 'reboots' });
    expect(frozen.statusCode).toBe(201);
    await engine.until(name, (r) => expect(r.status?.phase).toBe('Frozen'));
    const held = await call('GET', '/api/v1/rollouts?phase=Frozen');
    expect(held.json().items.map((r: { name: string }) => r.name)).toEqual([name]);
    await vi.waitFor(
      async () => {
        const freezes = (await call('GET', '/api/v1/freezes')).json();
        expect(freezes.items).toMatchObject([
          { name: 'incident', state: 'Active', heldCount: 1, heldRollouts: [name] },
        ]);
      },
      { timeout: 30_000, interval: 250 },
    );
    expect((await stored()).spec.paused).toBe(false);
    expect((await call('DELETE', '/api/v1/freezes/default/incident')).statusCode).toBe(200);
    expect(await engine.kube.fleetFreezes.list('default')).toEqual([]);
    await engine.until(name, (r) => expect(r.status?.phase).toBe('WaitingForApproval'));

    // A retry is refused: the failure budget did not pause it.
    const retry = await act('retry');
    expect(retry.statusCode).toBe(409);
    expect(retry.json().detail).toMatch(/not paused by its failure budget/);

    // Roll every updated device back: spec.abort, then RolledBack.
    const aborted = await act('rollback-all');
    expect(aborted.statusCode).toBe(200);
    expect(aborted.json().abort).toBe(true);
    expect((await stored()).spec.abort).toBe(true);
    await engine.until(name, (r) => expect(r.status?.phase).toBe('RolledBack'), 60_000);
    const rolledBack = (await rollout()).json();
    expect(rolledBack.phase).toBe('RolledBack');
    expect(rolledBack.rollback).toMatchObject({ devices: 2, restored: 2 });

    // Actions on a finished rollout are conflicts, and change nothing.
    const before = (await stored()).metadata.resourceVersion;
    for (const action of ['approve', 'pause', 'resume', 'retry']) {
      const answer = await act(action);
      expect(answer.statusCode).toBe(409);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.json().detail).toMatch(/RolledBack: cannot/);
    }
    expect((await stored()).metadata.resourceVersion).toBe(before);

    // The policy's status shows the image the fleet went back from, as kubectl shows it.
    await vi.waitFor(
      async () => {
        const policy = (await call('GET', '/api/v1/policies/default/nginx')).json();
        expect(policy.status.rolledBackImage).toBe('docker.io/library/nginx:1.28.0');
      },
      { timeout: 30_000, interval: 250 },
    );
  });
});
