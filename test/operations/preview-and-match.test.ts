import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import { registerDevice } from '../../src/db/device-store.js';
import { queryRows } from '../../src/db/rows.js';
import { OperationError } from '../../src/operations/errors.js';
import { matchImage } from '../../src/operations/match.js';
import { previewRollout } from '../../src/operations/preview.js';
import { type Engine, startEngine } from '../support/engine.js';

const apps = { web: { services: { nginx: { image: 'docker.io/library/nginx:1.27' } } } };

describe('preview and match', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startEngine('pglite');
    // 23 devices of fleet sim (every fourth one in the lab), 5 of another fleet.
    for (let i = 0; i < 28; i++) {
      const labels: Record<string, string> = i % 4 === 0 ? { tier: 'lab' } : { tier: 'field' };
      await registerDevice(engine.database.db, { fleet: i < 23 ? 'sim' : 'other', labels, apps });
    }
  }, 60_000);
  afterAll(() => engine?.stop());

  it('equals the membership the rollout then gets, device by device', async () => {
    await engine.policy('field', {
      selector: {
        fleets: ['sim'],
        matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['lab'] }],
      },
      strategy: { type: 'Manual', batches: [10, 50, 100] },
    });
    const preview = await previewRollout(
      { kube: engine.kube, db: engine.database.db },
      { policy: { namespace: 'default', name: 'field' }, tag: '1.28' },
    );
    expect(preview.trigger).toEqual({ matched: true });
    expect(preview.devices).toBe(17);
    expect(preview.batches.map((batch) => [batch.percent, batch.devices.length])).toEqual([
      [10, 2],
      [50, 7],
      [100, 8],
    ]);
    expect(preview.firstStep).toEqual({
      phase: 'WaitingForApproval',
      message: 'Batch 1/3 waits for approval: set spec.approvedBatches to 1',
    });
    expect(preview.existingPhase).toBeUndefined();

    // Create the rollout the webhook would create; the controller selects its members.
    const { generation: _g, creationTimestamp: _c, ...metadata } = preview.rollout.metadata;
    const created = await engine.kube.imageRollouts.create({ ...preview.rollout, metadata });
    const name = created.metadata.name ?? '';
    const rollout: ImageRollout = await engine.until(name, (r) =>
      expect(r.status?.phase).toBe('WaitingForApproval'),
    );
    expect(rollout.status?.message).toBe(preview.firstStep.message);
    const members = await queryRows<{ uuid: string; batch: number }>(
      engine.database.db,
      sql`select device_uuid::text as uuid, batch from rollout_members
          where rollout_uid = ${created.metadata.uid} order by rank`,
    );
    const previewed = preview.batches.flatMap((batch) =>
      batch.devices.map((uuid) => ({ uuid, batch: batch.batch })),
    );
    expect(members).toEqual(previewed);

    const again = await previewRollout(
      { kube: engine.kube, db: engine.database.db },
      { policy: { namespace: 'default', name: 'field' }, tag: '1.28' },
    );
    expect(again.existingPhase).toBe('WaitingForApproval');
  });

  it('tells when the next maintenance window opens and what the first pass waits for', async () => {
    await engine.policy('nightly', {
      tags: { semver: '^1.0.0' },
      strategy: {
        type: 'Staged',
        maintenanceWindows: [{ schedule: '0 3 * * *', duration: '1h', timeZone: 'UTC' }],
      },
    });
    const deps = { kube: engine.kube, db: engine.database.db };
    const policy = { namespace: 'default', name: 'nightly' };
    const now = new Date('2026-03-10T12:00:00Z');
    const preview = await previewRollout({ ...deps, now }, { policy, tag: '1.28.0' });
    expect(preview.nextWindow).toBe('2026-03-11T03:00:00.000Z');
    expect(preview.firstStep).toEqual({
      phase: 'WaitingForWindow',
      message: 'Batch 1/3 starts at 2026-03-11T03:00:00Z (maintenance window)',
    });
    const inWindow = new Date('2026-03-11T03:30:00Z');
    expect(
      (await previewRollout({ ...deps, now: inWindow }, { policy, tag: '1.28.0' })).nextWindow,
    ).toBe('now');
    // A tag outside the policy's range: previewed all the same, with the webhook's verdict.
    const latest = await previewRollout({ ...deps, now }, { policy, tag: 'latest' });
    expect(latest.trigger).toEqual({ matched: false, reason: 'tag is not a semantic version' });
  });

  it('refuses an unknown policy, a bad tag and a glob policy without --image', async () => {
    const deps = { kube: engine.kube, db: engine.database.db };
    await engine.policy('globbed', { image: 'ghcr.io/acme/*' });
    const cases: Array<[string, string, string | undefined, string]> = [
      ['missing', '1.0', undefined, 'NotFound'],
      ['nightly', 'bad tag!', undefined, 'Invalid'],
      ['globbed', '1.0', undefined, 'Invalid'],
      ['globbed', '1.0', 'not a repo', 'Invalid'],
    ];
    for (const [name, tag, image, reason] of cases) {
      const failure = await previewRollout(deps, {
        policy: { namespace: 'default', name },
        tag,
        image,
      }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(OperationError);
      expect((failure as OperationError).reason).toBe(reason);
    }
    const named = await previewRollout(deps, {
      policy: { namespace: 'default', name: 'globbed' },
      tag: '1.0',
      image: 'ghcr.io/acme/app',
    });
    expect(named.rollout.spec.image).toBe('ghcr.io/acme/app');
  });

  it('match: which policies a push triggers and why the others do not', async () => {
    await engine.policy('paused-policy', { suspend: true });
    const report = await matchImage(engine.kube, 'nginx:1.28.0', 'default');
    expect(report).toMatchObject({ repository: 'docker.io/library/nginx', tag: '1.28.0' });
    const verdicts = Object.fromEntries(
      report.policies.map(({ name, matched, reason, exists }) => [
        name,
        matched ? `matched${exists ? ' (exists)' : ''}` : reason,
      ]),
    );
    expect(verdicts).toEqual({
      field: 'matched',
      nightly: 'matched',
      globbed: 'repository does not match "ghcr.io/acme/*"',
      'paused-policy': 'the policy is suspended',
    });
    expect(report.policies.map((policy) => policy.matched)).toEqual([true, true, false, false]);
    const repeat = await matchImage(engine.kube, 'docker.io/library/nginx:1.28');
    expect(repeat.policies.find((policy) => policy.name === 'field')).toMatchObject({
      matched: true,
      exists: true,
    });
    expect(repeat.policies.find((policy) => policy.name === 'nightly')?.reason).toBe(
      'tag is not a semantic version',
    );
    // An active freeze of the policy: the push still creates the rollout, which then waits.
    await engine.kube.fleetFreezes.create({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'FleetFreeze',
      metadata: { name: 'holiday', namespace: 'default' },
      spec: { reason: 'Holiday change freeze', scope: { policies: ['nightly'] } },
    });
    const frozen = await matchImage(engine.kube, 'nginx:1.30.0', 'default');
    expect(frozen.policies.find((policy) => policy.name === 'nightly')).toMatchObject({
      matched: true,
      heldBy: ['holiday'],
    });
    expect(frozen.policies.find((policy) => policy.name === 'field')?.heldBy).toBeUndefined();
    const preview = await previewRollout(
      { kube: engine.kube, db: engine.database.db },
      { policy: { namespace: 'default', name: 'nightly' }, tag: '1.30.0' },
    );
    expect(preview.firstStep.phase).toBe('Frozen');
    expect(preview.firstStep.message).toContain('FleetFreeze holiday (Holiday change freeze)');
    await engine.kube.fleetFreezes.delete('default', 'holiday');
    const invalid = await matchImage(engine.kube, 'UPPER/case').catch((error: unknown) => error);
    expect((invalid as OperationError).reason).toBe('Invalid');
  });
});
