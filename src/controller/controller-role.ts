import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { KubePort } from '../kube/port.js';
import type { Logger } from '../telemetry/logger.js';
import { FleetController } from './fleet-controller.js';
import { LeaderElector } from './leader-election.js';

/** The controller role: the fleet controller, run only while this process holds the Lease. */
export interface ControllerRole {
  readonly elector: LeaderElector;
  /** Stops reconciling, waits for reconciles in flight, releases the Lease. */
  stop(): Promise<void>;
}

/**
 * Starts campaigning for the controller Lease; while leading, runs the fleet controller. When
 * the lease is lost the controller's signal aborts at once: no write starts after that.
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
  });
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
