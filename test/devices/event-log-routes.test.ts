import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';
import { ADMIN, startDeviceApi, type TestDeviceApi } from '../support/device-api.js';

type Entry = { id: number; type: string; subject: string; time: string; payload: object };
type Page = { items: Entry[]; continue?: string };

const ROLLOUT = randomUUID();
const OTHER_ROLLOUT = randomUUID();
const DEVICE_1 = randomUUID();
const DEVICE_2 = randomUUID();
const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/**
 * The log the tests read: a webhook delivery, two rollouts of policy `web` in `default` (one of
 * them with batches 1 and 3 started, 2 with 3), a rollout of a policy `web` in another
 * namespace, device entries, and 30 filler entries of which pairs share a timestamp.
 */
const LOG: Array<[string, string, Record<string, unknown>, number]> = [
  ['image.webhook_received', 'dockerhub', { pushes: ['nginx:1.28'] }, 0],
  ['image.rollout_created', 'default/web-1-28', { policy: 'web', tag: '1.28' }, 1],
  ['image.rollout_started', 'default/web-1-28', { rollout: ROLLOUT, policy: 'web' }, 2],
  ['image.device_scheduled', 'default/web-1-28', { rollout: ROLLOUT, policy: 'web', batch: 1 }, 3],
  ['image.device_scheduled', 'default/web-1-28', { rollout: ROLLOUT, policy: 'web', batch: 3 }, 4],
  ['image.rollout_created', 'staging/web-1-28', { policy: 'web', tag: '1.28' }, 5],
  [
    'image.device_scheduled',
    'staging/web-1-28',
    { rollout: OTHER_ROLLOUT, policy: 'web', batch: 1 },
    6,
  ],
  ['device.key_rotated', DEVICE_1, { uuid: DEVICE_1, fleet: 'f' }, 7],
  ['image.rollout_created', 'default/api-2-0', { policy: 'api', tag: '2.0' }, 8],
  ...Array.from({ length: 30 }, (_, i): [string, string, Record<string, unknown>, number] => [
    'image.batch_completed',
    'default/filler',
    { policy: 'filler', i },
    100 + Math.floor(i / 2),
  ]),
];

