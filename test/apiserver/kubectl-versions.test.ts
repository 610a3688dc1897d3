import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kubectlFixture } from '../support/kubectl.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/staged-policy.yaml', import.meta.url));

/** The versioned kubectl binaries (`kubectl.1.NN`) that scripts/test-tools.sh puts on the PATH. */
function installedKubectls(): string[] {
  const dir = dirname(execFileSync('which', ['kubectl.1.30'], { encoding: 'utf8' }).trim());
  return readdirSync(dir)
    .filter((file) => /^kubectl\.1\.\d+$/.test(file))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]))
    .map((file) => join(dir, file));
}

describe('every installed kubectl version against the local API server', () => {
  const fixture = kubectlFixture();
  const binaries = installedKubectls();

  it("finds the versioned binaries from 1.29 to the control plane's own", () => {
    const names = binaries.map((binary) => binary.split('/').at(-1));
    expect(names).toEqual(expect.arrayContaining(['kubectl.1.29', 'kubectl.1.35', 'kubectl.1.37']));
  });

  it.each(binaries)(
    '%s creates a namespace, applies with default validation and server-side, and lists',
    async (binary) => {
      const namespace = binary.split('.').at(-1) as string;
      const created = await fixture
        .kubectl()
        .run(['create', 'namespace', `v${namespace}`], 30_000, binary);
      expect(created.stdout.trim()).toBe(`namespace/v${namespace} created`);
      const target = ['--namespace', `v${namespace}`];
      const applied = await fixture
        .kubectl()
        .run([...target, 'apply', '-f', EXAMPLE], 30_000, binary);
      expect(applied.stderr).toBe('');
      expect(applied.stdout.trim()).toBe('imagepolicy.fleet.iotistic.io/web-frontend created');
      const serverSide = await fixture
        .kubectl()
        .run(
          [...target, 'apply', '--server-side', '--force-conflicts', '-f', EXAMPLE],
          30_000,
          binary,
        );
      expect(serverSide.stdout.trim()).toBe(
        'imagepolicy.fleet.iotistic.io/web-frontend serverside-applied',
      );
      const listed = await fixture
        .kubectl()
        .run([...target, 'get', 'imagepolicies', '--no-headers'], 30_000, binary);
      expect(listed.stdout).toMatch(/^web-frontend\s+ghcr\.io\/acme\/web-frontend\s+/);
    },
  );
});
