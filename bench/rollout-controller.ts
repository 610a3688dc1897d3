/**
 * The controller side of `npm run bench:rollout`, in its own process so that its peak memory is
 * its own: reconcile passes of one ImageRollout, run one at a time when the parent asks over IPC.
 * It is the real reconcileRollout with direct deps (reads from the API server, no informer).
 */

import { directRolloutDeps, reconcileRollout } from '../src/controller/rollout-reconciler.js';
import { openDatabase } from '../src/db/client.js';
import { createKubePort, loadKubeConfig, tokenConnection } from '../src/kube/client-node.js';
import { silentLogger } from '../src/telemetry/logger.js';
import type { BenchReply, ControllerRequest, StepTime } from './rollout-protocol.js';
import { epochMs } from './rollout-protocol.js';

const [databaseUrl, url, token, certificate] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const database = await openDatabase({ url: databaseUrl, logger: silentLogger(), poolSize: 4 });
const kube = createKubePort(loadKubeConfig(tokenConnection({ url, token, certificate })));
let steps: StepTime[] = [];
const deps = {
  ...directRolloutDeps({ db: database.db, kube }),
  onStep: (step: string) => steps.push({ step, at: epochMs() }),
};

function reply(message: BenchReply): void {
  process.send?.(message);
}

process.on('message', (request: ControllerRequest) => {
  if (request.type === 'memory') {
    reply({ type: 'memory', maxRssBytes: process.resourceUsage().maxRSS * 1024 });
    return;
  }
  steps = [];
  const startedAt = epochMs();
  reconcileRollout(deps, request.key).then(
    (result) =>
      reply({
        type: 'reconciled',
        startedAt,
        endedAt: epochMs(),
        steps,
        requeueAfter: result.requeueAfter,
      }),
    (error: unknown) => reply({ type: 'failed', message: String(error) }),
  );
});
process.on('disconnect', () => void database.close().then(() => process.exit(0)));
reply({ type: 'ready' });
