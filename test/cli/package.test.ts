import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER } from '../../src/db/client.js';

const run = promisify(execFile);
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));

describe('npm package', () => {
  it('packs the binary, the compiled code and the files it reads at run time, and no sources', async () => {
    // --ignore-scripts: the prepack build is checked below, not run here.
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      timeout: 120_000,
    });
    const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const files = pack.files.map((file) => file.path);
    expect(files).toContain('package.json');
    expect(files).toContain(manifest.bin['fleet-rollout']);
    expect(files).toContain(manifest.bin['kubectl-fleet']);
    expect(files).toContain('bin/launch.js');
    // What src/db/client.ts (migrations) and src/apiserver/schema/load.ts (CRDs) read.
    expect(files).toContain('drizzle/meta/_journal.json');
    expect(files.filter((file) => /^drizzle\/\d{4}_.*\.sql$/.test(file)).length).toBeGreaterThan(0);
    expect(MIGRATIONS_FOLDER.endsWith('/drizzle')).toBe(true);
    expect(files.some((file) => /^crds\/.+\.yaml$/.test(file))).toBe(true);
    expect(files.filter((file) => /^(src|test|bench|scripts)\//.test(file))).toEqual([]);
    // The binaries run dist/main.js and dist/plugin/main.js when installed: `files` ships them
    // and prepack builds them.
    expect(manifest.files).toContain('dist/');
    expect(manifest.scripts.prepack).toBe('npm run build');
    expect(manifest.scripts.build).toBe('tsc -p tsconfig.build.json');
    const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8'));
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
  });
});
