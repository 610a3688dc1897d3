import { execFile } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateToken, writeKubeconfig } from '../../src/apiserver/kubeconfig.js';
import { loadOrCreateCertificate } from '../../src/apiserver/tls.js';
import { openDatabase } from '../../src/db/client.js';
import { resolveAdminToken } from '../../src/devices/admin-token.js';
import { silentLogger } from '../../src/telemetry/logger.js';

/** Every path under `dir` (itself included) whose mode is not 0700 (directories) or 0600. */
function notPrivate(dir: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    const stats = lstatSync(path);
    const mode = stats.mode & 0o777;
    if (stats.isDirectory()) {
      if (mode !== 0o700) found.push(`${path} ${mode.toString(8)}`);
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (mode !== 0o600) found.push(`${path} ${mode.toString(8)}`);
  };
  visit(dir);
  return found;
}

/** Files under `dir`, to show the check looked at PGlite's files. */
const fileCount = (dir: string): number =>
  readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
    .length;

describe('the data directory', () => {
  let root: string;
  let umask: number;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fleet-rollout-private-'));
    // A permissive umask, as a shell or a container may have: privacy must not depend on it.
    umask = process.umask(0o000);
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('is 0700 with 0600 files, PGlite files included, with a configured admin token', async () => {
    const dataDir = join(root, 'data');
    const database = await openDatabase({ url: undefined, dataDir, logger: silentLogger() });
    try {
      await database.migrate();
      await resolveAdminToken('a-configured-admin-token', dataDir);
      const token = await loadOrCreateToken(dataDir);
      const tls = await loadOrCreateCertificate(join(dataDir, 'apiserver'), ['localhost']);
      await writeKubeconfig(join(dataDir, 'kubeconfig'), {
        server: 'https://127.0.0.1:6443',
        token,
        certificate: tls.cert,
      });
      expect(fileCount(join(dataDir, 'pglite'))).toBeGreaterThan(500);
      expect(notPrivate(dataDir)).toEqual([]);
    } finally {
      await database.close();
    }
    expect(notPrivate(dataDir)).toEqual([]);
    const reopened = await openDatabase({ url: undefined, dataDir, logger: silentLogger() });
    expect(notPrivate(dataDir)).toEqual([]);
    await reopened.close();
    expect(notPrivate(dataDir)).toEqual([]);
  });

  it('is made private again when an earlier version left it readable', async () => {
    const dataDir = join(root, 'data');
    mkdirSync(join(dataDir, 'apiserver'), { recursive: true, mode: 0o755 });
    writeFileSync(join(dataDir, 'apiserver-token'), 'an-old-token\n', { mode: 0o644 });
    writeFileSync(join(dataDir, 'kubeconfig'), 'old', { mode: 0o666 });
    chmodSync(dataDir, 0o755);
    const database = await openDatabase({ url: undefined, dataDir, logger: silentLogger() });
    await database.close();
    expect(notPrivate(dataDir)).toEqual([]);
  });

  it('writes a generated admin token 0600 into a 0700 directory', async () => {
    const dataDir = join(root, 'tokens');
    const { file } = await resolveAdminToken(undefined, dataDir);
    expect(file).toBe(join(dataDir, 'admin-token'));
    expect(notPrivate(dataDir)).toEqual([]);
  });

  it('is private after `fleet-rollout migrate` from a permissive shell', async () => {
    const dataDir = join(root, 'cli');
    const run = promisify(execFile);
    await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate'], {
      env: { ...process.env, FLEET_ROLLOUT_DATA_DIR: dataDir, DATABASE_URL: '' },
    });
    expect(fileCount(dataDir)).toBeGreaterThan(500);
    expect(notPrivate(dataDir)).toEqual([]);
  }, 120_000);
});
