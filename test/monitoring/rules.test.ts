import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { documentedMetrics, metricNamesIn } from '../support/metrics-doc.js';
import {
  MONITORING_DIR as DIR,
  dashboardExpressions,
  type Json,
  loadDashboard,
  loadRules,
  promtool,
  RULES_FILE as RULES,
} from '../support/monitoring.js';

const UNIT_TESTS = 'test/monitoring/rules-unit-tests.yaml';
const rules = loadRules();
const alerts: Json[] = rules.groups.flatMap((group: Json) => group.rules);
const dashboard = loadDashboard();

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', RULES);
    expect(output).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(status).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const { status, output } = promtool('test', 'rules', UNIT_TESTS);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it('each have a unit test where they fire and one where they stay quiet', () => {
    const cases: Json[] = parse(readFileSync(UNIT_TESTS, 'utf8')).tests.flatMap(
      (test: Json) => test.alert_rule_test,
    );
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert.alert} fires`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert.alert} stays quiet`,
      ).toBe(true);
    }
  });

  it('are the issue’s alerts and the device-API wait, each with a severity and a summary', () => {
    expect(alerts.map((alert) => alert.alert)).toEqual([
      'FleetRolloutFailureBudgetExceeded',
      'FleetRolloutRollbackStarted',
      'FleetRolloutProgressDeadlineExceeded',
      'FleetRolloutNoBatchProgress',
      'FleetRolloutInvalidConfiguration',
      'FleetRolloutDevicePollErrors',
      'FleetRolloutWebhookDeliveriesRejected',
      'FleetRolloutControllerNoLeader',
      'FleetRolloutDeviceAPIUnavailable',
      'FleetRolloutReconcileErrors',
    ]);
    for (const alert of alerts) {
      expect(['warning', 'critical']).toContain(alert.labels.severity);
      expect(alert.annotations.summary).toBeTruthy();
    }
  });

  it('are the same groups in the PrometheusRule (regenerate with scripts/prometheus-rule.ts)', () => {
    const resource = parse(readFileSync(`${DIR}/prometheus-rule.yaml`, 'utf8'));
    expect(resource.kind).toBe('PrometheusRule');
    expect(resource.spec).toEqual(rules);
  });
});

describe('the dashboard and the alerts read documented metrics only', () => {
  const documented = documentedMetrics();
  const expressions = [
    ...alerts.map((alert) => ({ panel: alert.alert, expr: alert.expr as string })),
    ...dashboardExpressions(dashboard),
  ];

  it.each(expressions)('$panel', ({ expr }) => {
    const names = metricNamesIn(expr);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !documented.has(name))).toEqual([]);
  });
});

describe('the dashboard', () => {
  it('has the panels an operator looks for, each with a query', () => {
    const titles = dashboard.panels.map((panel: Json) => panel.title);
    for (const title of [
      'Rollouts',
      'Healthy devices per batch',
      'Device health by fleet',
      'Device polls',
      '304 ratio',
      'Long polls held',
      'Webhook deliveries by outcome',
      'Work queue depth',
      'Reconcile latency',
      'Leader',
    ]) {
      expect(titles).toContain(title);
    }
    for (const panel of dashboard.panels.filter((p: Json) => p.type !== 'row')) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      expect(panel.datasource.uid).toBe(`$${'{datasource}'}`);
    }
    expect(new Set(dashboard.panels.map((p: Json) => p.id)).size).toBe(dashboard.panels.length);
  });
});

describe('the kustomize component', () => {
  const dir = mkdtempSync(join(tmpdir(), 'monitoring-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the PrometheusRule, a PodMonitor that honours labels and the dashboard to deploy/', () => {
    cpSync('deploy', join(dir, 'deploy'), { recursive: true });
    appendFileSync(
      join(dir, 'deploy/kustomization.yaml'),
      'components:\n  - components/monitoring\n',
    );
    const documents: Json[] = parseAllDocuments(
      execFileSync('kubectl', ['kustomize', join(dir, 'deploy')], { encoding: 'utf8' }),
    ).map((document) => document.toJS());
    const find = (kind: string) =>
      documents.find(
        (document) => document.kind === kind && document.metadata.name.startsWith('fleet-rollout'),
      );
    expect(find('PrometheusRule').metadata.namespace).toBe('fleet-rollout');
    expect(find('PrometheusRule').spec).toEqual(rules);
    const monitor = find('PodMonitor');
    expect(monitor.metadata.namespace).toBe('fleet-rollout');
    expect(monitor.spec.podMetricsEndpoints).toEqual([
      { port: 'http', path: '/metrics', interval: '30s', honorLabels: true },
    ]);
    const pods = documents.filter((document) => document.kind === 'Deployment');
    expect(pods).toHaveLength(3);
    for (const deployment of pods) {
      const labels = deployment.spec.template.metadata.labels;
      for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) {
        expect(labels[key]).toBe(value);
      }
      const ports = deployment.spec.template.spec.containers[0].ports;
      expect(ports.map((port: Json) => port.name)).toContain('http');
    }
    const configMap = documents.find((document) => document.kind === 'ConfigMap');
    expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
    expect(JSON.parse(configMap.data['grafana-dashboard.json'])).toEqual(dashboard);
  });
});
