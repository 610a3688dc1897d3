import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { CHART, helm, helmWithValues, type Manifest, renderChart } from '../support/helm.js';
import { adminKubectl, apiServers, controlPlane, installCrds } from './cluster.js';

/*
 * charts/fleet-rollout rendered by a real helm into namespaces of this test's own, on the current
 * and on the oldest supported kube-apiserver (the chart's kubeVersion): each Namespace (the
 * chart's, under the restricted Pod Security Standard) created for real, everything else sent as a
 * server-side dry run.
 */

/** The objects the API server knows: PodMonitor and PrometheusRule are the Prometheus Operator's. */
const withoutOperatorKinds = (objects: Manifest[]) =>
  objects.filter((object) => !object.apiVersion.startsWith('monitoring.coreos.com/'));

const asList = (objects: Manifest[]) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });

const cases = [
  { title: 'default values', namespace: 'chart-defaults', values: {} },
  {
    title: 'every value changed',
    namespace: 'chart-custom',
    values: {
      image: {
        repository: 'registry.example.com:5000/acme/fleet-rollout',
        digest: `sha256:${'a'.repeat(64)}`,
        pullPolicy: 'Always',
        pullSecrets: ['regcred'],
      },
      database: { url: 'postgres://fleet:pw@postgres.db:5432/fleet' },
      controller: { replicas: 1, extraEnv: [{ name: 'FLEET_ROLLOUT_LOG_LEVEL', value: 'debug' }] },
      deviceApi: { replicas: 4, adminToken: { value: 'an-admin-token-of-32-characters!' } },
      webhooks: {
        registries: {
          dockerhub: { enabled: false },
          quay: { enabled: true, secretRef: { name: 'quay-webhook', key: 'token' } },
        },
        gar: { audience: 'https://hooks.example.com', serviceAccount: 'push@acme.iam' },
      },
      ingress: {
        enabled: true,
        className: 'nginx',
        deviceApi: { host: 'devices.example.com', tlsSecretName: 'devices-tls' },
        webhooks: { host: 'hooks.example.com', tlsSecretName: 'hooks-tls' },
      },
      monitoring: { enabled: true, metricsPort: 9090 },
      nodeSelector: { 'kubernetes.io/arch': 'amd64' },
      tolerations: [{ key: 'edge', operator: 'Exists', effect: 'NoSchedule' }],
    },
  },
];

const runs = apiServers().flatMap((server) =>
  cases.map((run) => ({ ...run, version: server.version, access: server.access })),
);

