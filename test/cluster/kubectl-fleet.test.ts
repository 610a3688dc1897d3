import { join } from 'node:path';
import { V1MicroTime } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ImageRollout, ImageRolloutStatus } from '../../src/api/types.js';
import type { KubePort } from '../../src/kube/port.js';
import { approveRollout } from '../../src/operations/rollout-actions.js';
import { runPlugin } from '../../src/plugin/run.js';
import { adminKubectl, clusterKube, controlPlane, installCrds } from './cluster.js';

const NAMESPACE = 'kubectl-fleet';

/*
 * The plugin against a real kube-apiserver (no controller: statuses are written by hand): the
 * Events field selector, the merge patches that carry a resourceVersion, and the watch by
 * metadata.name work there as on the local API server.
 */
describe('kubectl fleet on a real kube-apiserver', () => {
  let kube: KubePort;
  beforeAll(async () => {
    await installCrds();
    await adminKubectl(['create', 'namespace', NAMESPACE]);
    kube = clusterKube();
  });

  /** Starts `kubectl fleet ARGS` in this process; `out` reads what it printed so far. */
  function start(args: string[], signal = new AbortController().signal) {
    let out = '';
    let err = '';
    const kubeconfig = join(controlPlane().dir, 'admin.kubeconfig');
    const done = runPlugin([...args, '-n', NAMESPACE, '--kubeconfig', kubeconfig], {
      out: { write: (text: string) => (out += text) },
      err: { write: (text: string) => (err += text) },
      env: {},
      signal,
      now: () => new Date(),
    });
    return { done, out: () => out, err: () => err };
  }
  async function fleet(args: string[]) {
    const run = start(args);
    const code = await run.done;
    return { code, out: run.out(), err: run.err() };
  }

  async function rollout(name: string, status: ImageRolloutStatus): Promise<ImageRollout> {
    const created = await kube.imageRollouts.create({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImageRollout',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        policyRef: { name: 'web' },
        image: 'docker.io/library/nginx',
        tag: '1.28',
        selector: { fleets: ['sim'] },
        strategy: { type: 'Manual', batches: [10, 50, 100] },
      },
    });
    return kube.imageRollouts.replaceStatus({ ...created, status });
  }

  it('status shows the Events about the rollout; approve patches its spec', async () => {
    const created = await rollout('gated', {
      phase: 'WaitingForApproval',
      currentBatch: 0,
      totalBatches: 3,
      message: 'Batch 1/3 waits for approval: set spec.approvedBatches to 1',
    });
    const { uid, name, namespace } = created.metadata;
    await kube.events.create({
      metadata: { name: 'gated.1', namespace },
      eventTime: new V1MicroTime(),
      reportingController: 'fleet.iotistic.io/controller',
      reportingInstance: 'test',
      action: 'CreateMembership',
      reason: 'RolloutStarted',
      type: 'Normal',
      note: 'Selecting devices for docker.io/library/nginx',
      regarding: {
        apiVersion: 'fleet.iotistic.io/v1alpha1',
        kind: 'ImageRollout',
        name,
        namespace,
        uid,
      },
    });
    const status = await fleet(['status', 'gated']);
    expect(status.err).toBe('');
    expect(status.out).toContain('Waiting for:  approval of batch 1 (kubectl fleet approve gated)');
    expect(status.out).toMatch(
      /Normal\s+RolloutStarted\s+Selecting devices for docker.io\/library\/nginx/,
    );

    const approve = await fleet(['approve', 'gated', '--all']);
    expect(approve.out).toBe(
      'imagerollout.fleet.iotistic.io/gated approved: batches 1..3 may start\n',
    );
    expect((await kube.imageRollouts.get(NAMESPACE, 'gated'))?.spec.approvedBatches).toBe(3);
    expect((await fleet(['approve', 'gated'])).err).toBe(
      `error: ImageRollout ${NAMESPACE}/gated: every batch (3) is approved already\n`,
    );
  });

  it('retry sets acceptedFailureBatches, which the CRD on the real server keeps', async () => {
    await rollout('budget', {
      phase: 'Paused',
      currentBatch: 1,
      totalBatches: 3,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'FailureBudgetExceeded',
          message: 'Paused, batch 1: 3 failed',
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      ],
    });
    const retry = await fleet(['retry', 'budget', '-o', 'json']);
    expect(retry.err).toBe('');
    expect(JSON.parse(retry.out).spec.acceptedFailureBatches).toBe(1);
    // It may only grow (a CEL rule the real server runs too).
    await expect(
      kube.imageRollouts.mergePatch(NAMESPACE, 'budget', { spec: { acceptedFailureBatches: 0 } }),
    ).rejects.toThrow(/acceptedFailureBatches may only grow/);
  });

  it('status --watch redraws on a change the watch by name reports', async () => {
    await rollout('watched', { phase: 'WaitingForApproval', currentBatch: 0, totalBatches: 3 });
    const stop = new AbortController();
    const run = start(['status', 'watched', '--watch'], stop.signal);
    const every = { timeout: 30_000, interval: 100 };
    await vi.waitFor(() => expect(run.out()).toContain('batches 10% 50% 100%, 0 approved'), every);
    await approveRollout(kube, { namespace: NAMESPACE, name: 'watched' });
    await vi.waitFor(() => expect(run.out()).toContain('batches 10% 50% 100%, 1 approved'), every);
    stop.abort();
    expect(await run.done).toBe(0);
    expect(run.err()).toBe('');
  });
});
