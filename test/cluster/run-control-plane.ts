/**
 * Starts the cluster tier's control plane by hand, for trying things against a real
 * kube-apiserver: `npm run cluster` prints where its admin kubeconfig is and stops everything it
 * started on Ctrl-C. Run `bash scripts/test-tools.sh` once before (npm test does).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startControlPlane } from './control-plane.js';

const bin = execFileSync('bash', ['scripts/test-tools.sh', '--print-bin'], { encoding: 'utf8' });
process.env.PATH = `${bin.trim()}${delimiter}${process.env.PATH ?? ''}`;
const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-cluster-'));
const plane = await startControlPlane({ dir, controllerManager: true });
console.log(`kube-apiserver ${plane.url} is ready; its logs and audit log are in ${dir}`);
console.log(`export KUBECONFIG=${join(dir, 'admin.kubeconfig')}`);
const stop = async () => {
  await plane.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
