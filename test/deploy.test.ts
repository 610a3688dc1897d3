import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config.js';

describe('deploy/device-api.yaml', () => {
  const documents = parseAllDocuments(readFileSync('deploy/device-api.yaml', 'utf8')).map((d) =>
    d.toJS(),
  );
  const deployment = documents.find((d) => d.kind === 'Deployment');
  const container = deployment?.spec.template.spec.containers[0];

  it('runs the device-api command with the variables it requires, probing our endpoints', () => {
    expect(documents.map((d) => d.kind)).toEqual(['Deployment', 'Service']);
    expect(container.args).toEqual(['device-api']);
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value?: string }) => [
        e.name,
        e.value ?? 'x'.repeat(32),
      ]),
    );
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'FLEET_ROLLOUT_ADMIN_TOKEN']),
    );
    expect(() => loadConfig(env)).not.toThrow();
    expect(container.ports[0].containerPort).toBe(loadConfig({}).http.port);
    expect([container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path]).toEqual([
      '/readyz',
      '/healthz',
    ]);
  });
});

describe('deploy/controller.yaml', () => {
  const documents = parseAllDocuments(readFileSync('deploy/controller.yaml', 'utf8')).map((d) =>
    d.toJS(),
  );
  const deployment = documents.find((d) => d.kind === 'Deployment');
  const container = deployment?.spec.template.spec.containers[0];

  it('runs the controller command under a service account that may do what it does', () => {
    expect(container.args).toEqual(['controller']);
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value?: string }) => [e.name, e.value ?? 'x']),
    );
    expect(Object.keys(env)).toContain('DATABASE_URL');
    expect(() => loadConfig({ ...env, KUBERNETES_SERVICE_HOST: '10.0.0.1' })).not.toThrow();
    expect(deployment.spec.template.spec.serviceAccountName).toBe('fleet-rollout-controller');
    const rules = documents.find((d) => d.kind === 'ClusterRole').rules as Array<{
      resources: string[];
      verbs: string[];
    }>;
    const allowed = (resource: string, verb: string) =>
      rules.some((rule) => rule.resources.includes(resource) && rule.verbs.includes(verb));
    for (const [resource, verb] of [
      ['imagerollouts', 'watch'],
      ['imagerollouts', 'patch'],
      ['imagerollouts/status', 'update'],
      ['imagepolicies/status', 'update'],
      ['events', 'create'],
      ['leases', 'update'],
    ]) {
      expect(allowed(resource as string, verb as string), `${verb} ${resource}`).toBe(true);
    }
  });
});

describe('deploy/webhooks.yaml', () => {
  const documents = parseAllDocuments(readFileSync('deploy/webhooks.yaml', 'utf8')).map((d) =>
    d.toJS(),
  );
  const deployment = documents.find((d) => d.kind === 'Deployment');
  const container = deployment?.spec.template.spec.containers[0];

  it('runs the webhooks command reading policies and creating rollouts, secrets from files', () => {
    expect(container.args).toEqual(['webhooks']);
    const names = container.env.map((e: { name: string }) => e.name);
    expect(names).toContain('DATABASE_URL');
    const mount = container.volumeMounts[0].mountPath as string;
    const files = container.env.filter((e: { name: string }) => e.name.endsWith('_SECRET_FILE'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(file.value.startsWith(`${mount}/`)).toBe(true);
    expect(deployment.spec.template.spec.serviceAccountName).toBe('fleet-rollout-webhooks');
    const rules = documents.find((d) => d.kind === 'ClusterRole').rules;
    expect(rules).toEqual([
      expect.objectContaining({ resources: ['imagepolicies'], verbs: ['get', 'list', 'watch'] }),
      expect.objectContaining({ resources: ['imagerollouts'], verbs: ['get', 'create'] }),
    ]);
  });
});

describe('deploy/kustomization.yaml', () => {
  it('builds with kubectl into every role, and the CRDs build on their own', () => {
    const built = parseAllDocuments(
      execFileSync('kubectl', ['kustomize', 'deploy/'], { encoding: 'utf8' }),
    )
      .map((d) => d.toJS())
      .filter((d) => d.kind === 'Deployment')
      .map((d) => d.spec.template.spec.containers[0].args[0]);
    expect(built.sort()).toEqual(['controller', 'device-api', 'webhooks']);
    const crds = parseAllDocuments(
      execFileSync('kubectl', ['kustomize', 'crds/'], { encoding: 'utf8' }),
    ).map((d) => d.toJS().metadata.name);
    expect(crds.sort()).toEqual([
      'imagepolicies.fleet.iotistic.io',
      'imagerollouts.fleet.iotistic.io',
    ]);
  });
});
