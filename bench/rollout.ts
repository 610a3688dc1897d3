/**
 * `npm run bench:rollout`: how fast a started batch reaches the devices, at fleet scale.
 *
 * On real Postgres with BENCH_DEVICES (default 1M) registered devices, three processes as in a
 * deployment: the local API server here, the real rollout reconciler in one child
 * (`bench/rollout-controller.ts`) and the real device API in another (`bench/rollout-device-api.ts`). A Manual rollout with batches 10/50/100 selects every device;
 * after approval, one reconcile pass starts batch 1 (100k devices). Measured:
 *
 * - batch start: from the moment the pass applies the StartBatch effect (its reads done) until
 *   the device API's cache serves the new ETag of every device of the batch (checked for each
 *   device; then a sample is polled over HTTP);
 * - the baseline, in the same run: a raw `COPY` of as many rows (uuid, batch, two ETags) into an
 *   unlogged table, median of BENCH_COPY_ROUNDS runs;
 * - a no-change reconcile pass of the 1M-device rollout (median of 3; it must write nothing);
 * - the controller process's peak RSS, membership creation of 1M devices included.
 *
 * The last line is `ratio=<COPY time / batch start time>`. BENCH_DATABASE_URL (or DATABASE_URL)
 * selects the database; by default a fresh one is created on postgres://postgres@127.0.0.1:5432
 * and dropped afterwards.
 */
import { fork } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ImageRollout } from '../src/api/types.js';
import { startApiServer } from '../src/apiserver/index.js';
import { openDatabase } from '../src/db/client.js';
import { queryRows } from '../src/db/rows.js';
import { quoteEtag } from '../src/devices/device-cache.js';
import { createKubePort, loadKubeConfig, tokenConnection } from '../src/kube/client-node.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { createMetricsRegistry } from '../src/telemetry/metrics.js';
import { benchDatabase, type SeededDevice, seedDevices } from './bench-database.js';
import type {
  BenchReply,
  ControllerRequest,
  DeviceApiRequest,
  StepTime,
} from './rollout-protocol.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 1_000_000);
const COPY_ROUNDS = Number(process.env.BENCH_COPY_ROUNDS ?? 5);
/** Devices polled over HTTP in and outside the batch, from a 1% sample of the fleet. */
const HTTP_SAMPLE = 1_000;
const NAMESPACE = 'default';
const POLICY = 'bench';
const ROLLOUT = 'bench-2-0';
const KEY = `${NAMESPACE}/${ROLLOUT}`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** A forked bench process answering one request at a time over IPC. */
class BenchChild<Request> {
  private readonly child;
  private pending: { resolve(reply: BenchReply): void; reject(error: Error): void } | undefined;

  constructor(script: string, args: string[]) {
    const path = new URL(script, import.meta.url).pathname;
    this.child = fork(path, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    this.child.on('message', (reply: BenchReply) => this.settle()?.resolve(reply));
    this.child.on('exit', (code) =>
      this.settle()?.reject(new Error(`${script} exited with ${code}`)),
    );
  }

  /** Sends `request` (if any) and resolves with the next reply (the first one is `ready`). */
  async next<Type extends BenchReply['type']>(
    type: Type,
    request?: Request,
  ): Promise<Extract<BenchReply, { type: Type }>> {
    const reply = await new Promise<BenchReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      if (request) this.child.send(request as object);
    });
    if (reply.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(reply)}`);
    return reply as Extract<BenchReply, { type: Type }>;
  }

  stop(): void {
    this.pending = undefined;
    if (this.child.connected) this.child.disconnect();
  }

  private settle() {
    const pending = this.pending;
    this.pending = undefined;
    return pending;
  }
}

/** Time of one raw COPY of `rows` member-like rows into a fresh unlogged table (ms). */
async function timeCopy(url: string, rows: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop table if exists bench_copy`);
    await client.query(
      `create unlogged table bench_copy (device_uuid uuid, batch int, from_etag text, to_etag text)`,
    );
    const etag = 'a'.repeat(64);
    function* lines() {
      for (let i = 0; i < rows; i++) {
        const uuid = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
        yield `${uuid}\t1\t${etag}\t${etag}\n`;
      }
    }
    const started = performance.now();
    await pipeline(Readable.from(lines()), client.query(copyFrom('copy bench_copy from stdin')));
    const elapsed = performance.now() - started;
    await client.query(`drop table bench_copy`);
    return elapsed;
  } finally {
    await client.end();
  }
}

