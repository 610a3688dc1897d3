import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { adminKubectl, clusterRequest, installCrds } from './cluster.js';

// deploy/ rendered into a namespace of this test's own (other files install deploy/ itself), its
// Namespace created for real, everything else sent as a server-side dry run.
const NAMESPACE = 'install-check';

/** A Deployment in `namespace` whose pod template (no securityContext) breaks the restricted standard. */
const unconfined = (namespace: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'unconfined', namespace },
    spec: {
      selector: { matchLabels: { app: 'unconfined' } },
      template: {
        metadata: { labels: { app: 'unconfined' } },
        spec: {
          containers: [{ name: 'c', image: 'busybox' }],
        },
      },
    },
  });

describe('deploy/ on a real kube-apiserver', () => {
  let overlay = '';
  let rendered = '';

  beforeAll(async () => {
    await installCrds();
    overlay = await mkdtemp(join(tmpdir(), 'fleet-rollout-install-'));
    await writeFile(
      join(overlay, 'kustomization.yaml'),
      `namespace: ${NAMESPACE}\nresources:\n  - ${relative(overlay, resolve('deploy'))}\n`,
    );
    rendered = (await adminKubectl(['kustomize', overlay])).stdout;
    const namespace = parseAllDocuments(rendered)
      .map((document) => document.toJS())
      .find((object) => object.kind === 'Namespace');
    await adminKubectl(['apply', '-f', '-'], JSON.stringify(namespace));
  });

  afterAll(async () => {
    await rm(overlay, { recursive: true, force: true });
  });

  it('puts its namespace under the restricted Pod Security Standard', async () => {
    const { text } = await clusterRequest('GET', `/api/v1/namespaces/${NAMESPACE}`);
    expect(JSON.parse(text).metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
  });

  it('is accepted whole by a server-side dry run, with no warning', async () => {
    const applied = await adminKubectl(
      ['apply', '--dry-run=server', '--validate=strict', '-f', '-'],
      rendered,
    );
    expect(applied.stderr).toBe('');
    const kinds = parseAllDocuments(rendered).map((document) => document.toJS().kind);
    expect(applied.stdout.trim().split('\n')).toHaveLength(kinds.length);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'PodDisruptionBudget', 'Role']));
  });

  it('has pod templates that PodSecurity restricted passes (and flags one without a securityContext)', async () => {
    const flagged = await adminKubectl(
      ['apply', '--dry-run=server', '-f', '-'],
      unconfined(NAMESPACE),
    );
    expect(flagged.stderr).toContain('would violate PodSecurity "restricted:latest"');
    const deployments = parseAllDocuments(rendered)
      .map((document) => document.toJS())
      .filter((object) => object.kind === 'Deployment');
    for (const deployment of deployments) {
      const checked = await adminKubectl(
        ['apply', '--dry-run=server', '-f', '-'],
        JSON.stringify(deployment),
      );
      expect(checked.stderr, deployment.metadata.name).toBe('');
    }
  });
});
