import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DbOrTx } from '../db/client.js';
import { HttpProblem } from '../http/problem.js';
import type { KubePort } from '../kube/port.js';
import type { Logger } from '../telemetry/logger.js';
import { kubeProblem } from './kube-problems.js';

/** What the management routes are built from. */
export interface ManagementDeps {
  kube: KubePort;
  /** The device database, which preview selects devices from (as the controller does). */
  db: DbOrTx;
  logger: Logger;
  adminToken: string;
  /** The one namespace this process manages (`--namespace`); undefined: every namespace. */
  namespace?: string;
  /** The clock preview and freeze judge time by (default the system clock). */
  now?: () => Date;
}

/** A route handler. */
export type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Runs a handler, answering failed Kubernetes API calls as the problems `kubeProblem` picks. */
export function handled(handler: Handler): Handler {
  return async (request, reply) => {
    try {
      return await handler(request, reply);
    } catch (error) {
      throw kubeProblem(error) ?? error;
    }
  };
}

/**
 * The namespace a request may use: any when the process manages every namespace, else only its
 * own (403 for another, since this process's Kubernetes credentials may not reach it).
 */
export function allowedNamespace(deps: ManagementDeps, namespace: string): string {
  if (deps.namespace !== undefined && namespace !== deps.namespace) {
    throw new HttpProblem(
      403,
      'Forbidden',
      `this server manages namespace ${deps.namespace} only, not ${namespace}`,
    );
  }
  return namespace;
}

/** The namespace a list reads: the filter, or this process's namespace, or every one. */
export function listNamespace(deps: ManagementDeps, filter: string | undefined) {
  return filter === undefined ? deps.namespace : allowedNamespace(deps, filter);
}

/** 404 for a resource that does not exist, named as kubectl names it. */
export function notFound(kind: 'imagerollouts' | 'imagepolicies', ns: string, name: string) {
  return new HttpProblem(
    404,
    'Not Found',
    `${kind}.fleet.iotistic.io "${name}" not found in namespace ${ns}`,
  );
}
