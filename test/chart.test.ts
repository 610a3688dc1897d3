import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.js';
import { REGISTRY_KINDS } from '../src/webhooks/push.js';
import { CHART, helmWithValues, kustomize, type Manifest, renderChart } from './support/helm.js';
import { restrictedViolations } from './support/pod-security.js';

/*
 * charts/fleet-rollout, rendered by a real helm (built by scripts/test-tools.sh): it lints, it
 * renders deploy/'s install with default values, and every value does what values.yaml says.
 */

const VERSION: string = JSON.parse(readFileSync('package.json', 'utf8')).version;
const ROLES = ['controller', 'device-api', 'webhooks'] as const;
const CLUSTER_SCOPED = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'];
const MONITORING = 'deploy/components/monitoring';
const MONITORING_FILES = ['fleet-rollout.rules.yaml', 'grafana-dashboard.json'];

const key = (object: Manifest) =>
  `${object.kind} ${object.metadata.namespace ?? '-'}/${object.metadata.name}`;
const find = (objects: Manifest[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map(key).join(', ')}`);
  return found;
};
const podOf = (objects: Manifest[], name: string) =>
  find(objects, 'Deployment', name).spec.template.spec;
const containerOf = (objects: Manifest[], name: string) => podOf(objects, name).containers[0];
type EnvVar = { name: string; value?: string; valueFrom?: Manifest };
const envVar = (container: Manifest, name: string): EnvVar | undefined =>
  container.env.find((e: EnvVar) => e.name === name);

/** A container's env as a loadConfig input, in cluster; variables from refs become `fill`. */
function configInput(container: Manifest, fill: string, replace: [string, string] = ['', '']) {
  const env = Object.fromEntries(
    container.env.map((e: EnvVar) => [e.name, e.value?.replace(...replace) ?? fill]),
  );
  return { ...env, KUBERNETES_SERVICE_HOST: '10.0.0.1' };
}

/** Values that change everything the chart offers, as an operator would set them. */
const CUSTOM = {
  image: {
    repository: 'registry.example.com:5000/acme/fleet-rollout',
    tag: '1.2.3',
    pullPolicy: 'Always',
    pullSecrets: ['regcred'],
  },
  database: { url: 'postgres://fleet:pw@postgres.db:5432/fleet' },
  controller: { replicas: 1 },
  deviceApi: {
    replicas: 5,
    pollIntervalSeconds: 30,
    adminToken: { existingSecret: { name: 'device-admin', key: 'token' } },
    resources: { requests: { cpu: '2', memory: '1Gi' }, limits: { memory: '4Gi' } },
  },
  webhooks: {
    replicas: 3,
    registries: {
      dockerhub: { enabled: false },
      ghcr: { enabled: true },
      harbor: { enabled: false },
      quay: { enabled: true, secretRef: { name: 'quay-webhook', key: 'token' } },
      distribution: { enabled: false },
      ecr: { enabled: false },
      generic: { enabled: false },
    },
    gar: { audience: 'https://hooks.example.com', serviceAccount: 'push@acme.iam' },
  },
  ingress: {
    enabled: true,
    className: 'nginx',
    annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
    deviceApi: { host: 'devices.example.com', tlsSecretName: 'devices-tls' },
    webhooks: { host: 'hooks.example.com', tlsSecretName: 'hooks-tls' },
  },
  monitoring: { enabled: true, metricsPort: 9090, labels: { release: 'prometheus' } },
};

describe('charts/fleet-rollout with helm', () => {
  it.each([
    ['default values', []],
    ['default values, strictly', ['--strict']],
    ['non-default values, strictly', ['--strict', '--namespace', 'devices']],
  ])('passes helm lint with %s', async (_, flags) => {
    const result = await helmWithValues(
      ['lint', CHART, ...flags],
      flags.includes('devices') ? CUSTOM : {},
    );
    expect(result.stderr).toBe('');
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it('ships the CRDs of crds/ byte for byte (`npm run chart:sync` copies them)', () => {
    const listed: string[] = parse(readFileSync('crds/kustomization.yaml', 'utf8')).resources;
    const fix = 'crds/ changed: run `npm run chart:sync` to copy it into the chart';
    expect(readdirSync(`${CHART}/crds`).sort(), fix).toEqual([...listed].sort());
    for (const file of listed) {
      const copy = readFileSync(`${CHART}/crds/${file}`, 'utf8');
      expect(copy === readFileSync(`crds/${file}`, 'utf8'), `${file}: ${fix}`).toBe(true);
    }
  });

  it('ships the alert rules and dashboard of deploy/components/monitoring byte for byte', () => {
    const fix = 'run `npm run chart:sync` to copy it into the chart';
    expect(readdirSync(`${CHART}/files`).sort()).toEqual(MONITORING_FILES);
    for (const file of MONITORING_FILES) {
      const copy = readFileSync(`${CHART}/files/${file}`, 'utf8');
      expect(copy === readFileSync(`${MONITORING}/${file}`, 'utf8'), `${file}: ${fix}`).toBe(true);
    }
  });

  it('is versioned as package.json, and runs that image by default', () => {
    const chart = parse(readFileSync(`${CHART}/Chart.yaml`, 'utf8'));
    expect([chart.version, chart.appVersion]).toEqual([VERSION, VERSION]);
  });
});

describe('the chart with default values', () => {
  let chart: Manifest[] = [];
  let deployed: Manifest[] = [];
  beforeAll(async () => {
    [chart, deployed] = await Promise.all([renderChart(), kustomize('deploy/')]);
  });

  it("renders deploy/'s objects, but its Namespace, in the release's namespace", () => {
    const expected = deployed.filter((o) => o.kind !== 'Namespace').map(key);
    expect(chart.map(key).sort()).toEqual(expected.sort());
    for (const object of chart.filter((o) => !CLUSTER_SCOPED.includes(o.kind))) {
      expect(object.metadata.namespace, key(object)).toBe('fleet-rollout');
    }
  });

  it("grants deploy/'s RBAC rules, through the same bindings", () => {
    for (const object of deployed.filter((o) => /Role(Binding)?$/.test(o.kind))) {
      const rendered = find(chart, object.kind, object.metadata.name);
      expect(rendered.rules, key(object)).toEqual(object.rules);
      expect(rendered.roleRef, key(object)).toEqual(object.roleRef);
      expect(rendered.subjects, key(object)).toEqual(object.subjects);
    }
  });

  it.each(ROLES)('runs %s as deploy/ does', (role) => {
    const name = `fleet-rollout-${role}`;
    const [ours, theirs] = [chart, deployed].map((objects) => find(objects, 'Deployment', name));
    expect(ours.spec.replicas).toBe(theirs.spec.replicas);
    const [pod, reference] = [ours, theirs].map((d) => d.spec.template.spec);
    for (const field of [
      'serviceAccountName',
      'automountServiceAccountToken',
      'enableServiceLinks',
      'securityContext',
    ]) {
      expect(pod[field], field).toEqual(reference[field]);
    }
    const [container, wanted] = [pod.containers[0], reference.containers[0]];
    for (const field of [
      'name',
      'image',
      'args',
      'ports',
      'securityContext',
      'startupProbe',
      'readinessProbe',
      'livenessProbe',
      'resources',
      'volumeMounts',
    ]) {
      expect(container[field], field).toEqual(wanted[field]);
    }
    expect(container.image).toBe(`fleet-rollout:${VERSION}`);
    expect(container.env).toEqual(expect.arrayContaining(wanted.env));
    expect(ours.spec.template.metadata.annotations).toEqual(
      theirs.spec.template.metadata.annotations,
    );
    expect(restrictedViolations(pod)).toEqual([]);
  });

  it('reads every registry secret of the optional fleet-rollout-webhooks Secret, as deploy/', () => {
    const pod = podOf(chart, 'fleet-rollout-webhooks');
    const volume = pod.volumes.find((v: Manifest) => v.name === 'webhook-secrets');
    const registries = REGISTRY_KINDS.filter((kind) => kind !== 'gar');
    expect(volume.projected.sources).toEqual([
      {
        secret: {
          name: 'fleet-rollout-webhooks',
          optional: true,
          items: registries.map((kind) => ({ key: kind, path: kind })),
        },
      },
    ]);
    expect(volume.projected.defaultMode).toBe(0o440);
    const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-chart-secrets-'));
    try {
      for (const kind of registries) writeFileSync(join(dir, kind), `${'k'.repeat(40)}\n`);
      const env = configInput(pod.containers[0], 'x', ['/etc/fleet-rollout/webhooks', dir]);
      expect(Object.keys(loadConfig(env).webhooks.secrets).sort()).toEqual(registries.sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("uses deploy/'s Lease name and Secret, and no PodMonitor, Ingress or Secret of its own", () => {
    const controller = containerOf(chart, 'fleet-rollout-controller');
    const env = configInput(controller, 'x');
    expect(loadConfig(env).kube.leaderElection.leaseName).toBe(
      find(chart, 'Role', 'fleet-rollout-controller').rules[1].resourceNames[0],
    );
    expect(envVar(controller, 'DATABASE_URL')?.valueFrom).toEqual({
      secretKeyRef: { name: 'fleet-rollout', key: 'database-url' },
    });
    const kinds = chart.map((o) => o.kind);
    for (const kind of ['PodMonitor', 'Ingress', 'Secret', 'Namespace'])
      expect(kinds).not.toContain(kind);
  });

  it("creates deploy/namespace.yaml's Namespace when asked to", async () => {
    const objects = await renderChart({ namespace: { create: true, name: 'fleet-rollout' } });
    const namespace = find(objects, 'Namespace', 'fleet-rollout');
    expect(namespace.metadata.labels).toMatchObject(
      find(deployed, 'Namespace', 'fleet-rollout').metadata.labels,
    );
    expect(objects.map(key).sort()).toEqual(deployed.map(key).sort());
  });

  it('labels every object as Helm recommends, and selects pods by release and role', () => {
    for (const object of chart) {
      expect(object.metadata.labels, key(object)).toMatchObject({
        'helm.sh/chart': `fleet-rollout-${VERSION}`,
        'app.kubernetes.io/name': 'fleet-rollout',
        'app.kubernetes.io/instance': 'fleet-rollout',
        'app.kubernetes.io/version': VERSION,
        'app.kubernetes.io/managed-by': 'Helm',
      });
    }
    for (const role of ROLES) {
      expect(find(chart, 'Deployment', `fleet-rollout-${role}`).spec.selector.matchLabels).toEqual({
        'app.kubernetes.io/name': 'fleet-rollout',
        'app.kubernetes.io/instance': 'fleet-rollout',
        'app.kubernetes.io/component': role,
      });
    }
  });
});

describe('the chart with non-default values', () => {
  let objects: Manifest[] = [];
  const name = (role: string) => `edge-fleet-rollout-${role}`;
  beforeAll(async () => {
    objects = await renderChart(CUSTOM, { release: 'edge', namespace: 'devices' });
  });

  it('names everything after the release, in its namespace, with its own Lease', () => {
    for (const object of objects) expect(object.metadata.name).toMatch(/^edge-fleet-rollout/);
    for (const object of objects.filter((o) => !CLUSTER_SCOPED.includes(o.kind))) {
      expect(object.metadata.namespace, key(object)).toBe('devices');
    }
    for (const binding of objects.filter((o) => o.kind.endsWith('Binding'))) {
      expect(binding.subjects[0].namespace).toBe('devices');
      expect(binding.subjects[0].name).toBe(binding.roleRef.name);
    }
    const lease = loadConfig(configInput(containerOf(objects, name('controller')), 'x')).kube
      .leaderElection.leaseName;
    expect(lease).toBe(name('controller'));
    expect(find(objects, 'Role', name('controller')).rules[1].resourceNames).toEqual([lease]);
  });

  it('runs the image, pull policy and pull secrets given, with the replicas and resources given', () => {
    const replicas = Object.fromEntries(
      ROLES.map((role) => [role, find(objects, 'Deployment', name(role)).spec.replicas]),
    );
    expect(replicas).toEqual({ controller: 1, 'device-api': 5, webhooks: 3 });
    for (const role of ROLES) {
      const pod = podOf(objects, name(role));
      expect(pod.containers[0].image).toBe('registry.example.com:5000/acme/fleet-rollout:1.2.3');
      expect(pod.containers[0].imagePullPolicy).toBe('Always');
      expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
      expect(restrictedViolations(pod), role).toEqual([]);
    }
    expect(containerOf(objects, name('device-api')).resources).toEqual(CUSTOM.deviceApi.resources);
  });

  it('creates the database Secret from the URL given, and reads the admin token from its Secret', () => {
    const secret = find(objects, 'Secret', 'edge-fleet-rollout-database');
    expect(secret.stringData).toEqual({ 'database-url': CUSTOM.database.url });
    expect(objects.filter((o) => o.kind === 'Secret')).toHaveLength(1);
    for (const role of ROLES) {
      expect(envVar(containerOf(objects, name(role)), 'DATABASE_URL')?.valueFrom).toEqual({
        secretKeyRef: { name: 'edge-fleet-rollout-database', key: 'database-url' },
      });
      expect(
        find(objects, 'Deployment', name(role)).spec.template.metadata.annotations,
      ).toHaveProperty('checksum/secrets');
    }
    const deviceApi = containerOf(objects, name('device-api'));
    expect(envVar(deviceApi, 'FLEET_ROLLOUT_ADMIN_TOKEN')?.valueFrom).toEqual({
      secretKeyRef: { name: 'device-admin', key: 'token' },
    });
    expect(loadConfig(configInput(deviceApi, 'x'.repeat(32))).devices.pollIntervalSeconds).toBe(30);
  });

  it('accepts only the registries enabled, each with the secret it references', () => {
    const pod = podOf(objects, name('webhooks'));
    const volume = pod.volumes.find((v: Manifest) => v.name === 'webhook-secrets');
    expect(volume.projected.sources).toEqual([
      {
        secret: {
          name: 'edge-fleet-rollout-webhooks',
          optional: true,
          items: [{ key: 'ghcr', path: 'ghcr' }],
        },
      },
      { secret: { name: 'quay-webhook', items: [{ key: 'token', path: 'quay' }] } },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-chart-secrets-'));
    try {
      for (const kind of REGISTRY_KINDS) writeFileSync(join(dir, kind), `${'k'.repeat(40)}\n`);
      const config = loadConfig(
        configInput(pod.containers[0], 'x', ['/etc/fleet-rollout/webhooks', dir]),
      ).webhooks;
      expect(Object.keys(config.secrets).sort()).toEqual(['ghcr', 'quay']);
      expect(config.gar).toMatchObject(CUSTOM.webhooks.gar);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('routes devices and registries, and only their paths, through Ingresses with TLS', () => {
    const ingresses = objects.filter((o) => o.kind === 'Ingress');
    expect(ingresses.map((i) => i.metadata.name).sort()).toEqual([
      name('device-api'),
      name('webhooks'),
    ]);
    const routes = ingresses.map((ingress) => ({
      className: ingress.spec.ingressClassName,
      annotations: ingress.metadata.annotations,
      tls: ingress.spec.tls,
      host: ingress.spec.rules[0].host,
      paths: ingress.spec.rules[0].http.paths.map(
        // biome-ignore lint/suspicious/noExplicitAny: see Manifest
        (p: any) =>
          `${p.path} ${p.pathType} ${p.backend.service.name}:${p.backend.service.port.name}`,
      ),
    }));
    const common = { className: 'nginx', annotations: CUSTOM.ingress.annotations };
    expect(routes).toEqual([
      {
        ...common,
        tls: [{ hosts: ['devices.example.com'], secretName: 'devices-tls' }],
        host: 'devices.example.com',
        paths: [`/api/v1/device Prefix ${name('device-api')}:http`],
      },
      {
        ...common,
        tls: [{ hosts: ['hooks.example.com'], secretName: 'hooks-tls' }],
        host: 'hooks.example.com',
        paths: [`/api/v1/webhooks Prefix ${name('webhooks')}:http`],
      },
    ]);
    for (const ingress of ingresses) {
      const port = find(objects, 'Service', ingress.metadata.name).spec.ports[0];
      expect(port.name).toBe('http');
    }
  });

  it('scrapes every pod of every role on its own metrics port, which no Service exposes', () => {
    const monitor = find(objects, 'PodMonitor', 'edge-fleet-rollout');
    expect(monitor.metadata.namespace).toBe('devices');
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(monitor.spec.podMetricsEndpoints).toEqual([
      {
        port: 'metrics',
        path: '/metrics',
        interval: '30s',
        honorLabels: true,
      },
    ]);
    const scraped = objects.filter(
      (o) =>
        o.kind === 'Deployment' &&
        Object.entries(monitor.spec.selector.matchLabels).every(
          ([k, v]) => o.spec.template.metadata.labels[k] === v,
        ),
    );
    expect(scraped.map((d) => d.metadata.name).sort()).toEqual(ROLES.map(name).sort());
    for (const deployment of scraped) {
      const container = deployment.spec.template.spec.containers[0];
      expect(container.ports).toEqual([
        { name: 'http', containerPort: 8080 },
        { name: 'metrics', containerPort: 9090 },
      ]);
      expect(loadConfig(configInput(container, 'x'.repeat(32))).metrics.port).toBe(9090);
      expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe('9090');
    }
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      expect(service.spec.ports.map((p: Manifest) => p.targetPort)).toEqual(['http']);
    }
  });

  it("ships deploy/components/monitoring's alerts and dashboard beside the PodMonitor", () => {
    const rule = find(objects, 'PrometheusRule', 'edge-fleet-rollout');
    expect(rule.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(rule.spec).toEqual(
      parse(readFileSync(`${MONITORING}/fleet-rollout.rules.yaml`, 'utf8')),
    );
    const dashboard = find(objects, 'ConfigMap', 'edge-fleet-rollout-grafana-dashboard');
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(dashboard.data).toEqual({
      'grafana-dashboard.json': readFileSync(`${MONITORING}/grafana-dashboard.json`, 'utf8'),
    });
  });
});

describe('monitoring.enabled', () => {
  it('renders what deploy/components/monitoring adds to deploy/: the same alerts, dashboard and scrape', async () => {
    const overlay = mkdtempSync(join(tmpdir(), 'fleet-rollout-monitoring-'));
    try {
      writeFileSync(
        join(overlay, 'kustomization.yaml'),
        `namespace: fleet-rollout\nresources:\n  - ${relative(overlay, resolve('deploy'))}\ncomponents:\n  - ${relative(overlay, resolve(MONITORING))}\n`,
      );
      const [chart, deployed, kustomized] = await Promise.all([
        renderChart({ monitoring: { enabled: true } }),
        kustomize('deploy/'),
        kustomize(overlay),
      ]);
      const added = kustomized.filter((o) => !deployed.some((d) => key(d) === key(o)));
      const ours = chart.filter(
        (o) => o.metadata.labels['app.kubernetes.io/component'] === 'monitoring',
      );
      expect(ours.map((o) => o.kind).sort()).toEqual(added.map((o) => o.kind).sort());
      for (const object of added) {
        const rendered = ours.find((o) => o.kind === object.kind);
        expect(rendered.metadata.namespace).toBe(object.metadata.namespace);
        if (object.kind === 'PodMonitor')
          expect(rendered.spec.podMetricsEndpoints).toEqual(object.spec.podMetricsEndpoints);
        else if (object.kind === 'ConfigMap') {
          expect(rendered.data).toEqual(object.data);
          expect(rendered.metadata.labels).toMatchObject(object.metadata.labels);
        } else expect(rendered.spec, object.kind).toEqual(object.spec);
      }
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });

  it('leaves out the PrometheusRule and the dashboard when asked to', async () => {
    const objects = await renderChart({
      monitoring: { enabled: true, prometheusRule: false, grafanaDashboard: false },
    });
    const kinds = objects.filter(
      (o) => o.metadata.labels['app.kubernetes.io/component'] === 'monitoring',
    );
    expect(kinds.map((o) => o.kind)).toEqual(['PodMonitor']);
  });
});

describe('bad values', () => {
  const refused = async (values: Record<string, unknown>) => {
    const result = await helmWithValues(['template', 'x', CHART], values);
    expect(result.code).not.toBe(0);
    return result.stderr;
  };

  it.each([
    [{ controller: { replicas: -1 } }, "at '/controller/replicas': minimum: got -1, want 0"],
    [
      { controller: { replica: 3 } },
      "at '/controller': additional properties 'replica' not allowed",
    ],
    [{ image: { pullPolicy: 'Sometimes' } }, "at '/image/pullPolicy': value must be one of"],
    [{ image: { tag: 'v1 beta' } }, "at '/image/tag'"],
    [{ image: { digest: 'sha256:abc' } }, "at '/image/digest'"],
    [
      { webhooks: { registries: { gitea: { enabled: true } } } },
      "at '/webhooks/registries': additional properties 'gitea' not allowed",
    ],
    [
      { webhooks: { registries: { ghcr: { enabled: 'always' } } } },
      "at '/webhooks/registries/ghcr/enabled': got string, want boolean",
    ],
    [
      { webhooks: { registries: { quay: { enabled: true, secretRef: { key: 'token' } } } } },
      "at '/webhooks/registries/quay/secretRef': properties 'name' required, if 'key' exists",
    ],
    [{ monitoring: { metricsPort: 0 } }, "at '/monitoring/metricsPort': minimum: got 0, want 1"],
    [
      { monitoring: { enabled: true, interval: 30 } },
      "at '/monitoring/interval': got number, want string",
    ],
    [{ deviceApi: { adminToken: { value: 'short' } } }, "at '/deviceApi/adminToken/value'"],
    [{ ingress: { deviceApi: { host: 'Devices_Example' } } }, "at '/ingress/deviceApi/host'"],
    [{ namespace: { name: 'Fleet' } }, "at '/namespace/name'"],
  ])('values.schema.json refuses %j: %s', async (values, message) => {
    const stderr = await refused(values);
    expect(stderr).toContain("values don't meet the specifications of the schema(s)");
    expect(stderr).toContain(message);
  });

  it.each([
    [
      { database: { url: 'postgres://a@b/c', existingSecret: { name: 'mine' } } },
      'database: set url (the chart creates the Secret) or existingSecret.name (you create it), not both',
    ],
    [
      { database: { url: 'mysql://user:hunter2@db/fleet' } },
      'database.url must be a postgres:// or postgresql:// URL',
    ],
    [
      { deviceApi: { adminToken: { value: 'a'.repeat(20), existingSecret: { name: 'x' } } } },
      'deviceApi.adminToken: set value (the chart creates the Secret) or existingSecret.name',
    ],
    [
      { webhooks: { gar: { audience: 'https://hooks.example.com' } } },
      'webhooks.gar: set both audience and serviceAccount',
    ],
    [
      { monitoring: { metricsPort: 8080 } },
      'monitoring.metricsPort: 8080 is the HTTP port; choose another port, or null',
    ],
    [
      { ingress: { enabled: true } },
      'ingress.enabled: set ingress.deviceApi.host, ingress.webhooks.host or both',
    ],
  ])('the templates refuse %j: %s', async (values, message) => {
    const stderr = await refused(values);
    expect(stderr).toContain(message);
    expect(stderr).not.toContain('hunter2');
  });
});

describe('deviceApi.managementApi', () => {
  it('renders what deploy/components/management-api adds to deploy/: the variable, the token, the role', async () => {
    const overlay = mkdtempSync(join(tmpdir(), 'fleet-rollout-management-api-'));
    try {
      writeFileSync(
        join(overlay, 'kustomization.yaml'),
        `namespace: fleet-rollout\nresources:\n  - ${relative(overlay, resolve('deploy'))}\ncomponents:\n  - ${relative(overlay, resolve('deploy/components/management-api'))}\n`,
      );
      const [chart, plain, kustomized] = await Promise.all([
        renderChart({ deviceApi: { managementApi: true } }),
        renderChart(),
        kustomize(overlay),
      ]);
      const role = 'fleet-rollout-management-api';
      for (const kind of ['ClusterRole', 'ClusterRoleBinding']) {
        const rendered = find(chart, kind, role);
        const component = find(kustomized, kind, role);
        if (kind === 'ClusterRole') expect(rendered.rules).toEqual(component.rules);
        else expect(rendered.subjects).toEqual(component.subjects);
      }
      const name = 'fleet-rollout-device-api';
      const [pod, componentPod] = [podOf(chart, name), podOf(kustomized, name)];
      expect(pod.automountServiceAccountToken).toBe(true);
      expect(componentPod.automountServiceAccountToken).toBe(true);
      expect(find(chart, 'ServiceAccount', name).automountServiceAccountToken).toBe(true);
      const env = (spec: Manifest) =>
        spec.containers[0].env.find(
          (e: { name: string }) => e.name === 'FLEET_ROLLOUT_MANAGEMENT_API',
        );
      expect(env(pod)).toEqual({ name: 'FLEET_ROLLOUT_MANAGEMENT_API', value: 'true' });
      expect(env(componentPod)).toEqual(env(pod));
      expect(restrictedViolations(pod)).toEqual([]);
      // Off by default, as deploy/ is.
      expect(plain.some((o) => o.metadata.name === role)).toBe(false);
      expect(podOf(plain, name).automountServiceAccountToken).toBe(false);
      expect(env(podOf(plain, name))).toBeUndefined();
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });
});
