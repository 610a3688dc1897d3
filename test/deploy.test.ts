import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config.js';
import { REGISTRY_KINDS } from '../src/webhooks/push.js';
import { restrictedViolations } from './support/pod-security.js';

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML
type Manifest = any;
type EnvVar = { name: string; value?: string };
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

const NAMESPACE = 'fleet-rollout';
const VERSION: string = JSON.parse(readFileSync('package.json', 'utf8')).version;

function parse(text: string): Manifest[] {
  return parseAllDocuments(text).map((document) => document.toJS());
}
const load = (file: string) => parse(readFileSync(file, 'utf8'));
const find = (documents: Manifest[], kind: string) => documents.find((d) => d.kind === kind);
const kustomize = (dir: string) =>
  parse(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }));

/** A container's env as a loadConfig input; variables from secrets and fields become `fill`. */
function envOf(container: Manifest, fill: string): Record<string, string> {
  return Object.fromEntries(container.env.map((e: EnvVar) => [e.name, e.value ?? fill]));
}

describe('deploy/device-api.yaml', () => {
  const documents = load('deploy/device-api.yaml');
  const deployment = find(documents, 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('runs the device-api command with the variables it requires, probing our endpoints', () => {
    expect(documents.map((d) => d.kind)).toEqual([
      'ServiceAccount',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
    ]);
    expect(container.args).toEqual(['device-api']);
    const env = envOf(container, 'x'.repeat(32));
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

  it('gets no API token: the device API never talks to Kubernetes', () => {
    expect(pod.serviceAccountName).toBe('fleet-rollout-device-api');
    expect(find(documents, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('gives the device cache at least 10 minutes to load before liveness applies', () => {
    const { startupProbe } = container;
    expect(startupProbe.httpGet.port).toBe('http');
    expect(startupProbe.periodSeconds * startupProbe.failureThreshold).toBeGreaterThanOrEqual(600);
  });
});

describe('deploy/controller.yaml', () => {
  const documents = load('deploy/controller.yaml');
  const deployment = find(documents, 'Deployment');
  const container = deployment.spec.template.spec.containers[0];
  const env = { ...envOf(container, 'x'), KUBERNETES_SERVICE_HOST: '10.0.0.1' };

  it('runs the controller command in-cluster under its own service account', () => {
    expect(container.args).toEqual(['controller']);
    expect(Object.keys(env)).toContain('DATABASE_URL');
    expect(() => loadConfig(env)).not.toThrow();
    expect(loadConfig(env).kube.inCluster).toBe(true);
    expect(deployment.spec.template.spec.serviceAccountName).toBe('fleet-rollout-controller');
    expect(deployment.spec.template.spec.automountServiceAccountToken).not.toBe(false);
    expect(container.env).toContainEqual({
      name: 'FLEET_ROLLOUT_LEASE_NAMESPACE',
      valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
    });
  });

  it('may do in every namespace exactly what the controller does to our kinds and Events', () => {
    expect(find(documents, 'ClusterRole').rules).toEqual([
      { apiGroups: ['fleet.iotistic.io'], resources: ['imagepolicies'], verbs: ['list', 'watch'] },
      {
        apiGroups: ['fleet.iotistic.io'],
        resources: ['imagerollouts'],
        verbs: ['list', 'watch', 'patch'],
      },
      {
        apiGroups: ['fleet.iotistic.io'],
        resources: ['notificationchannels'],
        verbs: ['list', 'watch'],
      },
      { apiGroups: ['fleet.iotistic.io'], resources: ['fleetfreezes'], verbs: ['list', 'watch'] },
      {
        apiGroups: ['fleet.iotistic.io'],
        resources: [
          'imagepolicies/status',
          'imagerollouts/status',
          'notificationchannels/status',
          'fleetfreezes/status',
        ],
        verbs: ['update'],
      },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ] satisfies Rule[]);
  });

  it('may create Leases in its namespace, and read and update only its own', () => {
    const lease = loadConfig(env).kube.leaderElection.leaseName;
    expect(find(documents, 'Role').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: [lease],
        verbs: ['get', 'update'],
      },
    ] satisfies Rule[]);
    for (const kind of ['RoleBinding', 'ClusterRoleBinding']) {
      const binding = find(documents, kind);
      expect(binding.roleRef.name).toBe('fleet-rollout-controller');
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'fleet-rollout-controller', namespace: NAMESPACE },
      ]);
    }
  });
});

describe('deploy/webhooks.yaml', () => {
  const documents = load('deploy/webhooks.yaml');
  const deployment = find(documents, 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const mount = container.volumeMounts.find((m: Manifest) => m.name === 'webhook-secrets');
  const files = container.env.filter((e: EnvVar) => e.name.endsWith('_SECRET_FILE'));
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-webhook-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** The container's env with the mounted Secret's directory replaced by `dir`. */
  const envIn = (directory: string) => ({
    ...envOf(container, 'x'),
    KUBERNETES_SERVICE_HOST: '10.0.0.1',
    ...Object.fromEntries(
      files.map((e: EnvVar) => [e.name, e.value?.replace(mount.mountPath, directory)]),
    ),
  });

  it('runs the webhooks command with a secret file for every registry that has a secret', () => {
    expect(container.args).toEqual(['webhooks']);
    expect(container.env.map((e: EnvVar) => e.name)).toContain('DATABASE_URL');
    expect(pod.serviceAccountName).toBe('fleet-rollout-webhooks');
    const registries = REGISTRY_KINDS.filter((kind) => kind !== 'gar');
    expect(files).toEqual(
      registries.map((kind) => ({
        name: `FLEET_ROLLOUT_WEBHOOK_${kind.toUpperCase()}_SECRET_FILE`,
        value: `${mount.mountPath}/${kind}`,
      })),
    );
    const volume = pod.volumes.find((v: Manifest) => v.name === mount.name);
    expect(volume.secret).toMatchObject({ secretName: 'fleet-rollout-webhooks', optional: true });
  });

  it('starts with no Secret or some of its keys, and reads every key that is there', () => {
    expect(loadConfig(envIn(join(dir, 'absent'))).webhooks.secrets).toEqual({});
    writeFileSync(join(dir, 'ghcr'), 'a-ghcr-secret-from-the-volume\n');
    expect(Object.keys(loadConfig(envIn(dir)).webhooks.secrets)).toEqual(['ghcr']);
    for (const kind of REGISTRY_KINDS) writeFileSync(join(dir, kind), `${'k'.repeat(40)}\n`);
    const secrets = loadConfig(envIn(dir)).webhooks.secrets;
    expect(Object.keys(secrets).sort()).toEqual(REGISTRY_KINDS.filter((k) => k !== 'gar').sort());
  });

  it('may list policies and create rollouts in every namespace, nothing else', () => {
    expect(find(documents, 'ClusterRole').rules).toEqual([
      { apiGroups: ['fleet.iotistic.io'], resources: ['imagepolicies'], verbs: ['list'] },
      { apiGroups: ['fleet.iotistic.io'], resources: ['imagerollouts'], verbs: ['create'] },
    ] satisfies Rule[]);
    expect(find(documents, 'ClusterRoleBinding').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'fleet-rollout-webhooks', namespace: NAMESPACE },
    ]);
  });
});

describe('deploy/kustomization.yaml', () => {
  const built = kustomize('deploy/');
  const deployments = built.filter((d) => d.kind === 'Deployment');

  it('builds with kubectl into every role, and the CRDs build on their own', () => {
    const roles = deployments.map((d) => d.spec.template.spec.containers[0].args[0]);
    expect(roles.sort()).toEqual(['controller', 'device-api', 'webhooks']);
    const crds = kustomize('crds/').map((d) => d.metadata.name);
    expect(crds.sort()).toEqual([
      'fleetfreezes.fleet.iotistic.io',
      'imagepolicies.fleet.iotistic.io',
      'imagerollouts.fleet.iotistic.io',
      'notificationchannels.fleet.iotistic.io',
    ]);
  });

  it('puts everything into the fleet-rollout namespace, enforcing the restricted standard', () => {
    const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'];
    for (const object of built.filter((d) => !clusterScoped.includes(d.kind))) {
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(NAMESPACE);
    }
    const namespace = find(built, 'Namespace');
    expect(namespace.metadata.name).toBe(NAMESPACE);
    expect(namespace.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    const subjects = built.flatMap((d) => (d.kind.endsWith('Binding') ? d.subjects : []));
    for (const subject of subjects) expect(subject.namespace).toBe(NAMESPACE);
  });

  it.each(['controller', 'device-api', 'webhooks'])(
    'runs %s as the restricted standard asks',
    (role) => {
      const deployment = deployments.find((d) => d.metadata.name === `fleet-rollout-${role}`);
      expect(restrictedViolations(deployment.spec.template.spec)).toEqual([]);
    },
  );

  it('pins the image to the package version, never latest', () => {
    expect(load('deploy/kustomization.yaml')[0].images).toEqual([
      { name: 'fleet-rollout', newTag: VERSION },
    ]);
    const images = deployments.flatMap((d) =>
      d.spec.template.spec.containers.map((c: Manifest) => c.image),
    );
    expect(images).toEqual(images.map(() => `fleet-rollout:${VERSION}`));
    for (const file of ['controller', 'device-api', 'webhooks']) {
      const raw = find(load(`deploy/${file}.yaml`), 'Deployment').spec.template.spec;
      expect(raw.containers[0].image, file).toBe(`fleet-rollout:${VERSION}`);
    }
  });

  it('keeps one replica of every scaled-out Deployment up through voluntary disruptions', () => {
    const budgets = built.filter((d) => d.kind === 'PodDisruptionBudget');
    for (const deployment of deployments.filter((d) => d.spec.replicas > 1)) {
      const labels = deployment.spec.template.metadata.labels;
      const covering = budgets.filter((budget) =>
        Object.entries(budget.spec.selector.matchLabels).every(([k, v]) => labels[k] === v),
      );
      expect(covering, deployment.metadata.name).toHaveLength(1);
      const { minAvailable, maxUnavailable } = covering[0].spec;
      expect(minAvailable === 1 || maxUnavailable === 1, deployment.metadata.name).toBe(true);
    }
  });

  it('runs every pod under a service account it creates', () => {
    const accounts = built.filter((d) => d.kind === 'ServiceAccount').map((d) => d.metadata.name);
    for (const deployment of deployments) {
      expect(accounts).toContain(deployment.spec.template.spec.serviceAccountName);
    }
  });

  it('builds the image to run as the numeric user the pods ask for', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile.match(/^FROM \S+/gm)).toEqual([
      'FROM node:24-bookworm-slim',
      'FROM node:24-bookworm-slim',
    ]);
  });
});

