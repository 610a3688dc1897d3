import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { type SQL, sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { devices } from '../../src/db/schema/index.js';
import { registerFleetMetrics } from '../../src/devices/fleet-metrics.js';
import { createHttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry, VERSION } from '../../src/telemetry/metrics.js';
import { serveMetrics } from '../../src/telemetry/metrics-server.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';

describe('metrics on a port of their own', () => {
  it('is off by default and validated when set', () => {
    expect(loadConfig({}).metrics).toEqual({ host: '0.0.0.0', port: undefined });
    expect(
      loadConfig({ FLEET_ROLLOUT_METRICS_PORT: '9090', FLEET_ROLLOUT_METRICS_HOST: '127.0.0.1' })
        .metrics,
    ).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(() => loadConfig({ FLEET_ROLLOUT_METRICS_PORT: 'http' })).toThrow(
      'FLEET_ROLLOUT_METRICS_PORT must be an integer from 0 to 65535, got "http"',
    );
  });

  it('serves /metrics and /healthz, nothing else; the shared server then has no /metrics', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    const server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 });
    try {
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toBe(registry.contentType);
      expect(await metrics.text()).toContain(`fleet_rollout_build_info{version="${VERSION}"} 1`);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/api/v1/devices`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
    const database = { query: async () => [] };
    const logger = silentLogger();
    const shared = await createHttpServer({
      logger,
      metrics: registry,
      database,
      plugins: [],
      serveMetrics: false,
    });
    expect((await shared.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    const usual = await createHttpServer({ logger, metrics: registry, database, plugins: [] });
    expect((await usual.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });

  it('answers 408 to a client that never finishes its headers', async () => {
    const timeouts = { headersMs: 200, requestMs: 400, bodyIdleMs: 200 };
    const server = await serveMetrics(new Registry(), { host: '127.0.0.1', port: 0, timeouts });
    try {
      const { hostname, port } = new URL(server.url);
      const socket = connect(Number(port), hostname);
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      let answer = '';
      socket.on('data', (chunk) => {
        answer += chunk.toString();
      });
      await new Promise((resolve) => socket.on('close', resolve));
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await server.close();
    }
  });
});

describe('devices per fleet, read at most every 15 s', () => {
  it('reads the database once for scrapes closer together', async () => {
    const registry = new Registry();
    let queries = 0;
    registerFleetMetrics(registry, {
      query: async <Row>() => {
        queries++;
        return [{ fleet: 'north', online: 1, offline: 0, never: 0 }] as Row[];
      },
    });
    await registry.metrics();
    const text = await registry.metrics();
    expect(text).toContain('fleet_rollout_fleet_devices{fleet="north",state="online"} 1');
    expect(queries).toBe(1);
  });
});

describe.each(databaseBackends)('devices per fleet on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test?.drop());

  it('counts online, offline and never-seen devices per fleet, and survives a failed query', async () => {
    const device = (fleet: string, seen: string | null) => ({
      uuid: randomUUID(),
      fleet,
      apiKeyHash: randomUUID(),
      lastSeenAt: seen === null ? null : sql`now() - ${seen}::interval`,
    });
    await test.database.db
      .insert(devices)
      .values([
        device('north', '1 minute'),
        device('north', '2 minutes'),
        device('north', '1 hour'),
        device('south', null),
        device('south', '9 minutes'),
      ]);
    const registry = new Registry();
    let fail = false;
    let queries = 0;
    const database = {
      query: <Row>(statement: SQL) => {
        queries++;
        return fail
          ? Promise.reject(new Error('connection lost'))
          : test.database.query<Row>(statement);
      },
    };
    registerFleetMetrics(registry, database, 0);
    const read = async () =>
      Object.fromEntries(
        (await registry.getSingleMetric('fleet_rollout_fleet_devices')?.get())?.values.map((v) => [
          `${v.labels.fleet} ${v.labels.state}`,
          v.value,
        ]) ?? [],
      );
    const expected = {
      'north online': 2,
      'north offline': 1,
      'north never_seen': 0,
      'south online': 1,
      'south offline': 0,
      'south never_seen': 1,
    };
    expect(await read()).toEqual(expected);
    fail = true;
    expect(await read()).toEqual(expected);
    expect(queries).toBe(2);
    await expect(registry.metrics()).resolves.toContain('fleet_rollout_fleet_devices{');
  });
});
