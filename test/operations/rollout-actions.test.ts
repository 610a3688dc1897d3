import { describe, expect, it } from 'vitest';
import type { ImageRollout, ImageRolloutSpec, ImageRolloutStatus } from '../../src/api/types.js';
import { createKubePort, loadKubeConfig, tokenConnection } from '../../src/kube/client-node.js';
import type { KubePort } from '../../src/kube/port.js';
import { OperationError } from '../../src/operations/errors.js';
import {
  abortRollout,
  approveRollout,
  pauseRollout,
  resumeRollout,
  retryRollout,
} from '../../src/operations/rollout-actions.js';
import { serverFixture } from '../support/apiserver.js';

/**
 * The rollout actions against the local API server, without a controller: each test writes the
 * status a controller would have written, runs an action and reads back what it changed.
 */
describe('rollout actions', () => {
  const { server } = serverFixture('pglite');
  let port: KubePort | undefined;
  const kube = () => {
    port ??= createKubePort(loadKubeConfig(tokenConnection(server())));
    return port;
  };
  let counter = 0;

  async function rollout(
    spec: Partial<ImageRolloutSpec> = {},
    status?: ImageRolloutStatus,
  ): Promise<{ namespace: string; name: string }> {
    const name = `r${++counter}`;
    const created = await kube().imageRollouts.create({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImageRollout',
      metadata: { name, namespace: 'default' },
      spec: {
        policyRef: { name: 'web' },
        image: 'ghcr.io/acme/web',
        tag: '1.2.3',
        selector: { fleets: ['edge'] },
        strategy: { type: 'Manual', batches: [10, 50, 100] },
        ...spec,
      },
    });
    if (status) await kube().imageRollouts.replaceStatus({ ...created, status });
    return { namespace: 'default', name };
  }

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('the action did not refuse');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(OperationError);
        const { reason, status, message } = error as OperationError;
        return { reason, status, message };
      },
    );

  const waiting: ImageRolloutStatus = {
    phase: 'WaitingForApproval',
    currentBatch: 1,
    totalBatches: 3,
  };

  it('approve: the next batch, then --all, then nothing is left', async () => {
    const ref = await rollout({ approvedBatches: 1 }, waiting);
    expect((await approveRollout(kube(), ref)).spec.approvedBatches).toBe(2);
    // Batch 2 approved but not started: the next approval is batch 3.
    expect((await approveRollout(kube(), ref)).spec.approvedBatches).toBe(3);
    expect(await refusal(approveRollout(kube(), ref))).toEqual({
      reason: 'NothingToApprove',
      status: 409,
      message: 'ImageRollout default/r1: every batch (3) is approved already',
    });
    const all = await rollout(
      {},
      { phase: 'WaitingForApproval', currentBatch: 0, totalBatches: 2 },
    );
    expect((await approveRollout(kube(), all, { all: true })).spec.approvedBatches).toBe(2);
  });

  it('approve before the first status approves batch 1 of the strategy', async () => {
    const ref = await rollout();
    expect((await approveRollout(kube(), ref, { all: true })).spec.approvedBatches).toBe(3);
  });

  it('approve refuses AllAtOnce, a finished rollout and an unknown one', async () => {
    const once = await rollout({ strategy: { type: 'AllAtOnce' } });
    expect((await refusal(approveRollout(kube(), once))).reason).toBe('NothingToApprove');
    const done = await rollout({}, { phase: 'Succeeded', currentBatch: 3, totalBatches: 3 });
    expect(await refusal(approveRollout(kube(), done))).toMatchObject({
      reason: 'AlreadyTerminal',
      message: `ImageRollout default/${done.name} is Succeeded: cannot approve`,
    });
    expect(await refusal(approveRollout(kube(), { namespace: 'default', name: 'nope' }))).toEqual({
      reason: 'NotFound',
      status: 404,
      message: 'ImageRollout default/nope not found',
    });
  });

  it('pause and resume set and clear spec.paused, and repeat harmlessly', async () => {
    const ref = await rollout({}, waiting);
    const paused = await pauseRollout(kube(), ref);
    expect(paused.spec.paused).toBe(true);
    const again = await pauseRollout(kube(), ref);
    expect(again.metadata.resourceVersion).toBe(paused.metadata.resourceVersion);
    expect((await resumeRollout(kube(), ref)).spec.paused).toBe(false);
    const generation = (await kube().imageRollouts.get('default', ref.name))?.metadata.generation;
    const resumed = await resumeRollout(kube(), ref);
    expect(resumed.metadata.generation).toBe(generation);
  });

  it('abort sets spec.abort once; actions after it are refused', async () => {
    const ref = await rollout({}, waiting);
    expect((await abortRollout(kube(), ref)).spec.abort).toBe(true);
    expect((await abortRollout(kube(), ref)).spec.abort).toBe(true);
    expect(await refusal(pauseRollout(kube(), ref))).toMatchObject({
      reason: 'AlreadyTerminal',
      message: `ImageRollout default/${ref.name} was aborted and is rolling back: cannot pause`,
    });
    const done = await rollout({}, { phase: 'RolledBack' });
    expect((await refusal(abortRollout(kube(), done))).reason).toBe('AlreadyTerminal');
  });

  const budgetPaused = (batch: number): ImageRolloutStatus => ({
    phase: 'Paused',
    currentBatch: batch,
    totalBatches: 3,
    conditions: [
      {
        type: 'Progressing',
        status: 'False',
        reason: 'FailureBudgetExceeded',
        message: 'Paused, batch 2: 3 failed',
        lastTransitionTime: '2026-01-01T00:00:00Z',
        observedGeneration: 1,
      },
    ],
  });

  it('retry accepts the failures of the started batches; resume points to it', async () => {
    const ref = await rollout({ approvedBatches: 2 }, budgetPaused(2));
    expect(await refusal(resumeRollout(kube(), ref))).toMatchObject({
      reason: 'NotPausedByUser',
      status: 409,
    });
    const retried: ImageRollout = await retryRollout(kube(), ref);
    expect(retried.spec.acceptedFailureBatches).toBe(2);
    expect(retried.metadata.generation).toBe(2);
  });

  it('retry refuses a rollout its budget did not pause', async () => {
    const ref = await rollout({}, waiting);
    expect(await refusal(retryRollout(kube(), ref))).toEqual({
      reason: 'NothingToRetry',
      status: 409,
      message: `ImageRollout default/${ref.name} is not paused by its failure budget (phase WaitingForApproval): nothing to retry`,
    });
  });

  it('a change the API server rejects is an Invalid refusal', async () => {
    // A status written by hand that claims more batches than the strategy has: the server's
    // rule (approvedBatches may not exceed the number of batches) rejects the approval.
    const ref = await rollout(
      { strategy: { type: 'Manual', batches: [50, 100] } },
      { phase: 'WaitingForApproval', currentBatch: 1, totalBatches: 3 },
    );
    expect(await refusal(approveRollout(kube(), ref, { all: true }))).toMatchObject({
      reason: 'Invalid',
      status: 422,
    });
  });
});
