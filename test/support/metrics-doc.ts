import { readFileSync } from 'node:fs';

/** One row of the table in docs/metrics.md. */
export interface DocumentedMetric {
  name: string;
  type: string;
  labels: string[];
}

/** The rows of the metrics table in docs/metrics.md, by metric name. */
export function documentedMetrics(file = 'docs/metrics.md'): Map<string, DocumentedMetric> {
  const rows = new Map<string, DocumentedMetric>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\|\s*`([a-z0-9_:]+)`\s*\|\s*(\w+)\s*\|([^|]*)\|/.exec(line);
    if (!match) continue;
    const labels = (match[3] as string)
      .split(',')
      .map((label) => label.trim())
      .filter((label) => label !== '');
    rows.set(match[1] as string, { name: match[1] as string, type: match[2] as string, labels });
  }
  return rows;
}

/**
 * The metric names a PromQL expression reads: identifiers followed by `{`, `[` or a space that
 * are not functions, keywords or label names; histogram and summary suffixes removed.
 */
export function metricNamesIn(expression: string): string[] {
  const withoutStrings = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const withoutLabels = withoutStrings.replace(/\{[^}]*\}/g, '{}');
  const names = new Set<string>();
  for (const match of withoutLabels.matchAll(
    /\b((?:fleet_rollout|process|nodejs)_[a-z0-9_]+)\b/g,
  )) {
    names.add((match[1] as string).replace(/_(bucket|count|sum)$/, ''));
  }
  return [...names];
}
