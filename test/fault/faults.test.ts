import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { eventually } from '../support/eventually.js';
import { httpsRequest } from '../support/https-request.js';
import { deployForFaults, type FaultDeployment, ROLE_NAMES, type RoleName } from './deployment.js';
import { Monitor } from './monitor.js';

/*
 * The fault suite: a split deployment (API server, two controllers, two device-API replicas behind
 * a gateway, the webhook receiver) on a Postgres of the test's own, 200 simulated devices polling
 * and reporting, and one staged rollout per fault, hit in its second batch. Each fault is judged
 * by what an operator and the devices saw; the numbers are printed at the end (docs/fault-suite.md).
 */

const DEVICES = 200;
const IMAGE = 'ghcr.io/acme/app';
/** Postgres is down this long in the stop fault, as the issue's operator tried it. */
const OUTAGE_MS = 30_000;

const digestOf = (tag: string) => `sha256:${createHash('sha256').update(tag).digest('hex')}`;

/** What a fault did, and when it ended (the moment recovery is measured from). */
interface Injected {
  endedAt: number;
  /** When the roles that were killed or restarted were serving again. */
  readyAt?: number;
  /** A leader other than this one must take over (the killed leader). */
  newLeader?: string;
  /** An answer the webhook receiver gave a registry's retry during the fault (a 503 if any). */
  webhookRetry?: { status: number; retryAfter: string | undefined };
  /** How many redeliveries it answered during the fault. */
  webhookAnswers?: number;
}

/** One line of the printed table. */
interface Measured {
  fault: string;
  recovery: Record<string, number | undefined>;
  reports: { sent: number; acked: number; stored: number };
  outageAnswers: Record<string, number>;
  webhookRetry?: string;
}

const results: Measured[] = [];

