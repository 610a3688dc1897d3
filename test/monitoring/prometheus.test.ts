import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import { createDatabase, dropDatabase } from '../../src/db/databases.js';
import { createKubePort, loadKubeConfig } from '../../src/kube/client-node.js';
import type { KubePort } from '../../src/kube/port.js';
import { type Simulator, startSimulator } from '../../src/simulator/simulator.js';
import { documentedMetrics, metricNamesIn } from '../support/metrics-doc.js';
import {
  dashboardExpressions,
  type Json,
  loadDashboard,
  loadRules,
  RULES_FILE,
} from '../support/monitoring.js';

// A real Prometheus (Debian's package, installed by scripts/test-setup.sh) scrapes a running
// `fleet-rollout start` every second, with the shipped rules file, while 20 simulated devices
// take a rollout whose image fails on half of them: the failure budget trips, the alert fires,
// and every dashboard panel and every alert evaluates without error and returns data.

const ADMIN_TOKEN = randomBytes(24).toString('hex');
const WEBHOOK_SECRET = randomBytes(24).toString('hex');
const FLEET = 'prom';
const ROLLOUT_IMAGE = 'docker.io/library/nginx';

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** Starts a child process whose output is kept for the failure message. */
function run(command: string, args: string[], env: Record<string, string>) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  });
  return { child, output: () => output };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Substitutes the dashboard's variables as Grafana would with "All" selected. */
function asGrafanaSends(expression: string): string {
  return expression
    .replaceAll('$__rate_interval', '15s')
    .replace(/\$(namespace|rollout|fleet|job)\b/g, '.*');
}

