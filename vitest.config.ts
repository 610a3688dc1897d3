import { execFileSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { defineConfig } from 'vitest/config';

// The folder where scripts/test-tools.sh links etcd, kube-apiserver and the kubectl versions
// comes first on the PATH of the global setups and of every test worker.
const toolsBin = execFileSync('bash', ['scripts/test-tools.sh', '--print-bin'], {
  encoding: 'utf8',
}).trim();
process.env.PATH = `${toolsBin}${delimiter}${process.env.PATH ?? ''}`;

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    env: {
      // scripts/test-postgres.sh serves this; set TEST_DATABASE_URL= (empty) for PGlite alone.
      TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          exclude: ['test/cluster/**', 'test/fault/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: ['test/cluster/global-setup.ts'],
          sequence: { groupOrder: 0 },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          // Processes of the product on a Postgres of its own, killed and restarted, and busy
          // loops loading the machine: see docs/fault-suite.md. It runs after the other tiers
          // (its load would slow them), one file at a time, each on a whole deployment.
          name: 'fault',
          include: ['test/fault/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
