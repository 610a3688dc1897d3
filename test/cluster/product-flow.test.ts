import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { startRegistry, type TestRegistry } from '../support/distribution-registry.js';
import { eventually } from '../support/eventually.js';
import { startHttpReceivers } from '../support/notification-receivers.js';
import { writeOciLayout } from '../support/oci-layout.js';
import { adminKubectl, controlPlane } from './cluster.js';
import { auditedUsage, deployedGrants, privilegeFindings, verbTable } from './least-privilege.js';
import {
  DISTRIBUTION_SECRET,
  deployProduct,
  type ProductDeployment,
} from './product-deployment.js';
import { PRODUCT_NAMESPACE, serviceAccountUser } from './product-processes.js';

/*
 * The whole product against a real kube-apiserver, run as deploy/ runs it but out of cluster:
 * the webhook receiver and two controllers authenticate with their ServiceAccounts' tokens.
 * The tests run in order; the last one judges the audit log of everything before it.
 */

// biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON output
const kubectlJson = async (args: string[]): Promise<any> =>
  JSON.parse((await adminKubectl([...args, '--output', 'json'])).stdout);
const apply = (object: object) => adminKubectl(['apply', '-f', '-'], JSON.stringify(object));
const rolloutIn = (namespace: string, name: string): Promise<ImageRollout> =>
  kubectlJson(['get', 'imagerollout', name, '--namespace', namespace]);

function policy(namespace: string, name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImagePolicy',
    metadata: { name, namespace },
    spec: {
      health: { soakTime: '0s', offlineAfter: '30s', progressDeadline: '2m' },
      ...spec,
    },
  };
}

function rollout(namespace: string, name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImageRollout',
    metadata: { name, namespace },
    spec,
  };
}

/** Waits with `kubectl wait` (at most 110 s, under adminKubectl's own limit) for `condition`. */
async function kubectlWait(namespace: string, name: string, condition: string) {
  const { stdout } = await adminKubectl([
    ...['wait', `--for=${condition}`, `imagerollout/${name}`],
    ...['--namespace', namespace, '--timeout=110s'],
  ]);
  expect(stdout).toContain('condition met');
}

