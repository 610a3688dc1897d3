import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clientOf, eventAbout } from '../support/apiserver.js';
import { eventually } from '../support/eventually.js';
import { kubectlFixture } from '../support/kubectl.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

const rolloutYaml = (name: string, extra = '') => `apiVersion: fleet.iotistic.io/v1alpha1
kind: ImageRollout
metadata:
  name: ${name}
${extra}spec:
  policyRef: {name: web-frontend}
  image: ghcr.io/acme/web-frontend
  tag: "2.0.0"
`;

describe('kubectl against the local API server', () => {
  const fixture = kubectlFixture();
  const kubectl = fixture.kubectl;
  /** Writes status through the status subresource with a merge patch. */
  const patchStatus = (name: string, status: object) =>
    kubectl().run([
      'patch',
      'iro',
      name,
      '--subresource=status',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ status }),
    ]);
  /** One field of an object, through `kubectl get -o jsonpath`. */
  const field = async (object: string, path: string) =>
    (await kubectl().run(['get', object, '-o', `jsonpath={${path}}`])).stdout;
  const file = async (name: string, text: string) => {
    const path = join(kubectl().home, name);
    await writeFile(path, text);
    return path;
  };

  it('is served by the kubectl matching /version', async () => {
    const version = await kubectl().run(['version', '-o', 'json']);
    expect(JSON.parse(version.stdout).serverVersion.gitVersion).toBe('v1.37.2');
  });

  it('applies the examples with client-side apply and default validation, and lists them with printer columns', async () => {
    const applied = await kubectl().run(['apply', '-f', EXAMPLES]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('imagepolicy.fleet.iotistic.io/web-frontend created');
    expect(applied.stdout).toContain(
      'imagerollout.fleet.iotistic.io/web-frontend-1-4-2-hotfix created',
    );
    const again = await kubectl().run(['apply', '-f', join(EXAMPLES, 'imagerollout.yaml')]);
    expect(again.stdout).toContain('unchanged');
    const listed = await kubectl().run(['get', 'imagerollouts']);
    const [header, row] = listed.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'NAME',
      'IMAGE',
      'TAG',
      'PHASE',
      'BATCH',
      'DEVICES',
      'UPDATED',
      'HEALTHY',
      'FAILED',
      'AGE',
    ]);
    expect(row).toMatch(
      /^web-frontend-1-4-2-hotfix\s+ghcr\.io\/acme\/web-frontend\s+1\.4\.2-hotfix\.1\s+\d+s$/,
    );
    const wide = await kubectl().run(['get', 'ipol', '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/^NAME\s+IMAGE/);
  });

  it('applies server-side', async () => {
    const path = await file('ssa.yaml', rolloutYaml('ssa-rollout'));
    const applied = await kubectl().run(['apply', '--server-side', '-f', path]);
    expect(applied.stdout.trim()).toBe(
      'imagerollout.fleet.iotistic.io/ssa-rollout serverside-applied',
    );
    const managers = await field('iro/ssa-rollout', '.metadata.managedFields[*].manager');
    expect(managers).toBe('kubectl');
  });

  it('patches the spec with a merge patch and the status through the status subresource', async () => {
    const merged = await kubectl().run([
      'patch',
      'iro',
      'ssa-rollout',
      '--type',
      'merge',
      '-p',
      '{"spec":{"paused":true}}',
    ]);
    expect(merged.stdout.trim()).toBe('imagerollout.fleet.iotistic.io/ssa-rollout patched');
    const status = { phase: 'Progressing', currentBatch: 1, devices: 40, updated: 4 };
    const patched = await patchStatus('ssa-rollout', status);
    expect(patched.code).toBe(0);
    const shown = await kubectl().run(['get', 'iro', 'ssa-rollout', '--no-headers']);
    expect(shown.stdout).toMatch(
      /ssa-rollout\s+ghcr\.io\/acme\/web-frontend\s+2\.0\.0\s+Progressing\s+1\s+40\s+4\s+/,
    );
    const generation = await field('iro/ssa-rollout', '.metadata.generation');
    expect(generation).toBe('2');
  });

  it('streams changes to kubectl get -w', async () => {
    const watch = kubectl().start(['get', 'imagerollouts', '-w']);
    await eventually(() => expect(watch.output()).toContain('ssa-rollout'), 10_000);
    await patchStatus('ssa-rollout', { phase: 'Paused' });
    await eventually(
      () => expect(watch.output()).toMatch(/ssa-rollout\s+\S+\s+2\.0\.0\s+Paused/),
      10_000,
    );
    expect(watch.output().match(/^NAME\s/gm)).toHaveLength(1);
    watch.stop();
  });

  it('describes an object with its events', async () => {
    const uid = await field('ipol/web-frontend', '.metadata.uid');
    const regarding = {
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImagePolicy',
      name: 'web-frontend',
      namespace: 'default',
      uid,
    };
    const event = eventAbout('web-frontend.selected', regarding, 'Selected 42 devices');
    expect(
      (
        await clientOf(fixture.server()).post(
          '/apis/events.k8s.io/v1/namespaces/default/events',
          event,
        )
      ).status,
    ).toBe(201);
    const described = await kubectl().run(['describe', 'imagepolicy', 'web-frontend']);
    expect(described.stdout).toMatch(/^Name:\s+web-frontend$/m);
    expect(described.stdout).toMatch(/Image:\s+ghcr\.io\/acme\/web-frontend/);
    expect(described.stdout).toMatch(
      /Normal\s+DevicesSelected\s+\d+s\s+fleet\.iotistic\.io\/controller\s+Selected 42 devices/,
    );
  });

  it('waits for the Ready condition', async () => {
    const wait = kubectl().start([
      'wait',
      '--for=condition=Ready',
      'iro/ssa-rollout',
      '--timeout=20s',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ready = {
      type: 'Ready',
      status: 'True',
      reason: 'Succeeded',
      message: 'done',
      lastTransitionTime: '2025-01-01T00:00:00Z',
    };
    await patchStatus('ssa-rollout', { conditions: [ready] });
    const result = await wait.done;
    expect(result.stdout.trim()).toBe('imagerollout.fleet.iotistic.io/ssa-rollout condition met');
  });

  it('deletes an object once its pending finalizer is removed', async () => {
    const path = await file(
      'held.yaml',
      rolloutYaml('held', '  finalizers: [fleet.iotistic.io/cleanup]\n'),
    );
    await kubectl().run(['apply', '-f', path]);
    const deletion = kubectl().start(['delete', 'iro', 'held', '--timeout=20s']);
    await eventually(async () => {
      const marked = await field('iro/held', '.metadata.deletionTimestamp');
      expect(marked).not.toBe('');
    }, 10_000);
    await kubectl().run([
      'patch',
      'iro',
      'held',
      '--type',
      'json',
      '-p',
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ]);
    const result = await deletion.done;
    expect(result.stdout.trim()).toBe(
      'imagerollout.fleet.iotistic.io "held" deleted from default namespace',
    );
    expect((await kubectl().run(['get', 'iro', 'held'])).stderr).toContain('NotFound');
  });

  it('prints the usual readable errors for invalid manifests', async () => {
    const bad = await file(
      'bad.yaml',
      `apiVersion: fleet.iotistic.io/v1alpha1
kind: ImagePolicy
metadata: {name: bad}
spec: {image: ghcr.io/acme/x, selector: {fleets: [a]}, strategy: {batches: [50, 10]}}
`,
    );
    const invalid = await kubectl().run(['apply', '-f', bad]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^The ImagePolicy "bad" is invalid: /);
    expect(invalid.stderr).toContain('spec.strategy.batches: Invalid value');
    const unknown = await file(
      'unknown.yaml',
      `apiVersion: fleet.iotistic.io/v1alpha1
kind: ImagePolicy
metadata: {name: unknown}
spec: {image: ghcr.io/acme/x, selector: {fleets: [a]}, bogus: 1}
`,
    );
    const strict = await kubectl().run(['apply', '-f', unknown]);
    expect(strict.stderr.trim()).toBe(
      `Error from server (BadRequest): error when creating "${unknown}": ImagePolicy in version "v1alpha1" cannot be handled as a ImagePolicy: strict decoding error: unknown field "spec.bogus"`,
    );
  });
});