describe('a split deployment under faults, mid-batch of a running rollout', () => {
  let deployment: FaultDeployment;
  let simulator: Simulator;
  let monitor: Monitor;
  let rolloutPath: string | undefined;
  let version = 0;

  beforeAll(async () => {
    deployment = await deployForFaults();
    const created = await httpsRequest(
      deployment.kube,
      'POST',
      '/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagepolicies',
      {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'fleet.iotistic.io/v1alpha1',
          kind: 'ImagePolicy',
          metadata: { name: 'app' },
          spec: {
            image: IMAGE,
            selector: { fleets: ['fault'] },
            strategy: { type: 'Staged', batches: [10, 50, 100], interval: '0s' },
            // offline after 30 s (the least allowed), no more than the outage: ours must not count as theirs
            health: { soakTime: '1s', offlineAfter: '30s', progressDeadline: '3m' },
            failurePolicy: { maxFailurePercent: 10, minSample: 3, action: 'Pause' },
          },
        }),
      },
    );
    expect(created.status, created.text).toBe(201);
    simulator = await deployment.simulate(DEVICES, `${IMAGE}:v0`);
    await eventually(
      () =>
        expect(simulator.devices().filter((device) => device.reports > 0)).toHaveLength(DEVICES),
      120_000,
    );
    monitor = new Monitor(deployment.get, () => rolloutPath);
    monitor.start();
  }, 300_000);

  afterAll(async () => {
    monitor?.stop();
    await deployment?.stop();
    if (results.length > 0) console.log(table(results));
  }, 120_000);

  /** Runs one fault in the second batch of a new rollout and checks everything afterwards. */
  async function underFault(name: string, inject: () => Promise<Injected>): Promise<void> {
    const tag = `v${++version}`;
    const digest = digestOf(tag);
    // stored first, then acknowledged (and at the end the other way round): reports in flight
    // at either edge cannot make the window's acknowledged count exceed its stored count
    const storedBefore = sum(await deployment.storedReports());
    const before = totals();
    const oddBefore = deployment.gateway.odd.length;

    const pushed = await deployment.push(tag, digest);
    expect(pushed.status).toBe(200);
    const rollout = await eventually(async () => {
      const found = (await deployment.rollouts()).filter((r) => r.spec.tag === tag);
      expect(found).toHaveLength(1);
      return found[0] as ImageRollout;
    }, 30_000);
    rolloutPath = `/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagerollouts/${rollout.metadata.name}`;
    await eventually(async () => {
      const status = (await deployment.get<ImageRollout>(rolloutPath as string))?.status;
      expect(status?.phase).toBe('Progressing');
      expect(status?.currentBatch).toBeGreaterThanOrEqual(2);
    }, 120_000);

    const faultAt = Date.now();
    const injected = await inject();
    const done = await eventually(async () => {
      const current = await deployment.get<ImageRollout>(rolloutPath as string);
      expect(current?.status?.phase).toBe('Succeeded');
      return current as ImageRollout;
    }, 300_000);

    // No process ended but those the fault killed.
    expect(
      deployment.started
        .filter((role) => role.exitedOnItsOwn())
        .map((role) => `${role.name}: ${JSON.stringify(role.exit())} ${role.stderr()}`),
    ).toEqual([]);

    // Recovery, measured from the end of the fault.
    const { endedAt } = injected;
    const servingAt = deployment.gateway.acks.find((at) => at >= endedAt);
    const recovery = {
      ...(injected.readyAt === undefined ? {} : { restarted: injected.readyAt - endedAt }),
      serving: servingAt === undefined ? undefined : servingAt - endedAt,
      leading: since(monitor.leadingAfter(endedAt, injected.newLeader), endedAt),
      progressing: since(monitor.progressingAfter(endedAt), endedAt),
    };
    expect(recovery.leading).toBeDefined();
    expect(recovery.progressing).toBeDefined();

    // Answers during the outage: only 503 with Retry-After from the product, never a 500: 5 s
    // while the database is away, 5–10 s while a replica sheds load (its event loop runs late,
    // as a restarted replica's does while it loads its cache on a busy machine).
    const odd = deployment.gateway.odd.slice(oddBefore);
    const fromProduct = odd.filter((answer) => answer.source === 'backend');
    expect(fromProduct.filter((a) => a.status !== 503 || !isRetryAfter(a.retryAfter))).toEqual([]);
    const outageAnswers: Record<string, number> = {};
    for (const answer of odd) {
      const retryAfter = answer.retryAfter === '5' ? '5' : answer.retryAfter && '6–10';
      const key = `${answer.status}${retryAfter ? ` Retry-After ${retryAfter}` : ''} (${answer.source === 'gateway' ? 'no replica' : answer.kind})`;
      outageAnswers[key] = (outageAnswers[key] ?? 0) + 1;
    }

    // Once the devices' state settled: no acknowledged report lost.
    await simulatorSettled(tag, digest);
    const acked = deployment.gateway.reportCounts();
    const stored = await deployment.storedReports();
    const attempts = deployment.gateway.reportCounts();
    const lost = [...acked].filter(([uuid, counts]) => (stored.get(uuid) ?? 0) < counts.acked);
    expect(lost).toEqual([]);
    const phantom = [...stored].filter(([uuid, n]) => n > (attempts.get(uuid)?.attempts ?? 0));
    expect(phantom).toEqual([]);
    const after = totals(acked);
    const storedAfter = sum(stored);

    // The end state, device by device.
    expect(done.status).toMatchObject({ devices: DEVICES, healthy: DEVICES, failed: 0 });
    expect(done.status?.batches?.map((batch) => batch.offline)).toEqual([0, 0, 0]);
    const spoiled = monitor.samples.filter(
      (s) => s.at >= faultAt && ((s.status?.failed ?? 0) > 0 || offline(s.status) > 0),
    );
    expect(spoiled.map((s) => s.status?.message)).toEqual([]);
    const running = `${IMAGE}:${tag}@${digest}`;
    const wrong = simulator
      .devices()
      .filter((d) =>
        Object.values(d.services).some((s) => s.image !== running || s.health !== 'healthy'),
      );
    expect(wrong.map((d) => d.uuid)).toEqual([]);
    const twice = [...deployment.gateway.targetsReceived()]
      .map(
        ([uuid, targets]) =>
          [
            uuid,
            [...targets.values()].filter((images) => images.includes(running)).length,
          ] as const,
      )
      .filter(([, count]) => count !== 1);
    expect(twice).toEqual([]);
    expect(deployment.gateway.targetsReceived().size).toBe(DEVICES);
    const [storedImages] = await deployment.query<{ devices: number }>(
      `select count(*)::int as devices from device_reports where apps::text like $1`,
      [`%${running}%`],
    );
    expect(storedImages?.devices).toBe(DEVICES);
    expect((await deployment.rollouts()).filter((r) => r.spec.tag === tag)).toHaveLength(1);
    expect(await deployment.rollouts()).toHaveLength(version);

    results.push({
      fault: name,
      recovery,
      reports: {
        sent: after.sent - before.sent,
        acked: after.acked - before.acked,
        stored: storedAfter - storedBefore,
      },
      outageAnswers,
      ...(injected.webhookRetry
        ? {
            webhookRetry: `${injected.webhookAnswers ?? 1} redelivered, e.g. ${injected.webhookRetry.status} Retry-After ${injected.webhookRetry.retryAfter ?? '–'}`,
          }
        : {}),
    });
    console.log(JSON.stringify(results.at(-1)));
  }

  /** Waits until every device runs the new image healthy and has reported it since. */
  async function simulatorSettled(tag: string, digest: string): Promise<void> {
    const running = `${IMAGE}:${tag}@${digest}`;
    await eventually(async () => {
      const [row] = await deployment.query<{ devices: number }>(
        `select count(*)::int as devices from device_reports where apps::text like $1 and apps::text like '%healthy%'`,
        [`%${running}%`],
      );
      expect(row?.devices).toBe(DEVICES);
    }, 60_000);
  }

  function totals(counted = deployment.gateway.reportCounts()) {
    let sent = 0;
    let acked = 0;
    for (const counts of counted.values()) {
      sent += counts.sent;
      acked += counts.acked;
    }
    return { sent, acked };
  }

  it('Postgres restarted (pg_ctl restart -m fast)', { timeout: 600_000 }, async () => {
    await underFault('Postgres restart -m fast', async () => {
      // The receiver busy with a registry's redeliveries while Postgres restarts under it.
      let restarting = true;
      const answers: Array<{ status: number; retryAfter: string | undefined }> = [];
      const redeliver = async () => {
        while (restarting)
          answers.push(await deployment.push(`v${version}`, digestOf(`v${version}`)));
      };
      const senders = Array.from({ length: 4 }, redeliver);
      await deployment.postgres.restart();
      restarting = false;
      await Promise.all(senders);
      const refused = answers.filter((a) => a.status !== 200);
      expect(refused.filter((a) => a.status !== 503 || a.retryAfter !== '5')).toEqual([]);
      return {
        endedAt: Date.now(),
        webhookRetry: refused[0] ?? answers[0],
        webhookAnswers: answers.length,
      };
    });
  });

  it(`Postgres stopped for ${OUTAGE_MS / 1000} s, then started`, { timeout: 600_000 }, async () => {
    await underFault(`Postgres stopped ${OUTAGE_MS / 1000} s`, async () => {
      const stoppedAt = Date.now();
      await deployment.postgres.stop();
      // A registry retrying the delivery meanwhile is told to come back later.
      const webhookRetry = await deployment.push(`v${version}`, digestOf(`v${version}`));
      expect(webhookRetry).toEqual({ status: 503, retryAfter: '5' });
      for (const name of ['device-api-1', 'device-api-2'] as const) {
        const ready = await fetch(`${deployment.roles.get(name)?.url}/readyz`);
        expect(ready.status).toBe(503);
      }
      await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
      await deployment.postgres.start();
      return { endedAt: Date.now(), webhookRetry };
    });
  });

  it('the leading controller killed (-9); the standby takes over', {
    timeout: 600_000,
  }, async () => {
    await underFault('kill -9 of the leader', async () => {
      const holder = monitor.samples.findLast((s) => s.holder)?.holder as RoleName;
      expect(holder).toMatch(/^controller-/);
      const standby = holder === 'controller-a' ? 'controller-b' : 'controller-a';
      await deployment.kill(holder);
      const endedAt = Date.now();
      // Back as a standby once the other leads (with its old identity it would still hold the lease).
      await eventually(() => expect(monitor.leadingAfter(endedAt, standby)).toBeDefined(), 60_000);
      await deployment.restart(holder);
      return { endedAt, newLeader: standby };
    });
  });

  it('a device-API replica killed (-9), then restarted', { timeout: 600_000 }, async () => {
    await underFault('kill -9 of a device-API replica', async () => {
      await deployment.kill('device-api-1');
      const endedAt = Date.now();
      await deployment.restart('device-api-1');
      return { endedAt, readyAt: Date.now() };
    });
  });

  it('the API server killed (-9), then restarted', { timeout: 600_000 }, async () => {
    await underFault('kill -9 of the API server', async () => {
      await deployment.kill('apiserver');
      const endedAt = Date.now();
      await deployment.restart('apiserver');
      return { endedAt, readyAt: Date.now() };
    });
  });

  it('every process killed (-9) at once, then all restarted', { timeout: 600_000 }, async () => {
    await underFault('kill -9 of every process', async () => {
      await Promise.all(ROLE_NAMES.map((name) => deployment.kill(name)));
      const endedAt = Date.now();
      await Promise.all(ROLE_NAMES.map((name) => deployment.spawn(name).ready));
      return { endedAt, readyAt: Date.now() };
    });
  });
});

