/**
 * The device API side of `npm run bench:rollout`, in its own process as the `device-api` role runs
 * in production: the real device API (cache loaded from Postgres, following notifications) on an
 * HTTP port. Asked to `expect` ETags, it checks its cache until every one is served and replies
 * with the time.
 */
import { openDatabase } from '../src/db/client.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { startBenchDeviceApi } from './bench-device-api.js';
import { type BenchReply, type DeviceApiRequest, epochMs } from './rollout-protocol.js';

const [databaseUrl] = process.argv.slice(2) as [string];
const TIMEOUT_MS = 120_000;

const database = await openDatabase({ url: databaseUrl, logger: silentLogger(), poolSize: 4 });
const loading = performance.now();
const { deviceApi, metrics, port, close } = await startBenchDeviceApi(database);
const loadMs = performance.now() - loading;

function reply(message: BenchReply): void {
  process.send?.(message);
}

/**
 * Resolves when the cache serves every expected ETag (`uuids`: their keys, sorted), with the
 * time the first was served. The sync applies a batch one uuid range after another, in uuid
 * order, so a cursor over the sorted uuids checks each device about once (checking all 100k
 * every millisecond would take the time of the sync it measures); it passes only devices
 * already served, and a served ETag stays.
 */
async function whenServed(etags: Map<string, string>, uuids: string[]) {
  const deadline = epochMs() + TIMEOUT_MS;
  let next = 0;
  let firstAt = 0;
  for (;;) {
    while (next < uuids.length) {
      const uuid = uuids[next] as string;
      if (deviceApi.cache.get(uuid)?.etag !== etags.get(uuid)) break;
      next++;
    }
    if (next > 0 && firstAt === 0) firstAt = epochMs();
    if (next === uuids.length) return { firstAt, at: epochMs() };
    if (epochMs() > deadline) throw new Error(`ETags not served after ${TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Batch starts so far, by where the cache took the members from. */
async function batchStarts(): Promise<Record<string, number>> {
  const metric = await metrics
    .getSingleMetric('fleet_rollout_device_cache_batch_starts_total')
    ?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.source), v.value]));
}

process.on('message', (request: DeviceApiRequest) => {
  const etags = new Map(request.etags);
  const uuids = [...etags.keys()].sort();
  reply({ type: 'expecting' });
  whenServed(etags, uuids).then(
    async (times) => reply({ type: 'served', ...times, batchStarts: await batchStarts() }),
    (error: unknown) => reply({ type: 'failed', message: String(error) }),
  );
});
process.on('disconnect', () => {
  void (async () => {
    await close();
    await database.close();
    process.exit(0);
  })();
});
reply({ type: 'ready', port, loadMs });