/** Each device's running images (one service per device here), by image. */
function runningImages(simulator: Simulator): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const device of simulator.devices()) {
    for (const service of Object.values(device.services)) {
      const key = `${service.image} ${service.status}/${service.health}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

const NAMESPACES = ['flow-push', 'flow-pause', 'flow-freeze', 'flow-rollback', 'flow-failover'];

describe('the product on a real control plane, with the RBAC of deploy/', () => {
  let product: ProductDeployment;
  let registry: TestRegistry;
  let layout: string;
  const pushed = { namespace: 'flow-push', name: '' };

  beforeAll(async () => {
    product = await deployProduct();
    registry = await startRegistry({
      notifyUrl: `${product.webhooks.url}/api/v1/webhooks/distribution`,
      authorization: `Bearer ${DISTRIBUTION_SECRET}`,
    });
    layout = mkdtempSync(join(tmpdir(), 'fleet-rollout-flow-oci-'));
    for (const namespace of NAMESPACES) await adminKubectl(['create', 'namespace', namespace]);
    await eventually(
      async () =>
        expect(product.controllers.map((c) => c.name)).toContain(await product.leaseHolder()),
      30_000,
    );
  }, 240_000);

  afterAll(async () => {
    // Deleted while a controller runs, so it removes its finalizers from the rollouts.
    await adminKubectl(['delete', 'namespace', ...NAMESPACES, '--timeout=60s']).catch(() => {});
    await registry?.stop();
    await product?.stop();
    if (layout) rmSync(layout, { recursive: true, force: true });
  }, 120_000);

  it('turns a registry push into a rollout that updates 300 devices batch by batch to Succeeded', {
    timeout: 240_000,
  }, async () => {
    const { namespace } = pushed;
    const image = `${registry.host}/acme/app`;
    await apply(
      policy(namespace, 'app', {
        image,
        selector: { fleets: ['flow-push'] },
        strategy: { type: 'Staged', batches: [10, 50, 100], interval: '0s' },
        failurePolicy: { maxFailurePercent: 10, minSample: 3, action: 'Pause' },
      }),
    );
    const simulator = await product.simulate({
      register: {
        count: 300,
        fleet: 'flow-push',
        apps: { edge: { services: { app: { image: `${image}:v1` } } } },
      },
    });
    const digest = writeOciLayout(layout, 'v2', 'version 2 of the product flow');
    await registry.push(layout, 'v2', 'acme/app', 'v2');
    pushed.name = await eventually(async () => {
      const { items } = await kubectlJson(['get', 'imagerollouts', '--namespace', namespace]);
      expect(items).toHaveLength(1);
      return items[0].metadata.name as string;
    }, 30_000);
    await kubectlWait(namespace, pushed.name, 'condition=Ready');
    const done = await rolloutIn(namespace, pushed.name);
    expect(done.spec).toMatchObject({ image, tag: 'v2', digest });
    expect(done.metadata.labels).toMatchObject({ 'fleet.iotistic.io/source': 'distribution' });
    expect(done.status).toMatchObject({
      phase: 'Succeeded',
      devices: 300,
      healthy: 300,
      failed: 0,
    });
    expect(
      done.status?.batches?.map((batch) => [batch.percent, batch.devices, batch.healthy]),
    ).toEqual([
      [10, 30, 30],
      [50, 120, 120],
      [100, 150, 150],
    ]);
    expect(runningImages(simulator)).toEqual({ [`${image}:v2@${digest} running/healthy`]: 300 });
  });

  it("records the rollout's Events through events.k8s.io, as kubectl events shows them", async () => {
    const { namespace, name } = pushed;
    const { stdout: table } = await adminKubectl([
      'events',
      '--namespace',
      namespace,
      '--for',
      `imagerollout/${name}`,
    ]);
    for (const reason of ['RolloutStarted', 'BatchStarted', 'BatchCompleted', 'RolloutSucceeded']) {
      expect(table).toContain(reason);
    }
    const { items } = await kubectlJson([
      'events',
      '--namespace',
      namespace,
      '--for',
      `imagerollout/${name}`,
    ]);
    const byReason = Object.fromEntries(
      // biome-ignore lint/suspicious/noExplicitAny: core/v1 Events as kubectl prints them
      items.map((event: any) => [event.reason, event]),
    );
    // Three batches started: three Events, one per batch, each with its own note.
    const started = items
      // biome-ignore lint/suspicious/noExplicitAny: core/v1 Events as kubectl prints them
      .filter((event: any) => event.reason === 'BatchStarted')
      // biome-ignore lint/suspicious/noExplicitAny: core/v1 Events as kubectl prints them
      .map((event: any) => event.message.match(/^Batch \d\/3/)?.[0])
      .sort();
    expect(started).toEqual(['Batch 1/3', 'Batch 2/3', 'Batch 3/3']);
    expect(byReason.BatchStarted).toMatchObject({
      involvedObject: { kind: 'ImageRollout', name },
      reportingComponent: 'fleet.iotistic.io/controller',
    });
    expect(product.controllers.map((c) => c.name)).toContain(
      byReason.RolloutSucceeded.reportingInstance,
    );
  });

  it('counts a repeated Event in its series: paused, resumed and paused again is one RolloutPaused x2', async () => {
    const namespace = 'flow-pause';
    await apply(
      policy(namespace, 'gate', {
        image: 'ghcr.io/acme/gate',
        selector: { fleets: ['flow-pause'] },
        strategy: { type: 'Manual', batches: [50, 100] },
      }),
    );
    await product.simulate({
      register: {
        count: 4,
        fleet: 'flow-pause',
        apps: { edge: { services: { gate: { image: 'ghcr.io/acme/gate:1' } } } },
      },
    });
    const spec = { policyRef: { name: 'gate' }, image: 'ghcr.io/acme/gate', tag: '2' };
    await apply(rollout(namespace, 'gate-2', spec));
    const phase = (wanted: string) =>
      eventually(async () => {
        expect((await rolloutIn(namespace, 'gate-2')).status?.phase).toBe(wanted);
      }, 60_000);
    const paused = (value: boolean) =>
      adminKubectl([
        ...['patch', 'imagerollout', 'gate-2', '--namespace', namespace],
        ...['--type', 'merge', '--patch', JSON.stringify({ spec: { paused: value } })],
      ]);
    await phase('WaitingForApproval');
    await paused(true);
    await phase('Paused');
    await paused(false);
    await phase('WaitingForApproval');
    await paused(true);
    await eventually(async () => {
      const { items } = await kubectlJson([
        ...['events', '--namespace', namespace, '--for', 'imagerollout/gate-2'],
      ]);
      // biome-ignore lint/suspicious/noExplicitAny: core/v1 Events as kubectl prints them
      const pauses = items.filter((event: any) => event.reason === 'RolloutPaused');
      expect(pauses).toHaveLength(1);
      expect(pauses[0]).toMatchObject({
        message: 'Paused by spec.paused after batch 0',
        series: { count: 2 },
      });
    }, 60_000);
  });

  it('stops the line with a FleetFreeze: the rollout waits Frozen, the freeze counts it, deleting it lets the rollout finish', async () => {
    const namespace = 'flow-freeze';
    await apply(
      policy(namespace, 'valve', {
        image: 'ghcr.io/acme/valve',
        selector: { fleets: ['flow-freeze'] },
        strategy: { type: 'Staged', batches: [50, 100], interval: '0s' },
      }),
    );
    await product.simulate({
      register: {
        count: 2,
        fleet: 'flow-freeze',
        apps: { edge: { services: { valve: { image: 'ghcr.io/acme/valve:1' } } } },
      },
    });
    await apply({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'FleetFreeze',
      metadata: { name: 'incident', namespace },
      spec: { reason: 'INC-7' },
    });
    const spec = { policyRef: { name: 'valve' }, image: 'ghcr.io/acme/valve', tag: '2' };
    await apply(rollout(namespace, 'valve-2', spec));
    await eventually(async () => {
      const held = await rolloutIn(namespace, 'valve-2');
      expect(held.status?.phase).toBe('Frozen');
      expect(held.status?.currentBatch).toBe(0);
    }, 60_000);
    await eventually(async () => {
      const freeze = await kubectlJson([
        'get',
        'fleetfreeze',
        'incident',
        '--namespace',
        namespace,
      ]);
      expect(freeze.status).toMatchObject({ heldCount: 1, heldRollouts: ['valve-2'] });
    }, 60_000);
    await adminKubectl(['delete', 'fleetfreeze', 'incident', '--namespace', namespace]);
    await kubectlWait(namespace, 'valve-2', 'condition=Ready');
  });

  it('rolls an image that fails on half the devices back: RolledBack, each device on its previous image', {
    timeout: 180_000,
  }, async () => {
    const namespace = 'flow-rollback';
    const image = 'ghcr.io/acme/sensor';
    await apply(
      policy(namespace, 'sensor', {
        image,
        selector: { fleets: ['flow-rollback'] },
        strategy: { type: 'Staged', batches: [25, 100], interval: '0s' },
        failurePolicy: { maxFailurePercent: 10, minSample: 3, action: 'Rollback' },
      }),
    );
    // The operator subscribes a signed webhook to the rollback (a Secret by reference).
    const receiver = await startHttpReceivers('flow-signing-key');
    await apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hook', namespace },
      stringData: { secret: 'flow-signing-key' },
    });
    await apply({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'NotificationChannel',
      metadata: { name: 'ops', namespace },
      spec: {
        type: 'Webhook',
        events: ['RollingBack', 'RolledBack'],
        webhook: { url: `${receiver.url}/hook`, signingSecretRef: { name: 'hook' } },
      },
    });
    const simulator = await product.simulate({
      register: {
        count: 40,
        fleet: 'flow-rollback',
        apps: { edge: { services: { sensor: { image: `${image}:1.0` } } } },
      },
      failureRate: 0.5,
      failingImages: ['*:2.0'],
    });
    await apply(
      rollout(namespace, 'sensor-2-0', { policyRef: { name: 'sensor' }, image, tag: '2.0' }),
    );
    await kubectlWait(namespace, 'sensor-2-0', 'jsonpath={.status.phase}=RolledBack');
    const { status } = await rolloutIn(namespace, 'sensor-2-0');
    // The failure budget tripped (in batch 1 of 10 devices, barring a lucky draw) and every
    // device of the started batches was restored.
    const rollback = status?.rollback;
    expect(rollback).toMatchObject({
      reason: 'FailureBudgetExceeded',
      restored: rollback?.devices,
    });
    expect(rollback?.devices).toBeGreaterThanOrEqual(10);
    expect(status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Degraded', status: 'True' }),
    );
    // Every device runs 1.0 again, healthy: the failing ones and those that never got 2.0.
    expect(runningImages(simulator)).toEqual({ [`${image}:1.0 running/healthy`]: 40 });
    // The channel was told both transitions, signed, and shows it delivers.
    await eventually(() => {
      const types = receiver.accepted('/hook').map((r) => [r.body.type, r.signed]);
      expect(types.sort()).toEqual([
        ['io.iotistic.fleet.rollout.rolled_back', true],
        ['io.iotistic.fleet.rollout.rolling_back', true],
      ]);
    }, 30_000);
    const channel = await kubectlJson([
      'get',
      'notificationchannel',
      'ops',
      '--namespace',
      namespace,
    ]);
    expect(channel.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'True' }),
    );
    await receiver.close();
  });

  it('a standby controller takes the Lease when the leader is killed, and finishes the rollout', {
    timeout: 180_000,
  }, async () => {
    const namespace = 'flow-failover';
    const image = 'ghcr.io/acme/gateway';
    await apply(
      policy(namespace, 'gateway', {
        image,
        selector: { fleets: ['flow-failover'] },
        strategy: { type: 'Manual', batches: [50, 100], interval: '0s' },
      }),
    );
    const simulator = await product.simulate({
      register: {
        count: 30,
        fleet: 'flow-failover',
        apps: { edge: { services: { gateway: { image: `${image}:3.0` } } } },
      },
    });
    await apply(
      rollout(namespace, 'gateway-3-1', {
        policyRef: { name: 'gateway' },
        image,
        tag: '3.1',
        approvedBatches: 1,
      }),
    );
    await eventually(async () => {
      const { status } = await rolloutIn(namespace, 'gateway-3-1');
      expect(status).toMatchObject({ phase: 'WaitingForApproval', currentBatch: 1, healthy: 15 });
    }, 60_000);
    // Kill -9 the replica holding the Lease: it cannot release it; the standby must wait it out.
    const holder = await product.leaseHolder();
    const killed = product.controllers.find((controller) => controller.name === holder);
    const standby = product.controllers.find((controller) => controller.name !== holder);
    expect(killed?.name).toBe(holder);
    await killed!.kill();
    await eventually(async () => expect(await product.leaseHolder()).toBe(standby!.name), 30_000);
    const approve = ['patch', 'imagerollout', 'gateway-3-1', '--namespace', namespace];
    await adminKubectl([...approve, '--type=merge', '--patch={"spec":{"approvedBatches":2}}']);
    await kubectlWait(namespace, 'gateway-3-1', 'condition=Ready');
    expect((await rolloutIn(namespace, 'gateway-3-1')).status).toMatchObject({
      phase: 'Succeeded',
      healthy: 30,
    });
    expect(runningImages(simulator)).toEqual({ [`${image}:3.1 running/healthy`]: 30 });
  });

  it.each(['fleet-rollout-controller', 'fleet-rollout-webhooks', 'fleet-rollout-device-api'])(
    'ServiceAccount %s used exactly what deploy/ grants it, and was never refused',
    async (account) => {
      const user = serviceAccountUser(account);
      const { usage, nonResource } = await auditedUsage(controlPlane().auditLog, user);
      const grants = await deployedGrants(PRODUCT_NAMESPACE, account);
      console.log(verbTable(user, usage, grants));
      expect(privilegeFindings(usage, grants, nonResource)).toEqual({
        forbidden: [],
        notGranted: [],
        unused: [],
        outOfScope: [],
        nonResource: [],
      });
    },
  );
});
