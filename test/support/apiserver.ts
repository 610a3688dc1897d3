import { request as streamingRequest } from 'node:https';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll } from 'vitest';
import {
  type ApiServer,
  type ApiServerOptions,
  startApiServer,
} from '../../src/apiserver/index.js';
import type { Database } from '../../src/db/client.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { httpsRequest } from './https-request.js';

/** A response of the local API server. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
}

/** Starts a local API server on an ephemeral port for a test. */
export function startTestServer(database: Database, options: Partial<ApiServerOptions> = {}) {
  return startApiServer({
    database,
    logger: silentLogger(),
    metrics: createMetricsRegistry({ processMetrics: false }),
    port: 0,
    ...options,
  });
}

/** A fresh database and a server on it for one describe block, closed after it. */
export function serverFixture(
  backend: 'pglite' | 'postgres',
  options: Partial<ApiServerOptions> = {},
) {
  let test: TestDatabase | undefined;
  let started: ApiServer | undefined;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    started = await startTestServer(test.database, options);
  });
  afterAll(async () => {
    await started?.close();
    await test?.drop();
  });
  const server = () => {
    if (!started) throw new Error('the test server has not started');
    return started;
  };
  return { server, api: clientOf(server) };
}

/** An events.k8s.io/v1 Event about `regarding`, as a recorder writes it. */
export function eventAbout(name: string, regarding: Record<string, string>, note: string) {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name },
    eventTime: new Date().toISOString().replace('Z', '000Z'),
    reportingController: 'fleet.iotistic.io/controller',
    reportingInstance: 'controller-0',
    action: 'Reconcile',
    reason: 'DevicesSelected',
    type: 'Normal',
    note,
    regarding,
  };
}

/** A small HTTPS client for one server, trusting its certificate and sending its token. */
export function clientOf(target: ApiServer | (() => ApiServer)) {
  const current = typeof target === 'function' ? target : () => target;
  const headers = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${current().token}`,
    ...extra,
  });
  const send = async (
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<Answer> => {
    const payload =
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const contentType: Record<string, string> =
      payload === undefined ? {} : { 'content-type': 'application/json' };
    const answer = await httpsRequest(current(), method, path, {
      body: payload,
      headers: { ...contentType, ...extra },
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      parsed = undefined;
    }
    return { ...answer, body: parsed };
  };
  return {
    get: (path: string, extra?: Record<string, string>) => send('GET', path, undefined, extra),
    post: (path: string, body: unknown, extra?: Record<string, string>) =>
      send('POST', path, body, extra),
    put: (path: string, body: unknown, extra?: Record<string, string>) =>
      send('PUT', path, body, extra),
    patch: (path: string, body: unknown, contentType: string, extra?: Record<string, string>) =>
      send('PATCH', path, body, { 'content-type': contentType, ...extra }),
    delete: (path: string, body?: unknown) => send('DELETE', path, body),
    send,
    watch: (path: string, extra?: Record<string, string>) =>
      openWatch(current(), path, headers(extra)),
  };
}

/** An open watch: events as they arrive, until the server ends it or `close()`. */
export interface OpenWatch {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON events
  events: any[];
  ended: Promise<void>;
  /** Resolves once at least `count` events have arrived (rejects after `timeoutMs`). */
  next(count: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

function openWatch(
  server: ApiServer,
  path: string,
  headers: Record<string, string>,
): Promise<OpenWatch> {
  return new Promise((resolve, reject) => {
    const req = streamingRequest(
      `${server.url}${path}`,
      { ca: server.certificate, headers },
      (res) => {
        const events: unknown[] = [];
        const waiters: Array<() => void> = [];
        const ended = new Promise<void>((done) => res.on('close', () => done()));
        res.on('error', () => {});
        const lines = createInterface(res);
        lines.on('error', () => {});
        lines.on('line', (line) => {
          if (!line.trim()) return;
          events.push(JSON.parse(line));
          for (const wake of waiters.splice(0)) wake();
        });
        resolve({
          status: res.statusCode ?? 0,
          events,
          ended,
          async next(count, timeoutMs = 5000) {
            const deadline = Date.now() + timeoutMs;
            while (events.length < count) {
              const remaining = deadline - Date.now();
              if (remaining <= 0)
                throw new Error(`expected ${count} watch events, got ${JSON.stringify(events)}`);
              await new Promise<void>((wake) => {
                waiters.push(wake);
                setTimeout(wake, Math.min(remaining, 100));
              });
            }
          },
          close: () => {
            req.on('error', () => {});
            req.destroy();
          },
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A minimal valid ImagePolicy body. */
export function policy(
  name: string,
  extra: { labels?: Record<string, string>; spec?: object } = {},
) {
  return {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImagePolicy',
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { image: 'ghcr.io/acme/web', selector: { fleets: ['edge'] }, ...extra.spec },
  };
}

/** The collection path of ImagePolicies in a namespace. */
export const POLICIES = '/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagepolicies';
/** The collection path of ImageRollouts in a namespace. */
export const ROLLOUTS = '/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagerollouts';
