import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML
export type Manifest = any;

/** The chart, relative to the repository root (the tests' working directory). */
export const CHART = 'charts/fleet-rollout';

/** What a run of the PATH's `helm` (scripts/test-tools.sh builds it) printed and exited with. */
export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `helm` with `args`; never throws on a non-zero exit, which `code` reports. */
export function helm(args: string[]): Promise<HelmResult> {
  return new Promise((resolve, reject) => {
    execFile('helm', args, { maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** Runs `helm` with `args` plus `--values <file>` holding `values` (YAML), removed afterwards. */
export async function helmWithValues(
  args: string[],
  values: Record<string, unknown>,
): Promise<HelmResult> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-rollout-values-'));
  try {
    const file = join(dir, 'values.yaml');
    await writeFile(file, stringify(values));
    return await helm([...args, '--values', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every document of a multi-document YAML text, as plain objects, empty ones left out. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS())
    .filter((object) => object !== null && object !== undefined);
}

/** `helm template` of the chart as release `release` in `namespace`; throws with helm's error. */
export async function renderChart(
  values: Record<string, unknown> = {},
  { release = 'fleet-rollout', namespace = 'fleet-rollout' } = {},
): Promise<Manifest[]> {
  const result = await helmWithValues(
    ['template', release, CHART, '--namespace', namespace],
    values,
  );
  if (result.code !== 0) throw new Error(`helm template: ${result.stderr}`);
  return parseManifests(result.stdout);
}

/** `kubectl kustomize dir`, parsed. */
export async function kustomize(dir: string): Promise<Manifest[]> {
  const { stdout } = await promisify(execFile)('kubectl', ['kustomize', dir], {
    maxBuffer: 32 * 1024 * 1024,
  });
  return parseManifests(stdout);
}
