import type { AddressInfo } from 'node:net';
import type { Database } from '../src/db/client.js';
import { createDeviceApi } from '../src/devices/device-api.js';
import { createHttpServer } from '../src/http/server.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { createMetricsRegistry } from '../src/telemetry/metrics.js';

/** Devices poll every minute in the benchmarks; long polls are off. */
export const BENCH_POLL_INTERVAL_SECONDS = 60;

/**
 * The real device API (cache loaded from `database`, following its notifications) on an HTTP
 * server on a free loopback port, as the `device-api` role runs it.
 */
export async function startBenchDeviceApi(database: Database) {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const deviceApi = createDeviceApi({
    database,
    logger: silentLogger(),
    metrics,
    adminToken: 'bench-admin-token-not-used',
    pollIntervalSeconds: BENCH_POLL_INTERVAL_SECONDS,
    maxLongPollSeconds: 0,
  });
  await deviceApi.start();
  const http = await createHttpServer({
    logger: silentLogger(),
    metrics,
    database,
    plugins: [deviceApi.plugin],
    keepAliveTimeoutMs: deviceApi.keepAliveTimeoutMs,
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  return {
    deviceApi,
    metrics,
    port: (http.server.address() as AddressInfo).port,
    async close() {
      await http.close();
      await deviceApi.stop();
    },
  };
}
