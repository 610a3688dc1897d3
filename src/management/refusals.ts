import { HttpProblem } from '../http/problem.js';
import { OperationError } from '../operations/errors.js';
import { FreezeError } from '../operations/freeze.js';

const TITLES: Record<number, string> = {
  400: 'Invalid request',
  404: 'Not Found',
  409: 'Conflict',
};

/**
 * Runs an operation of src/operations/, its refusals as problems: NotFound 404, the state
 * refusing the action (AlreadyTerminal, NothingToApprove, NothingToRetry, NotPausedByUser) and
 * conflicts 409, invalid input or spec 400 (this API's status for bad input; the operations'
 * own 422 is the Kubernetes convention).
 */
export async function operated<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw refusal(error) ?? error;
  }
}

function refusal(error: unknown): HttpProblem | undefined {
  if (error instanceof OperationError) {
    const status = error.reason === 'Invalid' ? 400 : error.status;
    return new HttpProblem(status, TITLES[status] ?? 'Conflict', error.message);
  }
  if (error instanceof FreezeError) {
    return new HttpProblem(error.status, TITLES[error.status] ?? 'Conflict', error.message);
  }
  return undefined;
}
