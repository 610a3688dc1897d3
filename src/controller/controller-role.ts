import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { KubePort } from '../kube/port.js';
import type { Logger } from '../telemetry/logger.js';
import { FleetController } from './fleet-controller.js';
import { LeaderElector } from './leader-election.js';

/**
 * The controller role: the fleet controller, run only while this process holds the Lease, or
 * all the time when leader election is off.
 */
export interface ControllerRole {
  /** The Lease campaign; undefined when leader election is off. */
  readonly elector: LeaderElector | undefined;
  /** Stops reconciling, waits for reconciles in flight, releases the Lease. */
  stop(): Promise<void>;
}

/**
 * Starts campaigning for the controller Lease; while leading, runs the fleet controller. When
 * the lease is lost the controller's signal aborts at once: no write starts after that. With
 * leader election off the controller runs at once, until `stop`.
 */
export function startControllerRole(
  config: Config,
  deps: { database: Database; kube: KubePort; logger: Logger; metrics: Registry },
): ControllerRole {
  const logger = deps.logger.child({ role: 'controller' });
  const election = config.kube.leaderElection;
  const controller = new FleetController({
    ...deps,
    logger,
    registry: deps.metrics,
    identity: election.identity,
    resyncMs: config.controller.resyncSeconds * 1000,
    concurrency: config.controller.concurrency,
    namespace: config.kube.namespace,
  });
  if (!election.enabled) return runUnelected(controller, logger);
  const elector = new LeaderElector({
    leases: deps.kube.leases,
    namespace: election.namespace,
    name: election.leaseName,
    identity: election.identity,
    leaseDurationMs: election.leaseDurationMs,
    renewDeadlineMs: election.renewDeadlineMs,
    retryPeriodMs: election.retryPeriodMs,
    onStartedLeading: (signal) => controller.run(signal),
    registry: deps.metrics,
    logger,
  });
  elector.start();
  return { elector, stop: () => elector.stop() };
}

/** Runs the controller without a Lease until stopped; a failed run is logged and run again. */
function runUnelected(controller: FleetController, logger: Logger): ControllerRole {
  const abort = new AbortController();
  logger.warn('leader election is off: run only one controller');
  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        await controller.run(abort.signal);
      } catch (error) {
        logger.error({ err: error }, 'controller failed; running it again in 2 s');
        await sleep(UNELECTED_RETRY_MS, undefined, { signal: abort.signal }).catch(() => {});
      }
    }
  };
  const running = loop();
  return {
    elector: undefined,
    stop: async () => {
      abort.abort();
      await running;
    },
  };
}

const UNELECTED_RETRY_MS = 2000;