describe('deploy/components/management-api', () => {
  const overlay = mkdtempSync(join(tmpdir(), 'fleet-rollout-management-'));
  afterAll(() => rmSync(overlay, { recursive: true, force: true }));
  writeFileSync(
    join(overlay, 'kustomization.yaml'),
    `namespace: ${NAMESPACE}\nresources:\n  - ${relative(overlay, resolve('deploy'))}\ncomponents:\n  - ${relative(overlay, resolve('deploy/components/management-api'))}\n`,
  );
  const built = kustomize(overlay);
  const deviceApi = built.find(
    (d) => d.kind === 'Deployment' && d.metadata.name === 'fleet-rollout-device-api',
  );
  const pod = deviceApi.spec.template.spec;

  it('turns the management API on in device-api, with a token to reach Kubernetes', () => {
    const env = envOf(pod.containers[0], 'x'.repeat(32));
    expect(env.FLEET_ROLLOUT_MANAGEMENT_API).toBe('true');
    expect(loadConfig(env).management.enabled).toBe(true);
    expect(pod.automountServiceAccountToken).toBe(true);
    const account = built.find(
      (d) => d.kind === 'ServiceAccount' && d.metadata.name === 'fleet-rollout-device-api',
    );
    expect(account.automountServiceAccountToken).toBe(true);
    expect(restrictedViolations(pod)).toEqual([]);
  });

  it('grants the device-api account what the management API does to the resources, only that', () => {
    const role = built.find(
      (d) => d.kind === 'ClusterRole' && d.metadata.name === 'fleet-rollout-management-api',
    );
    expect(role.rules as Rule[]).toEqual([
      {
        apiGroups: ['fleet.iotistic.io'],
        resources: ['imagerollouts'],
        verbs: ['get', 'list', 'patch'],
      },
      {
        apiGroups: ['fleet.iotistic.io'],
        resources: ['imagepolicies'],
        verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
      },
      {
        apiGroups: ['fleet.iotistic.io'],
        resources: ['fleetfreezes'],
        verbs: ['get', 'list', 'create', 'delete'],
      },
    ]);
    const binding = built.find(
      (d) => d.kind === 'ClusterRoleBinding' && d.metadata.name === 'fleet-rollout-management-api',
    );
    expect(binding.roleRef.name).toBe('fleet-rollout-management-api');
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'fleet-rollout-device-api', namespace: NAMESPACE },
    ]);
  });

  it('leaves deploy/ itself without it', () => {
    const plain = kustomize('deploy/');
    expect(plain.some((d) => d.metadata.name === 'fleet-rollout-management-api')).toBe(false);
  });
});