describe.each(databaseBackends)('event-log read API on %s', (backend) => {
  let test: TestDatabase;
  let server: TestDeviceApi;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    server = await startDeviceApi(test.database);
    for (const [type, subject, payload, seconds] of LOG) {
      await test.database.db.execute(
        sql`insert into events (type, subject, payload, created_at)
            values (${type}, ${subject}, ${JSON.stringify(payload)}::jsonb, ${at(seconds)})`,
      );
    }
    for (const [uid, namespace] of [
      [ROLLOUT, 'default'],
      [OTHER_ROLLOUT, 'staging'],
    ]) {
      await test.database.db.execute(
        sql`insert into rollout_targets (uid, namespace, name, repository, image)
            values (${uid}, ${namespace}, 'web-1-28', 'docker.io/library/nginx',
              'docker.io/library/nginx:1.28')`,
      );
    }
    // DEVICE_1 is in batch 1 of ROLLOUT, DEVICE_2 in batch 2 (scheduled by the batch-3 entry)
    // and in batch 1 of OTHER_ROLLOUT.
    for (const [rollout, device, batch] of [
      [ROLLOUT, DEVICE_1, 1],
      [ROLLOUT, DEVICE_2, 2],
      [OTHER_ROLLOUT, DEVICE_2, 1],
    ] as const) {
      await test.database.db.execute(
        sql`insert into rollout_members (rollout_uid, device_uuid, rank, batch, from_etag,
              to_etag, previous)
            values (${rollout}, ${device}, ${batch}, ${batch}, 'a', 'b', '{}'::jsonb)`,
      );
    }
  });
  afterAll(async () => {
    await server?.close();
    await test?.drop();
  });

  const get = (query: string, headers: Record<string, string> = ADMIN) =>
    server.app.inject({ url: `/api/v1/events${query}`, headers });
  const page = async (query: string): Promise<Page> => {
    const answer = await get(query);
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json();
  };
  /** Every entry the query matches, page by page; and how many pages it took. */
  const all = async (query: string, limit: number) => {
    const items: Entry[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const next = `?${query}&limit=${limit}${token ? `&continue=${token}` : ''}`;
      const answer = await page(next);
      items.push(...answer.items);
      token = answer.continue;
      pages++;
    } while (token !== undefined && pages < 100);
    return { items, pages };
  };
  const pairs = (items: Entry[]) => items.map((e) => [e.type, e.subject]);

  it('pages through the whole log oldest first, each entry once', async () => {
    const { items, pages } = await all('', 7);
    expect(pages).toBe(Math.ceil(LOG.length / 7));
    expect(pairs(items)).toEqual(LOG.map(([type, subject]) => [type, subject]));
    expect(new Set(items.map((e) => e.id)).size).toBe(LOG.length);
    expect(items[0]?.time).toBe('2026-03-01T10:00:00.000000Z');
    expect(items[0]?.payload).toEqual({ pushes: ['nginx:1.28'] });
  });

  it('pages inside entries that share a timestamp without losing or repeating one', async () => {
    const { items, pages } = await all('policy=default/filler', 3);
    expect(pages).toBe(10);
    expect(items.map((e) => (e.payload as { i: number }).i)).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    );
  });

  it.each<[string, string, Array<[string, string]>]>([
    [
      'a rollout',
      'rollout=default/web-1-28',
      [
        ['image.rollout_created', 'default/web-1-28'],
        ['image.rollout_started', 'default/web-1-28'],
        ['image.device_scheduled', 'default/web-1-28'],
        ['image.device_scheduled', 'default/web-1-28'],
      ],
    ],
    [
      'a policy (not its namesake in another namespace)',
      'policy=default/web',
      [
        ['image.rollout_created', 'default/web-1-28'],
        ['image.rollout_started', 'default/web-1-28'],
        ['image.device_scheduled', 'default/web-1-28'],
        ['image.device_scheduled', 'default/web-1-28'],
      ],
    ],
    [
      'a device: its own entries and the batch start that scheduled it',
      `device=${DEVICE_1.toUpperCase()}`,
      [
        ['image.device_scheduled', 'default/web-1-28'],
        ['device.key_rotated', DEVICE_1],
      ],
    ],
    [
      'a device of a batch started together with a later one, in two rollouts',
      `device=${DEVICE_2}`,
      [
        ['image.device_scheduled', 'default/web-1-28'],
        ['image.device_scheduled', 'staging/web-1-28'],
      ],
    ],
    [
      'a type',
      'type=image.rollout_created',
      [
        ['image.rollout_created', 'default/web-1-28'],
        ['image.rollout_created', 'staging/web-1-28'],
        ['image.rollout_created', 'default/api-2-0'],
      ],
    ],
    [
      'a time range: since inclusive, until exclusive',
      `since=${at(4)}&until=${encodeURIComponent('2026-03-01T11:00:06+01:00')}`,
      [
        ['image.device_scheduled', 'default/web-1-28'],
        ['image.rollout_created', 'staging/web-1-28'],
      ],
    ],
    [
      'filters together',
      `policy=default/web&type=image.device_scheduled&since=${at(4)}`,
      [['image.device_scheduled', 'default/web-1-28']],
    ],
    ['nothing', `rollout=default/none&device=${randomUUID()}`, []],
  ])('filters by %s', async (_name, query, expected) => {
    const { items } = await all(query, 2);
    expect(pairs(items)).toEqual(expected);
  });

  it('gives a device the batch start that scheduled it, not the ones before or after', async () => {
    const batches = async (device: string) =>
      (await page(`?device=${device}&type=image.device_scheduled`)).items.map(
        (e) => (e.payload as { batch: number }).batch,
      );
    expect(await batches(DEVICE_1)).toEqual([1]);
    expect(await batches(DEVICE_2)).toEqual([3, 1]);
  });

  it.each<[string, string, string, string]>([
    ['a rollout without namespace', '?rollout=web', 'querystring/rollout', 'namespace/name'],
    ['an upper-case policy', '?policy=Default/Web', 'querystring/policy', 'namespace/name'],
    ['a time without zone', '?since=2026-03-01T10:00:00', 'querystring/since', 'RFC 3339'],
    ['a date only', '?until=2026-03-01', 'querystring/until', 'RFC 3339'],
    ['an impossible time', '?since=2026-13-45T10:00:00Z', 'querystring/since', 'RFC 3339'],
    [
      'until not after since',
      `?since=${at(5)}&until=${at(5)}`,
      'querystring/until',
      'must be after since',
    ],
    ['year 0', '?since=0000-01-01T00:00:00Z', 'querystring/since', 'from year 1'],
    ['a forged continue token', '?continue=bm90LWpzb24', 'querystring/continue', 'not a continue'],
    [
      'a continue token with an impossible time',
      `?continue=${Buffer.from(JSON.stringify(['2026-02-31T00:00:00.000000Z', 1])).toString('base64url')}`,
      'querystring/continue',
      'not a continue',
    ],
    ['a limit of 0', '?limit=0', 'querystring/limit', 'must match pattern'],
    ['a limit that is no number', '?limit=ten', 'querystring/limit', 'must match pattern'],
    ['a device that is no uuid', '?device=pi-1', 'querystring/device', 'must match pattern'],
    ['a type with spaces', '?type=image%20x', 'querystring/type', 'must match pattern'],
    ['an unknown filter', '?fleet=a', 'querystring', 'must NOT have additional properties'],
  ])('refuses %s with a 400 problem naming the field', async (_name, query, path, message) => {
    const answer = await get(query);
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = answer.json();
    expect(problem).toMatchObject({ status: 400, title: 'Invalid request' });
    expect(problem.errors).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('names every bad filter at once', async () => {
    const answer = await get('?rollout=x&since=yesterday');
    expect(answer.json().errors.map((e: { path: string }) => e.path)).toEqual([
      'querystring/rollout',
      'querystring/since',
    ]);
  });

  it('needs the admin token', async () => {
    expect((await get('', {})).statusCode).toBe(401);
    expect((await get('', { authorization: 'Bearer nope' })).statusCode).toBe(401);
  });
});