function stepAt(steps: StepTime[], step: string): number {
  const found = steps.find((s) => s.step === step);
  if (!found) throw new Error(`the pass had no step ${step}: ${JSON.stringify(steps)}`);
  return found.at;
}

/** Polls `devices` over HTTP with `etagOf(device)` as If-None-Match; returns status → count. */
async function pollOverHttp(
  url: string,
  devices: SeededDevice[],
  expect: (device: SeededDevice, status: number, etag: string | null) => boolean,
): Promise<void> {
  for (const device of devices) {
    const response = await fetch(`${url}/api/v1/device/${device.uuid}/state`, {
      headers: { authorization: `Bearer ${device.key}`, 'if-none-match': device.etag },
    });
    await response.arrayBuffer();
    if (!expect(device, response.status, response.headers.get('etag'))) {
      throw new Error(`device ${device.uuid}: unexpected ${response.status}`);
    }
  }
}

/** Keeps a 1% sample of the seeded devices (keys and ETags) for the HTTP checks. */
function sampleOf(devices: SeededDevice[]): SeededDevice[] {
  return devices.filter((_, i) => i % 100 === 0);
}

async function main(): Promise<void> {
  const target = await benchDatabase();
  const database = await openDatabase({ url: target.url, logger: silentLogger(), poolSize: 8 });
  const closers: Array<() => Promise<void> | void> = [];
  try {
    out(`devices=${DEVICES} database=${target.label}`);
    await database.migrate();
    let started = performance.now();
    const sample = sampleOf(await seedDevices(database, DEVICES));
    out(`seeded ${DEVICES} devices in ${seconds(performance.now() - started)}`);
    await database.query(sql`analyze`);

    const metrics = createMetricsRegistry({ processMetrics: false });
    const apiServer = await startApiServer({ database, logger: silentLogger(), metrics, port: 0 });
    closers.push(() => apiServer.close());
    const kube = createKubePort(loadKubeConfig(tokenConnection(apiServer)));
    const deviceApi = new BenchChild<DeviceApiRequest>('./rollout-device-api.ts', [target.url]);
    closers.push(() => deviceApi.stop());
    const { port, loadMs = 0 } = await deviceApi.next('ready');
    out(`device API process: cache of ${DEVICES} devices loaded in ${seconds(loadMs)}`);
    const controller = new BenchChild<ControllerRequest>('./rollout-controller.ts', [
      target.url,
      apiServer.url,
      apiServer.token,
      apiServer.certificate,
    ]);
    closers.push(() => controller.stop());
    await controller.next('ready');
    const reconcile = () => controller.next('reconciled', { type: 'reconcile', key: KEY });

    await kube.imagePolicies.create({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImagePolicy',
      metadata: { name: POLICY, namespace: NAMESPACE },
      spec: {
        image: 'docker.io/library/nginx',
        selector: { fleets: ['bench'] },
        strategy: { type: 'Manual', batches: [10, 50, 100] },
      },
    });
    const created = await kube.imageRollouts.create({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImageRollout',
      metadata: { name: ROLLOUT, namespace: NAMESPACE },
      spec: { policyRef: { name: POLICY }, image: 'docker.io/library/nginx', tag: '2.0' },
    });
    const uid = created.metadata.uid as string;
    const read = async (): Promise<ImageRollout> => {
      const rollout = await kube.imageRollouts.get(NAMESPACE, ROLLOUT);
      if (!rollout) throw new Error('the rollout is gone');
      return rollout;
    };

    // Membership: passes until the rollout waits for the approval of batch 1.
    started = performance.now();
    for (let pass = 0; (await read()).status?.phase !== 'WaitingForApproval'; pass++) {
      if (pass > 50) throw new Error(`no approval wait: ${JSON.stringify((await read()).status)}`);
      await reconcile();
    }
    const membershipMs = performance.now() - started;
    const rate = Math.round(DEVICES / (membershipMs / 1000));
    out(`membership of ${DEVICES} devices created in ${seconds(membershipMs)} (${rate} devices/s)`);

    // What batch 1 must serve: each member's planned ETag.
    const members = await queryRows<{ uuid: string; toEtag: string }>(
      database.db,
      sql`select device_uuid::text as uuid, to_etag as "toEtag" from rollout_members
          where rollout_uid = ${uid} and batch = 1`,
    );
    const expected = new Map(members.map((m) => [m.uuid, quoteEtag(m.toEtag)]));

    const copies: number[] = [];
    for (let i = 0; i < COPY_ROUNDS; i++) copies.push(await timeCopy(target.url, members.length));
    const copyMs = median(copies);

    // Approve batch 1; one pass starts it while the device API process waits for every new ETag.
    await kube.imageRollouts.mergePatch(NAMESPACE, ROLLOUT, { spec: { approvedBatches: 1 } });
    await deviceApi.next('expecting', { type: 'expect', etags: [...expected] });
    const served = deviceApi.next('served');
    const pass = await reconcile();
    const { firstAt, at: servedAt, batchStarts } = await served;
    const startedAt = stepAt(pass.steps, 'effect-StartBatch');
    const decidedAt = stepAt(pass.steps, 'read');
    const batchMs = servedAt - decidedAt;

    // Over HTTP: members of the batch get their new target, the other devices still 304.
    const url = `http://127.0.0.1:${port}`;
    await pollOverHttp(
      url,
      sample.filter((device) => expected.has(device.uuid)).slice(0, HTTP_SAMPLE),
      (device, status, etag) => status === 200 && etag === expected.get(device.uuid),
    );
    await pollOverHttp(
      url,
      sample.filter((device) => !expected.has(device.uuid)).slice(0, HTTP_SAMPLE),
      (_, status) => status === 304,
    );

    // The pass after a transition replaces its message with the batch's progress; the passes
    // after that have nothing new to see, so they must write nothing.
    await reconcile();
    const version = (await read()).metadata.resourceVersion;
    const idle: number[] = [];
    for (let i = 0; i < 3; i++) {
      const idlePass = await reconcile();
      idle.push(idlePass.endedAt - idlePass.startedAt);
    }
    if ((await read()).metadata.resourceVersion !== version) {
      throw new Error('a no-change reconcile wrote the rollout');
    }
    const status = (await read()).status;
    const { maxRssBytes } = await controller.next('memory', { type: 'memory' });

    const list = (values: number[]) => values.map((ms) => (ms / 1000).toFixed(3)).join(', ');
    out(`batch 1: ${members.length} devices; phase=${status?.phase} batch=${status?.currentBatch}`);
    out(
      `reconcile pass that started it: ${seconds(pass.endedAt - pass.startedAt)} (its reads ${seconds(decidedAt - pass.startedAt)})`,
    );
    out(
      `batch start → every device of the batch served its new ETag: ${seconds(batchMs)} (members from ${JSON.stringify(batchStarts)})`,
    );
    out(
      `  startBatch committed after ${seconds(startedAt - decidedAt)}, first devices served after ${seconds(firstAt - decidedAt)}; from the start of the pass: ${seconds(servedAt - pass.startedAt)}`,
    );
    out(
      `raw COPY of ${members.length} rows into an unlogged table: ${seconds(copyMs)} (median of ${list(copies)})`,
    );
    out(
      `no-change reconcile of the ${DEVICES}-device rollout: ${seconds(median(idle))} (median of ${list(idle)})`,
    );
    out(`controller peak RSS: ${(maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
    out(`ratio=${(copyMs / batchMs).toFixed(2)}`);
  } finally {
    for (const close of closers.reverse()) await close();
    await target.cleanup(database);
  }
}

await main();
