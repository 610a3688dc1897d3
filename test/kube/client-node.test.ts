import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubePort, loadKubeConfig } from '../../src/kube/client-node.js';
import {
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  isResourceVersionTooLarge,
  KubeApiError,
  type KubePort,
  type WatchOptions,
} from '../../src/kube/port.js';
import { databaseBackends } from '../support/database.js';
import { rollout } from '../support/fixtures.js';
import { type KubeServerHarness, startKubeServer } from '../support/kube-server.js';

describe.each(databaseBackends)(
  'client-node KubePort against the local API server (%s)',
  (backend) => {
    let server: KubeServerHarness;
    let kube: KubePort;

    beforeAll(async () => {
      server = await startKubeServer(backend);
      kube = server.kube;
      await server.namespace('team-a');
      await server.namespace('team-b');
    });
    afterAll(() => server?.stop());

    it('creates, reads, lists, replaces, patches and deletes', async () => {
      const created = await kube.imageRollouts.create(rollout('crud', 'team-a'));
      expect(created.metadata).toMatchObject({ name: 'crud', namespace: 'team-a', generation: 1 });
      expect(await kube.imageRollouts.get('team-a', 'crud')).toEqual(created);
      await kube.imageRollouts.create(rollout('other', 'team-b'));
      const names = (items: Array<{ metadata: { name?: string } }>) =>
        items.map((item) => item.metadata.name).sort();
      expect(names(await kube.imageRollouts.list('team-a'))).toEqual(['crud']);
      expect(names(await kube.imageRollouts.list(undefined))).toEqual(['crud', 'other']);
      expect(await kube.imageRollouts.list(undefined, { labelSelector: 'app=api' })).toEqual([]);

      const replaced = await kube.imageRollouts.replace({
        ...created,
        spec: { ...created.spec, approvedBatches: 1 },
      });
      expect(replaced.spec.approvedBatches).toBe(1);
      expect(replaced.metadata.generation).toBe(2);
      const patched = await kube.imageRollouts.mergePatch('team-a', 'crud', {
        spec: { paused: true },
      });
      expect(patched.spec).toMatchObject({ approvedBatches: 1, paused: true });

      await kube.imageRollouts.delete('team-a', 'crud');
      expect(await kube.imageRollouts.get('team-a', 'crud')).toBeUndefined();
    });

    it('rejects an update with a stale resourceVersion as a Conflict', async () => {
      const created = await kube.imageRollouts.create(rollout('stale'));
      await kube.imageRollouts.mergePatch('default', 'stale', { spec: { paused: true } });
      const error = await kube.imageRollouts
        .replace({ ...created, spec: { ...created.spec, approvedBatches: 2 } })
        .catch((e: unknown) => e);
      expect(isConflict(error)).toBe(true);
      expect(
        (await kube.imageRollouts.get('default', 'stale'))?.spec.approvedBatches,
      ).toBeUndefined();
    });

    it('writes status through the subresource without bumping the generation', async () => {
      const created = await kube.imageRollouts.create(rollout('status'));
      const written = await kube.imageRollouts.replaceStatus({
        ...created,
        status: { phase: 'Progressing', observedGeneration: 1 },
      });
      expect(written.status?.phase).toBe('Progressing');
      expect(written.metadata.generation).toBe(1);
      const conflict = await kube.imageRollouts
        .replaceStatus({ ...created, status: { phase: 'Failed' } })
        .catch((e: unknown) => e);
      expect(isConflict(conflict)).toBe(true);
    });

    it('maps API errors to KubeApiError with the Status reason', async () => {
      await kube.imageRollouts.create(rollout('taken'));
      const exists = await kube.imageRollouts.create(rollout('taken')).catch((e: unknown) => e);
      expect(isAlreadyExists(exists)).toBe(true);
      expect(await kube.imageRollouts.get('default', 'missing')).toBeUndefined();
      const missing = await kube.imageRollouts
        .delete('default', 'missing')
        .catch((e: unknown) => e);
      expect(isNotFound(missing)).toBe(true);

      const invalid = rollout('invalid');
      const { tag: _omitted, ...specWithoutTag } = invalid.spec;
      const error = await kube.imageRollouts
        .create({ ...invalid, spec: specWithoutTag as typeof invalid.spec })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KubeApiError);
      expect(error).toMatchObject({ code: 422, reason: 'Invalid' });
      expect((error as KubeApiError).status?.details?.causes).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'spec.tag' })]),
      );
    });

    it('connects with the kubeconfig file the local API server writes', async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'kubeconfig-')), 'kubeconfig');
      writeFileSync(path, server.kubeconfig());
      const fromFile = createKubePort(loadKubeConfig({ kind: 'kubeconfig', path }));
      await kube.imageRollouts.create(rollout('via-kubeconfig', 'team-b'));
      expect((await fromFile.imageRollouts.get('team-b', 'via-kubeconfig'))?.spec.tag).toBe(
        '1.2.3',
      );
    });

    it('closes a watch with a KubeApiError: refused up front, or ended by an ERROR event', async () => {
      const closeOf = (options: WatchOptions) =>
        new Promise<Error | undefined>((resolve) => {
          void kube.imageRollouts.watch('team-a', options, { onEvent: () => {}, onClose: resolve });
        });
      const refused = await closeOf({ resourceVersion: '0', labelSelector: 'app in (' });
      expect(refused).toMatchObject({ code: 400, reason: 'BadRequest' });

      const old = await kube.imageRollouts.create(rollout('compacted', 'team-a'));
      await kube.imageRollouts.delete('team-a', 'compacted');
      await server.compact();
      const expired = await closeOf({ resourceVersion: old.metadata.resourceVersion ?? '' });
      expect(isGone(expired)).toBe(true);

      const future = String(Number(old.metadata.resourceVersion) + 1000);
      const tooLarge = await closeOf({ resourceVersion: future });
      expect(isResourceVersionTooLarge(tooLarge)).toBe(true);
      expect(tooLarge).toMatchObject({ code: 504, reason: 'Timeout' });
    });

    it('answers a wrong token with 401 Unauthorized', async () => {
      const intruder = server.connect(server.proxy, 'wrong');
      const error = await intruder.imageRollouts.list(undefined).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 401, reason: 'Unauthorized' });
    });
  },
);
