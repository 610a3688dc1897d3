import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../src/db/client.js';
import { createDatabase, dropDatabase } from '../src/db/databases.js';
import { generateApiKey, hashApiKey } from '../src/devices/credentials.js';
import { quoteEtag } from '../src/devices/device-cache.js';
import { etagOf, type TargetApps } from '../src/devices/target-document.js';

const DEFAULT_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const BENCH_FLEET = 'bench';

/** The database a benchmark runs on, and how to leave it as it was. */
export interface BenchDatabase {
  url: string;
  label: string;
  /** Leaves the server as it was and closes `database`. */
  cleanup(database: Database): Promise<void>;
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
      cleanup: async (database) => {
        await database.query(sql`delete from devices where fleet = ${BENCH_FLEET}`);
        await database.close();
      },
    };
  }
  const name = `fleet_rollout_bench_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(DEFAULT_SERVER, name);
  return {
    url,
    label: `fresh ${name}`,
    cleanup: async (database) => {
      await database.close();
      await dropDatabase(DEFAULT_SERVER, name);
    },
  };
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
