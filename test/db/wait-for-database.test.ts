import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { migrateWhenReachable } from '../../src/db/wait-for-database.js';

/** A database whose migrate() fails with each of `errors` in turn, then succeeds. */
function failingThen(errors: Error[]): { database: Database; calls: () => number } {
  let calls = 0;
  const database = {
    async migrate() {
      const error = errors[calls++];
      if (error) throw error;
    },
  } as unknown as Database;
  return { database, calls: () => calls };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('migrateWhenReachable', () => {
  it('waits out an unreachable database with one warning and one line when it answers', async () => {
    const lines: Array<{ msg: string; level: number }> = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    );
    const { database, calls } = failingThen([refused(), refused(), refused()]);
    await migrateWhenReachable(database, logger, { random: () => 1 });
    expect(calls()).toBe(4);
    expect(lines.map((line) => line.msg)).toEqual([
      'database unreachable; waiting for it',
      'database reachable; starting',
    ]);
  });

  it('throws at once what no wait can fix (a failed migration)', async () => {
    const broken = Object.assign(new Error('relation "devices" already exists'), { code: '42P07' });
    const { database, calls } = failingThen([broken]);
    await expect(migrateWhenReachable(database, pino({ level: 'silent' }))).rejects.toBe(broken);
    expect(calls()).toBe(1);
  });

  it('stops waiting when aborted', async () => {
    const { database } = failingThen(Array.from({ length: 100 }, refused));
    const signal = AbortSignal.timeout(50);
    await expect(
      migrateWhenReachable(database, pino({ level: 'silent' }), { signal }),
    ).rejects.toThrow();
  });
});