describe('monitoring against a real Prometheus', () => {
  let dir: string;
  let product: ReturnType<typeof run> | undefined;
  let prometheus: ReturnType<typeof run> | undefined;
  let simulator: Simulator | undefined;
  let database: { url: string; name: string } | undefined;
  let kube: KubePort;
  let httpUrl: string;
  let metricsUrl: string;
  let prometheusUrl: string;

  /** One PromQL query through the HTTP API; throws with Prometheus's error. */
  async function query(expression: string): Promise<Json[]> {
    const url = `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expression)}`;
    const body = (await (await fetch(url)).json()) as Json;
    if (body.status !== 'success') throw new Error(`${expression}: ${body.error}`);
    return body.data.result;
  }

  async function alerts(): Promise<Json[]> {
    const body = (await (await fetch(`${prometheusUrl}/api/v1/alerts`)).json()) as Json;
    return body.data.alerts;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prometheus-'));
    const [httpPort, metricsPort, apiserverPort, prometheusPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    httpUrl = `http://127.0.0.1:${httpPort}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    // A Postgres database of its own when the suite has a server (it starts faster), else PGlite.
    const serverUrl = process.env.TEST_DATABASE_URL;
    if (serverUrl) {
      const name = `fleet_rollout_prom_${randomBytes(6).toString('hex')}`;
      database = { name, url: await createDatabase(serverUrl, name) };
    }
    product = run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
      PATH: process.env.PATH ?? '',
      ...(database ? { DATABASE_URL: database.url } : {}),
      FLEET_ROLLOUT_DATA_DIR: join(dir, 'data'),
      FLEET_ROLLOUT_HOST: '127.0.0.1',
      FLEET_ROLLOUT_PORT: String(httpPort),
      FLEET_ROLLOUT_METRICS_HOST: '127.0.0.1',
      FLEET_ROLLOUT_METRICS_PORT: String(metricsPort),
      FLEET_ROLLOUT_APISERVER_HOST: '127.0.0.1',
      FLEET_ROLLOUT_APISERVER_PORT: String(apiserverPort),
      FLEET_ROLLOUT_ADMIN_TOKEN: ADMIN_TOKEN,
      FLEET_ROLLOUT_WEBHOOK_GENERIC_SECRET: WEBHOOK_SECRET,
      FLEET_ROLLOUT_POLL_INTERVAL_SECONDS: '1',
      FLEET_ROLLOUT_LOG_LEVEL: 'warn',
    });
    const kubeconfig = join(dir, 'data', 'kubeconfig');
    await vi.waitFor(
      async () => {
        if (product?.child.exitCode !== null) throw new Error(`start exited: ${product?.output()}`);
        expect((await fetch(`${httpUrl}/readyz`)).status).toBe(200);
        expect(existsSync(kubeconfig)).toBe(true);
      },
      { timeout: 120_000, interval: 250 },
    );
    kube = createKubePort(loadKubeConfig({ kind: 'kubeconfig', path: kubeconfig }));

    const config = join(dir, 'prometheus.yml');
    await writeFile(
      config,
      JSON.stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [resolve(RULES_FILE)],
        scrape_configs: [
          {
            job_name: 'fleet-rollout',
            honor_labels: true,
            static_configs: [{ targets: [`127.0.0.1:${metricsPort}`] }],
          },
        ],
      }),
    );
    prometheus = run(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
        '--log.level=warn',
      ],
      { PATH: process.env.PATH ?? '' },
    );
    await vi.waitFor(
      async () => {
        if (prometheus?.child.exitCode !== null) {
          throw new Error(`prometheus exited: ${prometheus?.output()}`);
        }
        expect((await fetch(`${prometheusUrl}/-/ready`)).status).toBe(200);
      },
      { timeout: 60_000, interval: 250 },
    );
  });

  afterAll(async () => {
    await simulator?.stop();
    await stop(prometheus?.child);
    await stop(product?.child);
    if (database && process.env.TEST_DATABASE_URL) {
      await dropDatabase(process.env.TEST_DATABASE_URL, database.name);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fires the failure-budget alert, and every panel and alert evaluates and returns data', async () => {
    // /metrics is only on the metrics port.
    expect((await fetch(`${httpUrl}/metrics`)).status).toBe(404);

    // 20 devices; half of them fail on 1.29. Batches of 50 % and 100 %, paused on failure.
    await kube.imagePolicies.create({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImagePolicy',
      metadata: { name: 'nginx', namespace: 'default' },
      spec: {
        image: ROLLOUT_IMAGE,
        selector: { fleets: [FLEET] },
        strategy: { type: 'Staged', batches: [50, 100], interval: '0s' },
        health: { soakTime: '1s', offlineAfter: '1m', progressDeadline: '5m' },
        failurePolicy: { maxFailurePercent: 10, minSample: 3, action: 'Pause' },
      },
    });
    simulator = await startSimulator({
      apiUrl: httpUrl,
      register: {
        count: 20,
        adminToken: ADMIN_TOKEN,
        fleet: FLEET,
        apps: { web: { services: { nginx: { image: `${ROLLOUT_IMAGE}:1.27` } } } },
      },
      seed: 'prometheus',
      failureRate: 0.5,
      failingImages: ['*:1.29'],
      pollIntervalMs: 250,
      reportIntervalMs: 500,
      pullDelayMs: 20,
      healthyAfterMs: 50,
      startSpreadMs: 100,
    });

    // The registry's push, and one delivery with a wrong secret (a rejected delivery).
    const push = (secret: string) =>
      fetch(`${httpUrl}/api/v1/webhooks/generic`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ image: 'nginx', tag: '1.29' }),
      });
    expect((await push('not-the-secret-at-all')).status).toBe(401);
    expect((await push(WEBHOOK_SECRET)).status).toBe(200);

    const [created] = await kube.imageRollouts.list('default');
    const name = (created as ImageRollout).metadata.name as string;
    await vi.waitFor(
      async () => {
        const rollout = await kube.imageRollouts.get('default', name);
        expect(rollout?.status?.phase).toBe('Paused');
        const degraded = rollout?.status?.conditions?.find((c) => c.type === 'Degraded');
        expect(degraded?.reason).toBe('FailureBudgetExceeded');
      },
      { timeout: 60_000, interval: 250 },
    );

    await vi.waitFor(
      async () => {
        const firing = (await alerts()).filter(
          (alert) =>
            alert.labels.alertname === 'FleetRolloutFailureBudgetExceeded' &&
            alert.state === 'firing',
        );
        expect(firing.map((alert) => alert.labels)).toEqual([
          {
            alertname: 'FleetRolloutFailureBudgetExceeded',
            namespace: 'default',
            name,
            policy: 'nginx',
            severity: 'critical',
          },
        ]);
      },
      { timeout: 60_000, interval: 500 },
    );

    // Abort: every updated device goes back to 1.27. The leader counted one budget trip and one
    // rollback, and the rollback alert fires.
    await kube.imageRollouts.mergePatch('default', name, { spec: { abort: true } });
    await vi.waitFor(
      async () =>
        expect((await kube.imageRollouts.get('default', name))?.status?.phase).toBe('RolledBack'),
      { timeout: 60_000, interval: 250 },
    );
    const counted = async (metric: string) =>
      (await query(`sum(fleet_rollout_rollout_${metric}{name="${name}"})`))[0]?.value[1];
    await vi.waitFor(
      async () => {
        expect(await counted('failure_budget_trips_total')).toBe('1');
        expect(await counted('rollbacks_total')).toBe('1');
        // Created without a status, then Progressing, Paused, RollingBack, RolledBack.
        expect(await counted('phase_transitions_total')).toBe('4');
        const firing = (await alerts()).filter((alert) => alert.state === 'firing');
        expect(firing.map((alert) => alert.labels.alertname)).toContain(
          'FleetRolloutRollbackStarted',
        );
      },
      { timeout: 30_000, interval: 500 },
    );

    // Every dashboard expression returns data, as Grafana sends it with "All" selected (the
    // rate windows need a few scrapes, so each is retried for a while).
    for (const { panel, expr } of dashboardExpressions(loadDashboard())) {
      await vi.waitFor(
        async () => expect(await query(asGrafanaSends(expr)), `${panel}: ${expr}`).not.toEqual([]),
        { timeout: 30_000, interval: 500 },
      );
    }

    // Every alert rule evaluates without error, and every metric it reads has series.
    const rules = loadRules().groups.flatMap((group: Json) => group.rules);
    for (const rule of rules) {
      await query(rule.expr);
      for (const metric of metricNamesIn(rule.expr)) {
        const series = await query(`{__name__=~"${metric}(_count)?"}`);
        expect(series, `${rule.alert} reads ${metric}`).not.toEqual([]);
      }
    }
    const body = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as Json;
    const evaluated = body.data.groups.flatMap((group: Json) => group.rules);
    expect(evaluated).toHaveLength(rules.length);
    for (const rule of evaluated)
      expect({ rule: rule.name, health: rule.health }).toEqual({
        rule: rule.name,
        health: 'ok',
      });
  }, 240_000);

  it('exports documented metrics only, and no device id in any label', async () => {
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    const exported = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    const documented = documentedMetrics();
    expect(exported.length).toBeGreaterThan(60);
    for (const [metric, type] of exported) {
      expect(documented.get(metric as string)?.type, metric).toBe(type);
    }
    const uuids = simulator?.devices().map((device) => device.uuid) ?? [];
    expect(uuids).toHaveLength(20);
    expect(uuids.filter((uuid) => text.includes(uuid))).toEqual([]);
    expect(text).toMatch(/^fleet_rollout_fleet_devices\{fleet="prom",state="online"\} 20$/m);
  });
});
