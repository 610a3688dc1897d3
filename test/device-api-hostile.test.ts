import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/db/rows.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from './support/database.js';
import {
  ADMIN,
  appsWith,
  poll,
  register,
  startDeviceApi,
  type TestDeviceApi,
} from './support/device-api.js';

type Device = { uuid: string; apiKey: string };
type Route = 'register' | 'target' | 'report' | 'rotate';

/** The messages of a value and of a key holding a NUL or an unpaired surrogate. */
const NUL = 'must not contain a NUL character';
const LONE = 'must not contain an unpaired surrogate';
const KEY_NUL = `property name ${NUL}`;
const KEY_LONE = `property name ${LONE}`;
const HIGH = '\ud800';
const LOW = '\udc00';

/** A service whose settings hold `extra` next to a valid image. */
const appsWithSetting = (extra: Record<string, unknown>) => ({
  app: { services: { main: { image: 'nginx:1.27', ...extra } } },
});
const reportOf = (uuid: string, service: Record<string, unknown>) => ({
  [uuid]: { apps: { app: { services: { main: service } } } },
});

/**
 * Bodies Postgres cannot store (NUL, unpaired surrogates), in values and in keys, on every
 * device-API route that reads a body: the route, the body, the field the answer must name, the message.
 */
const CASES: Array<[string, Route, (device: Device) => unknown, string, string]> = [
  ['a NUL in a fleet name', 'register', () => ({ fleet: 'lab\u0000' }), 'body/fleet', NUL],
  [
    'a NUL in a label value',
    'register',
    () => ({ fleet: 'lab', labels: { site: 'north\u0000' } }),
    'body/labels/site',
    NUL,
  ],
  [
    'a NUL in a label key',
    'register',
    () => ({ fleet: 'lab', labels: { 'si\u0000te': 'north' } }),
    'body/labels/si\\u0000te',
    KEY_NUL,
  ],
  [
    'a lone high surrogate in a label value',
    'register',
    () => ({ fleet: 'lab', labels: { site: `north${HIGH}` } }),
    'body/labels/site',
    LONE,
  ],
  [
    'a lone low surrogate in a label key',
    'register',
    () => ({ fleet: 'lab', labels: { [`site${LOW}`]: 'north' } }),
    'body/labels/site\\udc00',
    KEY_LONE,
  ],
  [
    'a NUL in an app name',
    'register',
    () => ({ fleet: 'lab', apps: { 'a\u0000pp': { services: {} } } }),
    'body/apps/a\\u0000pp',
    KEY_NUL,
  ],
  [
    'a NUL in a service setting',
    'register',
    () => ({ fleet: 'lab', apps: appsWithSetting({ env: 'A=\u0000' }) }),
    'body/apps/app/services/main/env',
    NUL,
  ],
  [
    'a lone high surrogate in an image',
    'register',
    () => ({ fleet: 'lab', apps: { app: { services: { main: { image: `nginx${HIGH}` } } } } }),
    'body/apps/app/services/main/image',
    LONE,
  ],
  [
    'a lone low surrogate in a service setting key',
    'register',
    () => ({ fleet: 'lab', apps: appsWithSetting({ [`e${LOW}nv`]: 'x' }) }),
    'body/apps/app/services/main/e\\udc00nv',
    KEY_LONE,
  ],
  [
    'a NUL in a service name',
    'target',
    () => ({ apps: { app: { services: { 'ma\u0000in': { image: 'nginx' } } } } }),
    'body/apps/app/services/ma\\u0000in',
    KEY_NUL,
  ],
  [
    'a lone low surrogate in a service setting',
    'target',
    () => ({ apps: appsWithSetting({ env: [`A=${LOW}`] }) }),
    'body/apps/app/services/main/env/0',
    LONE,
  ],
  [
    'a NUL in a setting key of an app',
    'target',
    () => ({ apps: { app: { services: {}, 'x\u0000': 1 } } }),
    'body/apps/app/x\\u0000',
    KEY_NUL,
  ],
  [
    'a NUL in a reported status',
    'report',
    ({ uuid }) => reportOf(uuid, { image: 'nginx', status: 'running\u0000' }),
    'body/{uuid}/apps/app/services/main/status',
    NUL,
  ],
  [
    'a lone high surrogate in a reported image',
    'report',
    ({ uuid }) => reportOf(uuid, { image: `nginx${HIGH}` }),
    'body/{uuid}/apps/app/services/main/image',
    LONE,
  ],
  [
    'a lone low surrogate in a reported field name',
    'report',
    ({ uuid }) => reportOf(uuid, { image: 'nginx', [`extra${LOW}`]: 1 }),
    'body/{uuid}/apps/app/services/main/extra\\udc00',
    KEY_LONE,
  ],
  [
    'a NUL in the reported device key',
    'report',
    ({ uuid }) => ({ [`${uuid}\u0000`]: { apps: {} } }),
    'body/{uuid}\\u0000',
    KEY_NUL,
  ],
  [
    'a lone high surrogate in a key rotation body',
    'rotate',
    () => ({ reason: HIGH }),
    'body/reason',
    LONE,
  ],
];

describe.each(databaseBackends)('device API against hostile text on %s', (backend) => {
  let test: TestDatabase;
  let server: TestDeviceApi;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    server = await startDeviceApi(test.database);
  });
  afterAll(async () => {
    await server?.close();
    await test?.drop();
  });

  function send(route: Route, device: Device, body: unknown) {
    const payload = body as object;
    const devices = `/api/v1/devices/${device.uuid}`;
    switch (route) {
      case 'register':
        return server.app.inject({
          method: 'POST',
          url: '/api/v1/devices',
          headers: ADMIN,
          payload,
        });
      case 'target':
        return server.app.inject({
          method: 'PUT',
          url: `${devices}/target`,
          headers: ADMIN,
          payload,
        });
      case 'rotate':
        return server.app.inject({
          method: 'POST',
          url: `${devices}/key`,
          headers: ADMIN,
          payload,
        });
      case 'report':
        return server.app.inject({
          method: 'PATCH',
          url: '/api/v1/device/state',
          headers: { authorization: `Bearer ${device.apiKey}` },
          payload,
        });
    }
  }

  /** Everything a request could have written: devices, events, and this device as admins see it. */
  async function stored(device: Device) {
    const [counts] = await queryRows<{ devices: number; events: number }>(
      test.database.db,
      sql`select (select count(*)::int from devices) as devices,
                 (select count(*)::int from events) as events`,
    );
    const shown = await server.app.inject({
      url: `/api/v1/devices/${device.uuid}`,
      headers: ADMIN,
    });
    return { counts, device: shown.json(), polled: (await poll(server.app, device)).statusCode };
  }

  it.each(CASES)(
    '%s → 400 naming the field, nothing stored',
    async (_case, route, body, at, why) => {
      const device = await register(server.app, { apps: appsWith('nginx:1.27') });
      const before = await stored(device);
      const response = await send(route, device, body(device));
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const path = at.replace('{uuid}', device.uuid);
      expect(response.json()).toEqual({
        type: 'about:blank',
        title: 'Invalid request',
        status: 400,
        detail: `${path} ${why}`,
        errors: [{ path, message: why }],
      });
      expect(response.body).not.toMatch(/\n\s+at |\.ts:\d+/);
      expect(await stored(device)).toEqual(before);
    },
  );
});
