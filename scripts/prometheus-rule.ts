// Writes deploy/components/monitoring/prometheus-rule.yaml from fleet-rollout.rules.yaml, the
// one source of the alerts: `npx tsx scripts/prometheus-rule.ts`. test/monitoring/rules.test.ts
// fails when the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

const DIR = 'deploy/components/monitoring';
const rules = parse(readFileSync(`${DIR}/fleet-rollout.rules.yaml`, 'utf8'));
const resource = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'fleet-rollout',
    labels: {
      'app.kubernetes.io/name': 'fleet-rollout',
      'app.kubernetes.io/component': 'monitoring',
    },
  },
  spec: rules,
};
const header =
  '# Generated from fleet-rollout.rules.yaml by `npx tsx scripts/prometheus-rule.ts`: edit that file.\n';
writeFileSync(`${DIR}/prometheus-rule.yaml`, header + stringify(resource, { lineWidth: 0 }));
