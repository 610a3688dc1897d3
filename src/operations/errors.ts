import { KubeApiError } from '../kube/port.js';

/** Why an operation refused or failed; each maps to one HTTP status (OperationError.status). */
export type OperationErrorReason =
  /** The rollout or policy does not exist. */
  | 'NotFound'
  /** The rollout is Succeeded, RolledBack or Superseded, or rolling back after an abort. */
  | 'AlreadyTerminal'
  /** Every batch is approved already, or the strategy has no approval gate. */
  | 'NothingToApprove'
  /** The rollout is not paused by its failure budget. */
  | 'NothingToRetry'
  /** `resume` of a rollout that its failure budget paused, not spec.paused. */
  | 'NotPausedByUser'
  /** The input (an image reference, a tag) or the resource's spec is invalid. */
  | 'Invalid'
  /** The resource kept changing under the operation (every retry hit a 409 Conflict). */
  | 'Conflict';

const STATUS: Record<OperationErrorReason, number> = {
  NotFound: 404,
  AlreadyTerminal: 409,
  NothingToApprove: 409,
  NothingToRetry: 409,
  NotPausedByUser: 409,
  Invalid: 422,
  Conflict: 409,
};

/**
 * A refusal of an operation in `src/operations/`, with a machine-readable reason and a message
 * for humans. API server errors that are not the operation's to judge (unreachable, forbidden)
 * are thrown as they are (KubeApiError or a network error).
 */
export class OperationError extends Error {
  constructor(
    readonly reason: OperationErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OperationError';
  }

  /** The HTTP status a REST API answers this refusal with. */
  get status(): number {
    return STATUS[this.reason];
  }
}

/** A namespaced resource name. */
export interface ResourceRef {
  namespace: string;
  name: string;
}

/** An API server's 422 Invalid (a CEL rule, a schema) as an operation's Invalid, else as is. */
export function fromKubeError(error: unknown, what: string): unknown {
  if (error instanceof KubeApiError && error.code === 422) {
    return new OperationError('Invalid', `${what}: ${error.message}`, { cause: error });
  }
  if (error instanceof KubeApiError && error.code === 404) {
    return new OperationError('NotFound', `${what}: not found`, { cause: error });
  }
  return error;
}
