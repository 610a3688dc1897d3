import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, dropDatabase } from '../../src/db/databases.js';
import { ADMIN_TOKEN } from '../support/device-api.js';
import {
  type ProductServer,
  servedDocument,
  startProductServer,
} from '../support/product-server.js';
import { TEST_ENV, TEST_SECRETS } from '../support/webhook-receiver.js';

/*
 * The OpenAPI document of the product: the one served by `fleet-rollout start` (every API on one
 * port) must equal docs/openapi.json, and schemathesis (installed by scripts/test-tools.sh) fuzzes
 * every operation of it against the running product: no 5xx, every answer as documented.
 */

const CONFIG = new URL('./schemathesis.toml', import.meta.url).pathname;
const COMMITTED = new URL('../../docs/openapi.json', import.meta.url).pathname;
/** Generated requests per operation and phase; OPENAPI_FUZZ_EXAMPLES raises it for a longer hunt. */
const EXAMPLES = Number(process.env.OPENAPI_FUZZ_EXAMPLES ?? 15);
/** The seed of this run: FUZZ_SEED replays one, as for test/fuzz. */
const SEED = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : Math.floor(Math.random() * 2 ** 31);

/** A database of its own on the test Postgres (TEST_DATABASE_URL), else PGlite in the data dir. */
async function productDatabase() {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return { env: {} as Record<string, string>, drop: async () => {} };
  const name = `fleet_rollout_openapi_${randomBytes(6).toString('hex')}`;
  const url = await createDatabase(adminUrl, name);
  return { env: { DATABASE_URL: url }, drop: () => dropDatabase(adminUrl, name) };
}

describe(`the OpenAPI document (schemathesis seed ${SEED})`, () => {
  let server: ProductServer;
  let database: Awaited<ReturnType<typeof productDatabase>>;
  const device = { uuid: '', apiKey: '' };

  beforeAll(async () => {
    database = await productDatabase();
    server = await startProductServer({
      ...database.env,
      ...TEST_ENV,
      FLEET_ROLLOUT_ADMIN_TOKEN: ADMIN_TOKEN,
      // Long polls end after a second, so a generated `wait` does not hold the run.
      FLEET_ROLLOUT_MAX_LONG_POLL_SECONDS: '1',
      FLEET_ROLLOUT_WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000',
      FLEET_ROLLOUT_WEBHOOK_RATE_LIMIT_BURST: '1000000',
    });
    const registered = await fetch(`${server.url}/api/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        fleet: 'lab',
        apps: { web: { services: { app: { image: 'nginx:1' } } } },
      }),
    });
    expect(registered.status).toBe(201);
    Object.assign(device, await registered.json());
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('docs/openapi.json is the document the product serves', async () => {
    const served = JSON.parse(await servedDocument(server.url));
    const committed = JSON.parse(await readFile(COMMITTED, 'utf8'));
    expect(
      served,
      'docs/openapi.json differs from the routes: run `npm run openapi:sync` and commit it',
    ).toEqual(committed);
  });

  it('schemathesis finds no 5xx and no answer that differs from the document', async () => {
    console.log(`schemathesis seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const run = await schemathesis(server.url, {
      FLEET_ROLLOUT_ADMIN_TOKEN: ADMIN_TOKEN,
      OPENAPI_DEVICE_KEY: device.apiKey,
      OPENAPI_DEVICE_UUID: device.uuid,
      OPENAPI_WEBHOOK_BEARER: TEST_SECRETS.header,
    });
    const summary = run.output
      .split('\n')
      .filter((line) => /generated|passed|failures?|Seed/.test(line));
    console.log(`schemathesis: ${summary.join(' | ')}`);
    expect(run.code, `schemathesis (seed ${SEED}) failed:\n${run.output.slice(-20_000)}`).toBe(0);
  }, 600_000);
});

/**
 * Runs `schemathesis run` on the served document with every check, from a scratch folder (its
 * example database and reports stay out of the checkout); resolves with its exit code and output.
 */
async function schemathesis(url: string, env: Record<string, string>) {
  const cwd = await mkdtemp(join(tmpdir(), 'schemathesis-'));
  // biome-ignore format: one option per line
  const args = [
    '--config-file', CONFIG, 'run', `${url}/openapi.json`,
    '--checks', 'all',
    // Schemas cannot say everything a route checks (image reference and label selector
    // grammars, each registry's event format): a schema-valid request may rightly get a 400.
    '--exclude-checks', 'positive_data_acceptance',
    '--seed', String(SEED),
    '--max-examples', String(EXAMPLES),
    '--workers', '1',
    '--request-timeout', '30',
    '--generation-database', 'none',
    '--no-color',
  ];
  try {
    return await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        'schemathesis',
        args,
        { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = (error as NodeJS.ErrnoException | null)?.code ?? 0;
          const missing =
            code === 'ENOENT'
              ? 'schemathesis is not on the PATH: run `bash scripts/test-tools.sh`\n'
              : '';
          resolve({
            code: typeof code === 'number' ? code : 1,
            output: `${missing}${stdout}${stderr}`,
          });
        },
      );
    });
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}