function since(at: number | undefined, from: number): number | undefined {
  return at === undefined ? undefined : at - from;
}

function sum(counts: Map<string, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}

function offline(status: ImageRollout['status']): number {
  return (status?.batches ?? []).reduce((total, batch) => total + (batch.offline ?? 0), 0);
}

/** The results as the table docs/fault-suite.md shows. */
function table(rows: Measured[]): string {
  const seconds = (ms: number | undefined) =>
    ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`;
  const lines = rows.map((row) => {
    const recovery = Object.entries(row.recovery)
      .map(([what, ms]) => `${what} ${seconds(ms)}`)
      .join(', ');
    const answers = Object.entries(row.outageAnswers)
      .map(([status, n]) => `${n}× ${status}`)
      .join(', ');
    const { sent, acked, stored } = row.reports;
    const webhook = row.webhookRetry ? `; webhooks: ${row.webhookRetry}` : '';
    return `| ${row.fault} | ${recovery} | ${sent} / ${acked} / ${stored} | ${answers || 'none'}${webhook} |`;
  });
  return [
    '| fault | recovery after the fault ended | reports sent / acknowledged / stored | answers other than 2xx/304 |',
    '|---|---|---|---|',
    ...lines,
  ].join('\n');
}

/** A Retry-After the product sends: 5 s (database unavailable) or 5–10 s (load shed). */
function isRetryAfter(value: string | undefined): boolean {
  const seconds = Number(value);
  return Number.isInteger(seconds) && seconds >= 5 && seconds <= 10;
}
