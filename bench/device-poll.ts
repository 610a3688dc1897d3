/**
 * `npm run bench:poll`: the device API's 304 path against a bare node:http server answering 304
 * from a Map, under the same load from a separate process. The real server runs on real Postgres
 * with 100k registered devices. Prints both rates and, last, `ratio=<api/bare>`.
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
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
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

    // Warm both up (JIT, connection setup), then alternate rounds so drift hits both alike.
    await measure(apiPort, devicesFile, 2);
    await measure(bare.port, devicesFile, 2);
    let apiRate = 0;
    let bareRate = 0;
    for (let round = 0; round < ROUNDS; round++) {
      apiRate += (await measure(apiPort, devicesFile, SECONDS)) / ROUNDS;
      bareRate += (await measure(bare.port, devicesFile, SECONDS)) / ROUNDS;
    }
    await bare.close();
    await api.close();
    await deviceApi.stop();

    const settings = `devices=${DEVICES} connections=${CONNECTIONS} seconds=${SECONDS} rounds=${ROUNDS}`;
    process.stdout.write(`${settings} database=${target.label}\n`);
    process.stdout.write(`device API (fastify, cache):   ${Math.round(apiRate)} req/s\n`);
    process.stdout.write(`bare node:http (Map):          ${Math.round(bareRate)} req/s\n`);
    process.stdout.write(`ratio=${(apiRate / bareRate).toFixed(2)}\n`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await database.close();
    await target.cleanup();
  }
}

await main();
