import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpPlugin } from '../src/http/server.js';
import type { HttpTimeouts } from '../src/http/timeouts.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { createMetricsRegistry } from '../src/telemetry/metrics.js';
import { POLICIES, startTestServer } from './support/apiserver.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { slowClient } from './support/slow-client.js';

/** Small timeouts, so slow clients are cut off quickly; the checks are about what, not when. */
const TIMEOUTS: HttpTimeouts = { headersMs: 400, requestMs: 1500, bodyIdleMs: 300 };
/** A client gives up on its own after this long: far past every timeout above. */
const GIVE_UP_MS = 20_000;

const echo: HttpPlugin = async (app) => {
  app.post('/echo', async (request) => request.body);
};

/** A request head for `path` announcing a JSON body of `length` bytes. */
const head = (path: string, length: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;
const BODY = JSON.stringify({ name: 'x'.repeat(200) });

/** Two requests on one keep-alive connection: the first refused before its big body is read. */
async function refusedThenNext(
  url: string,
  ca: string | undefined,
  first: { path: string; headers: Record<string, string> },
  second: { path: string; headers: Record<string, string> },
): Promise<Array<number | string>> {
  const agent = ca
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca })
    : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const send = (path: string, headers: Record<string, string>, body: string) =>
    new Promise<number | string>((resolve) => {
      const call = (ca ? httpsRequest : httpRequest)(
        `${url}${path}`,
        { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      call.setTimeout(10_000, () => call.destroy(new Error('no answer')));
      call.on('error', (error) => resolve(error.message));
      call.end(body);
    });
  try {
    return [
      await send(first.path, first.headers, 'x'.repeat(300_000)),
      await send(second.path, second.headers, '{}'),
    ];
  } finally {
    agent.destroy();
  }
}

/** The slow-client cases every server must cut off with a 408. */
function slowClientCases(target: () => { port: number; ca?: string; path: string; auth: string }) {
  const run = (headPart: string, drip: string, everyMs: number) => {
    const { port, ca } = target();
    return slowClient({ port, ca, head: headPart, drip, everyMs, giveUpMs: GIVE_UP_MS });
  };

  it('answers 408 and closes when the headers stop coming', async () => {
    const result = await run('POST / HTTP/1.1\r\nHost: localhost\r\n', '', 50);
    expect(result.closedByServer).toBe(true);
    expect(result.response).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers 408 and closes when headers come a byte at a time', async () => {
    const { path, auth } = target();
    const full = head(path, BODY.length, auth);
    const result = await run('', full, 30);
    expect(result.closedByServer).toBe(true);
    expect(result.dripped).toBeLessThan(full.length);
    expect(result.response).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers 408 and closes when the body stops coming', async () => {
    const { path, auth } = target();
    const result = await run(`${head(path, BODY.length, auth)}${BODY.slice(0, 10)}`, '', 50);
    expect(result.closedByServer).toBe(true);
    expect(result.response).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.response).toMatch(/\r\nconnection: close\r\n/i);
    expect(result.response).toContain('no part of the request body arrived for 300 ms');
  });

  it('answers 408 and closes when the body comes a byte at a time, however steadily', async () => {
    const { path, auth } = target();
    // Each byte arrives well within the idle limit; the whole body never arrives in time.
    const result = await run(head(path, BODY.length, auth), BODY, 100);
    expect(result.closedByServer).toBe(true);
    expect(result.dripped).toBeLessThan(BODY.length);
    expect(result.response).toMatch(/^HTTP\/1\.1 408 /);
  });
}

describe('request timeouts of the shared HTTP server', () => {
  let app: FastifyInstance;
  let port = 0;
  beforeAll(async () => {
    app = await createHttpServer({
      logger: silentLogger(),
      metrics: createMetricsRegistry({ processMetrics: false }),
      database: { query: async () => [] },
      plugins: [echo],
      timeouts: TIMEOUTS,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app?.close());

  slowClientCases(() => ({ port, path: '/echo', auth: '' }));

  it('answers the next request on a connection whose refused body was never read', async () => {
    const statuses = await refusedThenNext(
      `http://127.0.0.1:${port}`,
      undefined,
      { path: '/echo', headers: { 'content-type': 'application/xml' } },
      { path: '/echo', headers: { 'content-type': 'application/json' } },
    );
    expect(statuses).toEqual([415, 200]);
  });

  it('still answers a client that sends its body promptly', async () => {
    const result = await slowClient({
      port,
      head: `${head('/echo', BODY.length, 'Connection: close\r\n')}${BODY}`,
      drip: '',
      everyMs: 50,
      giveUpMs: GIVE_UP_MS,
    });
    expect(result.response).toMatch(/^HTTP\/1\.1 200 /);
    expect(result.response).toContain(BODY);
  });
});

describe('request timeouts of the local API server', () => {
  let database: TestDatabase;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    server = await startTestServer(database.database, { timeouts: TIMEOUTS });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  slowClientCases(() => ({
    port: server.port,
    ca: server.certificate,
    path: POLICIES,
    auth: `Authorization: Bearer ${server.token}\r\n`,
  }));

  it.each([['a media type it cannot read', { 'content-type': '' }, 415]])(
    'answers the next request on a connection refused for %s',
    async (_name, headers, status) => {
      const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
      const statuses = await refusedThenNext(
        server.url,
        server.certificate,
        { path: POLICIES, headers: { ...auth, ...headers } },
        { path: POLICIES, headers: auth },
      );
      expect(statuses).toEqual([status, 422]);
    },
  );

  it('keeps a watch open past every request timeout', async () => {
    const result = await slowClient({
      port: server.port,
      ca: server.certificate,
      head: `GET ${POLICIES}?watch=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${server.token}\r\n\r\n`,
      drip: '',
      everyMs: 50,
      giveUpMs: 3 * TIMEOUTS.requestMs,
    });
    expect(result.closedByServer).toBe(false);
    expect(result.response).toMatch(/^HTTP\/1\.1 200 /);
  });
});
