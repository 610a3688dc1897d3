import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProblem } from '../src/http/problem.js';
import { createHttpServer, type HttpPlugin } from '../src/http/server.js';
import { createMetricsRegistry } from '../src/telemetry/metrics.js';

const echo: HttpPlugin = async (app) => {
  app.post(
    '/echo',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', maxLength: 10 } },
        },
      },
    },
    async (request) => request.body,
  );
  app.get('/teapot', async () => {
    throw new HttpProblem(418, "I'm a teapot", 'short and stout');
  });
  app.get('/broken', async () => {
    throw new Error('secret internals');
  });
};

describe('shared HTTP server', () => {
  let app: FastifyInstance;
  const logged: string[] = [];
  let databaseUp = true;

  beforeAll(async () => {
    const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
    app = await createHttpServer({
      logger,
      metrics: createMetricsRegistry({ processMetrics: false }),
      database: {
        query: async () => {
          if (!databaseUp) throw new Error('connection refused');
          return [];
        },
      },
      plugins: [echo],
    });
  });
  afterAll(() => app?.close());

  const post = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': contentType }, payload });

  it.each([
    ['malformed JSON', 400, () => post('{"name":')],
    ['empty JSON body', 400, () => post('')],
    ['wrong type', 400, () => post('{"name":1}')],
    ['missing field', 400, () => post('{}')],
    ['unknown field', 400, () => post('{"name":"a","x":1}')],
    ['string too long', 400, () => post('{"name":"aaaaaaaaaaaa"}')],
    ['prototype poisoning', 400, () => post('{"name":"a","__proto__":{"x":1}}')],
    ['a NUL in a string', 400, () => post('{"name":"a\\u0000"}')],
    ['a lone surrogate in a string', 400, () => post('{"name":"a\\udc00"}')],
    ['nested deeper than 32', 400, () => post(`${'['.repeat(40)}${']'.repeat(40)}`)],
    ['body over 1 MiB', 413, () => post(JSON.stringify({ name: 'x'.repeat(1024 * 1024) }))],
    ['unsupported media type', 415, () => post('name=a', 'application/x-www-form-urlencoded')],
    ['unknown route', 404, () => app.inject({ method: 'GET', url: '/nope?x=1' })],
    ['wrong method', 405, () => app.inject({ method: 'DELETE', url: '/echo' })],
    ['a thrown problem', 418, () => app.inject({ method: 'GET', url: '/teapot' })],
  ])('%s gets a %d problem', async (_name, status, send) => {
    const response = await send();
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json();
    expect(problem).toMatchObject({ status, title: expect.any(String) });
    expect(problem.detail ?? problem.title).not.toMatch(/internal/i);
  });

  it('names the invalid field', async () => {
    const response = await post('{"name":1}');
    expect(response.json().errors).toEqual([{ path: 'body/name', message: 'must be string' }]);
  });

  it('names a field Postgres could not store, before schema validation', async () => {
    const response = await post('{"name":"\\ud800","x":1}');
    expect(response.json()).toMatchObject({
      title: 'Invalid request',
      detail: 'body/name must not contain an unpaired surrogate',
      errors: [{ path: 'body/name', message: 'must not contain an unpaired surrogate' }],
    });
  });

  it('answers an unexpected error with a 500 problem that hides the cause, and logs it', async () => {
    const response = await app.inject({ method: 'GET', url: '/broken' });
    expect(response.statusCode).toBe(500);
    // Exactly this body: no message, no stack trace.
    expect(response.json()).toEqual({
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'the server failed to handle this request',
    });
    expect(logged.join('')).toContain('secret internals');
  });

  it('serves health, readiness following the database, and metrics', async () => {
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    databaseUp = false;
    const notReady = await app.inject({ url: '/readyz' });
    databaseUp = true;
    expect(notReady.statusCode).toBe(503);
    expect(notReady.headers['retry-after']).toBe('5');
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(
      /fleet_rollout_http_request_duration_seconds_count\{route="\/echo",method="POST",status="400"\} \d+/,
    );
    expect(metrics.body).toMatch(
      /fleet_rollout_http_request_duration_seconds_count\{route="unmatched",method="GET",status="404"\} \d+/,
    );
    expect(metrics.body).not.toContain('/nope');
  });
});
