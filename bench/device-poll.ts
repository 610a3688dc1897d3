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
import { silentLogger } from '../src/telemetry/logger.js';
import { type BareDevice, startBarePollServer } from './bare-poll-server.js';
import { benchDatabase, seedDevices } from './bench-database.js';
import { BENCH_POLL_INTERVAL_SECONDS, startBenchDeviceApi } from './bench-device-api.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const run = promisify(execFile);

/** What one measurement gives: the rate, and the server's CPU time per request (µs). */
interface Sample {
  rate: number;
  cpu: number;
}

/**
 * Runs the load generator against `port` in its own process. The server under test runs in this
 * process, which does nothing else meanwhile, so this process's CPU time is the server's.
 */
async function measure(port: number, devicesFile: string, seconds: number): Promise<Sample> {
  const cpuBefore = process.cpuUsage();
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
  const cpu = process.cpuUsage(cpuBefore);
  return { rate: result.requests / result.seconds, cpu: (cpu.user + cpu.system) / result.requests };
}

/**
 * Prints the rates, the CPU cost per request (unaffected by other load on the machine) and, last,
 * the median of the per-pair rate ratios (robust to bursts of load from elsewhere).
 */
function report(rounds: Array<{ api: Sample; bare: Sample }>, database: string): void {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const ratios = rounds.map((r) => r.api.rate / r.bare.rate).sort((a, b) => a - b);
  const middle = Math.floor(ratios.length / 2);
  const median =
    ratios.length % 2 === 1
      ? (ratios[middle] as number)
      : ((ratios[middle - 1] as number) + (ratios[middle] as number)) / 2;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `devices=${DEVICES} connections=${CONNECTIONS} seconds=${SECONDS} rounds=${ROUNDS} database=${database}`,
  );
  const side = (r: Sample) => `${Math.round(r.rate)} req/s ${r.cpu.toFixed(1)} µs CPU/req`;
  for (const [i, r] of rounds.entries())
    out(`round ${i + 1}: api ${side(r.api)}, bare ${side(r.bare)}`);
  const summary = (pick: (r: { api: Sample; bare: Sample }) => Sample) =>
    side({
      rate: mean(rounds.map((r) => pick(r).rate)),
      cpu: mean(rounds.map((r) => pick(r).cpu)),
    });
  out(`device API (fastify, cache): ${summary((r) => r.api)} (means)`);
  out(`bare node:http (Map):        ${summary((r) => r.bare)} (means)`);
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

    const api = await startBenchDeviceApi(database);
    const { deviceApi } = api;

    const bareDevices = new Map<string, BareDevice>();
    for (const device of devices) {
      const cached = deviceApi.cache.get(device.uuid);
      if (!cached) throw new Error(`device ${device.uuid} missing from the cache`);
      bareDevices.set(device.uuid, { etag: device.etag, keyHash: cached.keyHash });
    }
    const bare = await startBarePollServer(
      bareDevices,
      String(BENCH_POLL_INTERVAL_SECONDS),
      deviceApi.keepAliveTimeoutMs,
    );

    // Warm both up (JIT, connections), then measure in adjacent pairs, alternating which side
    // goes first: the machine is shared, and load from elsewhere should hit both sides alike.
    await measure(api.port, devicesFile, 2);
    await measure(bare.port, devicesFile, 2);
    const rounds: Array<{ api: Sample; bare: Sample }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const apiFirst = round % 2 === 0;
      const first = await measure(apiFirst ? api.port : bare.port, devicesFile, SECONDS);
      const second = await measure(apiFirst ? bare.port : api.port, devicesFile, SECONDS);
      rounds.push(apiFirst ? { api: first, bare: second } : { api: second, bare: first });
    }
    await bare.close();
    await api.close();

    report(rounds, target.label);
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await target.cleanup(database);
  }
}

await main();
