import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Database } from '../src/db/client.js';
import { generateApiKey, hashApiKey } from '../src/devices/credentials.js';
import { quoteEtag } from '../src/devices/device-cache.js';
import { etagOf, type TargetApps } from '../src/devices/target-document.js';

const DEFAULT_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const BENCH_FLEET = 'bench';

/** The database a benchmark runs on, and how to leave it as it was. */
export interface BenchDatabase {
  url: string;
  label: string;
  cleanup(): Promise<void>;
}

/**
 * BENCH_DATABASE_URL or DATABASE_URL as given (the bench's devices are deleted afterwards), or a
 * fresh database on the local server, dropped afterwards.
 */
export async function benchDatabase(): Promise<BenchDatabase> {
  const given = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
  if (given) {
    return {
      url: given,
      label: 'given',
      cleanup: async () => {
        await withClient(given, (c) =>
          c.query('delete from devices where fleet = $1', [BENCH_FLEET]),
        );
      },
    };
  }
  const name = `fleet_rollout_bench_${randomBytes(4).toString('hex')}`;
  await withClient(DEFAULT_SERVER, (client) => client.query(`create database ${name}`));
  const url = new URL(DEFAULT_SERVER);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    label: `fresh ${name}`,
    cleanup: async () => {
      await withClient(DEFAULT_SERVER, (client) =>
        client.query(`drop database if exists ${name} with (force)`),
      );
    },
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A seeded device: what a real device would hold (its key and current ETag, quoted). */
export interface SeededDevice {
  uuid: string;
  key: string;
  etag: string;
}

/** Bulk-inserts `count` devices with targets (100 distinct documents), 10k rows per statement. */
export async function seedDevices(database: Database, count: number): Promise<SeededDevice[]> {
  const documents = Array.from(
    { length: 100 },
    (_, i): TargetApps => ({
      web: { services: { nginx: { image: `docker.io/library/nginx:1.${i}` } } },
    }),
  );
  const etags = documents.map(etagOf);
  const seeded: SeededDevice[] = [];
  for (let start = 0; start < count; start += 10_000) {
    const rows: Array<{ uuid: string; key_hash: string; apps: unknown; etag: unknown }> = [];
    for (let i = start; i < Math.min(start + 10_000, count); i++) {
      const uuid = randomUUID();
      const key = generateApiKey();
      const doc = i % documents.length;
      rows.push({ uuid, key_hash: hashApiKey(key), apps: documents[doc], etag: etags[doc] });
      seeded.push({ uuid, key, etag: quoteEtag(etags[doc] as string) });
    }
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into devices (uuid, fleet, api_key_hash)
        select x.uuid, ${BENCH_FLEET}, x.key_hash
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(uuid uuid, key_hash text)`);
      await tx.execute(sql`insert into device_targets (device_uuid, apps, etag)
        select x.uuid, x.apps, x.etag
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(uuid uuid, apps jsonb, etag text)`);
    });
  }
  return seeded;
}
