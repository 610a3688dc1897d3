/**
 * `npm run bench:poll`: the device API's 304 path against a bare node:http server answering 304
 * from a Map, under the same load from a separate process. The real server runs on real Postgres
 * with 100k registered devices. Prints both rates and, last, `ratio=<api/bare>`: the median
 * of the ratios of adjacent measurement pairs.
 *
 * BENCH_DATABASE_URL (or DATABASE_URL) selects the database; by default a fresh database is
 * created on postgres://postgres@127.0.0.1:5432 and dropped afterwards. BENCH_DEVICES,
 * BENCH_CONNECTIONS, BENCH_SECONDS and BENCH_ROUNDS tune the run.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openDatabase } from '../src/db/client.js';
import { createDeviceApi } from '../src/devices/device-api.js';
import { createHttpServer } from '../src/http/server.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { createMetricsRegistry } from '../src/telemetry/metrics.js';
import { type BareDevice, startBarePollServer } from './bare-poll-server.js';
import { benchDatabase, seedDevices } from './bench-database.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const POLL_INTERVAL_SECONDS = 60;
const run = promisify(execFile);

/** Runs the load generator against `port` in its own process; completed requests per second. */
async function measure(port: number, devicesFile: string, seconds: number): Promise<number> {
  const loader = new URL('./poll-load.ts', import.meta.url).pathname;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', loader, String(port), devicesFile, String(CONNECTIONS), String(seconds)],
    { maxBuffer: 1 << 20 },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
  const codes = Object.keys(result.statusCodes);
  if (codes.length !== 1 || codes[0] !== '304' || result.errors > 0) {
    throw new Error(`expected only 304 answers, got ${JSON.stringify(result)}`);
  }
  return result.requests / result.seconds;
}

/** Prints the rates and, last, the median of the per-pair ratios (robust to bursts of load). */
function report(rounds: Array<{ api: number; bare: number }>, database: string): void {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const ratios = rounds.map((r) => r.api / r.bare).sort((a, b) => a - b);
  const middle = Math.floor(ratios.length / 2);
  const median =
    ratios.length % 2 === 1
      ? (ratios[middle] as number)
      : ((ratios[middle - 1] as number) + (ratios[middle] as number)) / 2;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `devices=${DEVICES} connections=${CONNECTIONS} seconds=${SECONDS} rounds=${ROUNDS} database=${database}`,
  );
  for (const [i, r] of rounds.entries()) {
    out(`round ${i + 1}: api ${Math.round(r.api)} req/s, bare ${Math.round(r.bare)} req/s`);
  }
  out(`device API (fastify, cache): ${Math.round(mean(rounds.map((r) => r.api)))} req/s (mean)`);
  out(`bare node:http (Map):        ${Math.round(mean(rounds.map((r) => r.bare)))} req/s (mean)`);
  out(`ratio=${median.toFixed(2)}`);
}

async function main(): Promise<void> {
  const target = await benchDatabase();
  const database = await openDatabase({ url: target.url, logger: silentLogger(), poolSize: 4 });
  const workDir = await mkdtemp(join(tmpdir(), 'fleet-rollout-bench-'));
  try {
    await database.migrate();
    const devices = await seedDevices(database, DEVICES);
    const devicesFile = join(workDir, 'devices.json');
    await writeFile(devicesFile, JSON.stringify(devices));

    const metrics = createMetricsRegistry();
    const deviceApi = createDeviceApi({
      database,
      logger: silentLogger(),
      metrics,
      adminToken: 'bench-admin-token-not-used',
      pollIntervalSeconds: POLL_INTERVAL_SECONDS,
      maxLongPollSeconds: 0,
    });
    await deviceApi.start();
    const api = await createHttpServer({
      logger: silentLogger(),
      metrics,
      database,
      plugins: [deviceApi.plugin],
      keepAliveTimeoutMs: deviceApi.keepAliveTimeoutMs,
    });
    await api.listen({ host: '127.0.0.1', port: 0 });
    const apiPort = (api.server.address() as { port: number }).port;

    const bareDevices = new Map<string, BareDevice>();
    for (const device of devices) {
      const cached = deviceApi.cache.get(device.uuid);
      if (!cached) throw new Error(`device ${device.uuid} missing from the cache`);
      bareDevices.set(device.uuid, { etag: device.etag, keyHash: cached.keyHash });
    }
    const bare = await startBarePollServer(
      bareDevices,
      String(POLL_INTERVAL_SECONDS),
      deviceApi.keepAliveTimeoutMs,
    );

    // Warm both up (JIT, connections), then measure in adjacent pairs, alternating which side
    // goes first: the machine is shared, and load from elsewhere should hit both sides alike.
    await measure(apiPort, devicesFile, 2);
    await measure(bare.port, devicesFile, 2);
    const rounds: Array<{ api: number; bare: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const apiFirst = round % 2 === 0;
      const first = await measure(apiFirst ? apiPort : bare.port, devicesFile, SECONDS);
      const second = await measure(apiFirst ? bare.port : apiPort, devicesFile, SECONDS);
      rounds.push(apiFirst ? { api: first, bare: second } : { api: second, bare: first });
    }
    await bare.close();
    await api.close();
    await deviceApi.stop();

    report(rounds, target.label);
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await target.cleanup(database);
  }
}

await main();
