import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonResponse, problemResponses } from '../../src/http/responses.js';
import { createHttpServer, type HttpPlugin } from '../../src/http/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';

const ITEM = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };

/** Routes of every shape the generator has to map. */
const routes: HttpPlugin = async (app) => {
  app.get(
    '/items',
    {
      schema: {
        summary: 'list items',
        tags: ['items'],
        security: [{ adminToken: [] }],
        querystring: {
          type: 'object',
          required: ['q'],
          properties: { q: { type: 'string', description: 'what to find' } },
        },
        response: { 200: jsonResponse('the items', { type: 'array', items: ITEM }) },
      },
    },
    async () => [],
  );
  app.put(
    '/items/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 8 } } },
        body: ITEM,
        response: { 200: jsonResponse('stored', ITEM), ...problemResponses(404) },
      },
    },
    async (request) => request.body,
  );
  app.get('/items/special', async () => ({ special: true }));
  app.get('/internal', { schema: { hide: true } }, async () => ({}));
  // Bare schemas, as fastify takes them: a JSON body, and for an error the shared problem.
  app.get('/bare', { schema: { response: { 200: ITEM, 404: { type: 'object' } } } }, async () => ({
    id: 'x',
  }));
};

describe('the OpenAPI document of a server', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await createHttpServer({
      logger: silentLogger(),
      metrics: createMetricsRegistry({ processMetrics: false }),
      database: { query: async () => [] },
      plugins: [routes],
    });
  });
  afterAll(() => app?.close());

  const document = async () => {
    const response = await app.inject({ url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    return response.json();
  };

  it('maps each route: path template, parameters, body, security, and only the schemes used', async () => {
    const served = await document();
    expect(served.openapi).toBe('3.1.0');
    expect(Object.keys(served.paths)).toEqual([
      '/bare',
      '/healthz',
      '/items',
      '/items/special',
      '/items/{id}',
      '/metrics',
      '/readyz',
    ]);
    const list = served.paths['/items'].get;
    expect(list).toMatchObject({ summary: 'list items', tags: ['items'] });
    expect(list.security).toEqual([{ adminToken: [] }]);
    expect(list.parameters).toEqual([
      {
        name: 'q',
        in: 'query',
        description: 'what to find',
        required: true,
        schema: { type: 'string', description: 'what to find' },
      },
    ]);
    const put = served.paths['/items/{id}'].put;
    expect(put.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    expect(put.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: ITEM } },
    });
    expect(put.security).toEqual([]);
    expect(Object.keys(served.components.securitySchemes)).toEqual(['adminToken']);
  });

  it('adds the problems the shared server answers, as references to one Problem schema', async () => {
    const served = await document();
    // query parameters: 400 and 431; path parameter and body: 400, 413, 414, 415.
    expect(Object.keys(served.paths['/items'].get.responses)).toEqual(['200', '400', '431']);
    const put = served.paths['/items/{id}'].put.responses;
    expect(Object.keys(put)).toEqual(['200', '400', '404', '413', '414', '415']);
    expect(put['404'].content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    });
    expect(served.components.schemas.Problem.required).toEqual(['type', 'title', 'status']);
    expect(served.paths['/readyz'].get.responses['503'].headers['retry-after'].required).toBe(true);
    const bare = served.paths['/bare'].get.responses;
    expect(bare['200']).toEqual({
      description: 'OK',
      content: { 'application/json': { schema: ITEM } },
    });
    expect(bare['404']).toEqual(put['404']);
  });

  it('leaves out hidden routes, HEAD routes and itself, and is the same every time', async () => {
    const served = await document();
    expect(served.paths['/internal']).toBeUndefined();
    expect(served.paths['/openapi.json']).toBeUndefined();
    expect(Object.keys(served.paths['/healthz'])).toEqual(['get']);
    expect(await document()).toEqual(served);
  });

  it('answers a method a path does not have with 405 and Allow, the static path winning', async () => {
    const wrong = await app.inject({ method: 'DELETE', url: '/items/special' });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('GET, HEAD');
    expect(wrong.headers['content-type']).toMatch(/^application\/problem\+json/);
    const other = await app.inject({ method: 'POST', url: '/items/abc' });
    expect(other.statusCode).toBe(405);
    expect(other.headers.allow).toBe('PUT');
    // 405 is decided before the body is read: a body of any media type gets it.
    const withBody = await app.inject({
      method: 'PATCH',
      url: '/items',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(withBody.statusCode).toBe(405);
    expect((await app.inject({ method: 'GET', url: '/nothing' })).statusCode).toBe(404);
  });

  it('answers URLs the router refuses with problems: 414 for a long segment, 400 for bad escapes', async () => {
    const long = await app.inject({ method: 'PUT', url: `/items/${'a'.repeat(300)}` });
    expect(long.statusCode).toBe(414);
    expect(long.json()).toMatchObject({ status: 414, detail: expect.stringMatching(/256/) });
    const escaped = await app.inject({ method: 'PUT', url: '/items/%zz' });
    expect(escaped.statusCode).toBe(400);
    expect(escaped.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers headers over 16 KiB with a 431 problem', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; type: string; body: string }>(
      (resolve, reject) => {
        const call = request(
          { host: '127.0.0.1', port, path: '/healthz', headers: { 'x-big': 'a'.repeat(20_000) } },
          (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => {
              body += chunk.toString();
            });
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                type: String(response.headers['content-type']),
                body,
              }),
            );
          },
        );
        call.on('error', reject);
        call.end();
      },
    );
    expect(answer.status).toBe(431);
    expect(answer.type).toBe('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({ status: 431, title: expect.any(String) });
  });
});
