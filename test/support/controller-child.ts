/**
 * The fleet controller in a process of its own, for the crash test. Environment: DATABASE_URL,
 * KUBE_SERVER, KUBE_TOKEN, KUBE_CA (base64 PEM), CRASH_AT (the step boundary — effects and
 * status writes, counted from start — at which it SIGKILLs itself; 0: never), CRASH_ON (a step
 * name, e.g. `effect-StartBatch`: SIGKILL at its first occurrence). Prints one line
 * per boundary (`step <n> <name>`) so the parent sees how far it got.
 */
import { FleetController } from '../../src/controller/fleet-controller.js';
import { openDatabase } from '../../src/db/client.js';
import { createKubePort, loadKubeConfig } from '../../src/kube/client-node.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { TEST_NOTIFICATION_TIMINGS } from './controller-process.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const crashAt = Number(process.env.CRASH_AT ?? '0');
const crashOn = process.env.CRASH_ON;
let steps = 0;
const database = await openDatabase({
  url: env('DATABASE_URL'),
  logger: silentLogger(),
  poolSize: 4,
});
const kube = createKubePort(
  loadKubeConfig({
    kind: 'token',
    server: env('KUBE_SERVER'),
    token: env('KUBE_TOKEN'),
    caData: env('KUBE_CA'),
  }),
);
const controller = new FleetController({
  database,
  kube,
  logger: silentLogger(),
  registry: createMetricsRegistry({ processMetrics: false }),
  identity: `child-${process.pid}`,
  resyncMs: 1_000,
  progressDelayMs: 100,
  notifications: TEST_NOTIFICATION_TIMINGS,
  onStep(step) {
    if (step === 'read') return;
    steps++;
    process.stdout.write(`step ${steps} ${step}\n`);
    if (steps === crashAt || step === crashOn) process.kill(process.pid, 'SIGKILL');
  },
});
const stopping = new AbortController();
process.once('SIGTERM', () => stopping.abort());
process.stdout.write('ready\n');
await controller.run(stopping.signal);
await database.close();
