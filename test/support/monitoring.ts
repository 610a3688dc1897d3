import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: rules, manifests and dashboards are untyped
export type Json = any;

/** The kustomize component with the alerts, the PodMonitor and the dashboard. */
export const MONITORING_DIR = 'deploy/components/monitoring';
/** The plain Prometheus rules file: the one source of the alerts. */
export const RULES_FILE = `${MONITORING_DIR}/fleet-rollout.rules.yaml`;

/** The parsed rules file (`groups`). */
export function loadRules(): Json {
  return parse(readFileSync(RULES_FILE, 'utf8'));
}

/** The parsed Grafana dashboard. */
export function loadDashboard(): Json {
  return JSON.parse(readFileSync(`${MONITORING_DIR}/grafana-dashboard.json`, 'utf8'));
}

/** Runs promtool (Debian's `prometheus` package, installed by scripts/test-setup.sh). */
export function promtool(...args: string[]) {
  const result = spawnSync('promtool', args, { encoding: 'utf8' });
  if (result.error)
    throw new Error('promtool not found: run scripts/test-setup.sh', { cause: result.error });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** Every PromQL expression of the dashboard's panels. */
export function dashboardExpressions(board: Json): Array<{ panel: string; expr: string }> {
  return board.panels
    .filter((panel: Json) => panel.targets)
    .flatMap((panel: Json) =>
      panel.targets.map((target: Json) => ({ panel: panel.title, expr: target.expr })),
    );
}