describe.each(runs)('the chart with $title on $version', ({ namespace, values, access }) => {
  let objects: Manifest[] = [];

  beforeAll(async () => {
    await installCrds(access);
    const rendered = await renderChart(
      { ...values, namespace: { create: true, name: namespace } },
      // Its own release name: cluster-scoped names (ClusterRoles) are the release's.
      { release: namespace, namespace: 'default' },
    );
    const created = rendered.find((object) => object.kind === 'Namespace');
    await adminKubectl(['apply', '-f', '-'], JSON.stringify(created), access);
    objects = withoutOperatorKinds(rendered.filter((object) => object.kind !== 'Namespace'));
  });

  it('is accepted whole by a strict server-side dry run, with no warning', async () => {
    const applied = await adminKubectl(
      ['apply', '--dry-run=server', '--validate=strict', '-f', '-'],
      asList(objects),
      access,
    );
    expect(applied.stderr).toBe('');
    expect(applied.stdout.trim().split('\n')).toHaveLength(objects.length);
    for (const object of objects) {
      expect(applied.stdout).toContain(`${object.metadata.name} created (server dry run)`);
    }
  });

  it('has pods that PodSecurity restricted admits without a warning', async () => {
    const { stdout } = await adminKubectl(
      [
        ...['get', 'namespace', namespace, '--output'],
        "jsonpath={.metadata.labels['pod-security\\.kubernetes\\.io/enforce']}",
      ],
      undefined,
      access,
    );
    expect(stdout).toBe('restricted');
    const deployments = objects.filter((object) => object.kind === 'Deployment');
    expect(deployments).toHaveLength(3);
    for (const deployment of deployments) {
      const checked = await adminKubectl(
        ['apply', '--dry-run=server', '-f', '-'],
        JSON.stringify(deployment),
        access,
      );
      expect(checked.stderr, deployment.metadata.name).toBe('');
    }
  });

  /** `helm install --dry-run=server` of `values` as the admin, into the test's namespace. */
  const installDryRun = (extra: Record<string, unknown>) =>
    helmWithValues(
      [
        ...['install', namespace, CHART, '--namespace', namespace, '--dry-run=server'],
        `--kubeconfig=${access.dir}/admin.kubeconfig`,
      ],
      { ...values, namespace: { create: false }, ...extra },
    );

  it('installs with helm install --dry-run=server, whose notes say what to do next', async () => {
    const installed = await installDryRun({ monitoring: { enabled: false } });
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    const notes = installed.stdout.slice(installed.stdout.indexOf('NOTES:'));
    expect(notes).toContain(`is installed in namespace ${namespace}`);
    expect(notes).toContain(
      `kubectl -n ${namespace} wait deployment --for=condition=Available --timeout=10m \\\n    -l app.kubernetes.io/instance=${namespace}\n`,
    );
    const create = `kubectl -n ${namespace} create secret generic ${namespace}-fleet-rollout \\\n`;
    if ('database' in values) expect(notes).not.toContain('create secret');
    else
      expect(notes).toContain(
        `${create}    --from-literal=database-url=postgres://user:pass@postgres:5432/fleet \\\n    --from-literal=admin-token="$(head -c 32 /dev/urandom | base64)"\n`,
      );
  });

  it('refuses monitoring.enabled where the Prometheus Operator is not installed', async () => {
    const refused = await installDryRun({ monitoring: { enabled: true } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/no matches for kind "(PodMonitor|PrometheusRule)"/);
    expect(refused.stderr).toContain('ensure CRDs are installed first');
  });
});

describe('helm install and uninstall on a control plane that runs controllers', () => {
  const release = 'chart-installed';
  const namespace = 'chart-installed';
  const admin = () => `--kubeconfig=${controlPlane().dir}/admin.kubeconfig`;

  it('creates the namespace, whose restricted standard admits every pod, and uninstall removes it all', async () => {
    await installCrds();
    const installed = await helmWithValues(
      ['install', release, CHART, '--namespace', 'default', admin()],
      { namespace: { create: true, name: namespace } },
    );
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    // The ReplicaSets create the pods under the namespace's enforce level: one refused by
    // PodSecurity would never exist (no node runs them; admission is what is tested).
    const pods = await eventually(async () => {
      const { stdout } = await adminKubectl([
        ...['get', 'pods', '--namespace', namespace, '--output'],
        'jsonpath={range .items[*]}{.metadata.labels.app\\.kubernetes\\.io/component}{"\\n"}{end}',
      ]);
      const components = stdout.trim().split('\n').filter(Boolean).sort();
      expect(components).toHaveLength(6);
      return components;
    }, 60_000);
    expect(pods).toEqual([
      'controller',
      'controller',
      'device-api',
      'device-api',
      'webhooks',
      'webhooks',
    ]);
    const uninstalled = await helm(['uninstall', release, '--namespace', 'default', admin()]);
    expect(uninstalled.code, uninstalled.stderr).toBe(0);
    const left = await adminKubectl([
      ...['get', 'clusterroles,clusterrolebindings', '--output', 'name'],
      `--selector=app.kubernetes.io/instance=${release}`,
    ]);
    expect(left.stdout).toBe('');
    const { stdout: phase } = await adminKubectl([
      'get',
      'namespace',
      namespace,
      '--output',
      'jsonpath={.status.phase}',
      '--ignore-not-found',
    ]);
    expect(['', 'Terminating']).toContain(phase);
  });
});
