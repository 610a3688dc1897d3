import { HttpProblem } from '../http/problem.js';
import { KubeApiError } from '../kube/port.js';

/** Seconds a client should wait before retrying while the Kubernetes API cannot be used. */
export const KUBE_RETRY_AFTER_SECONDS = 5;

/**
 * The problem a management client gets for a failed Kubernetes API call: the API server's own
 * verdict where it is the client's to fix (404, 409, 400 with the field causes of a 422), and 503
 * with Retry-After where the API server is unreachable, overloaded or refuses this process's own
 * credentials — nothing the client can change in its request.
 */
export function kubeProblem(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof KubeApiError) return apiProblem(cause);
    if (isNetworkFailure(cause)) return unreachable();
  }
  return undefined;
}

function apiProblem(error: KubeApiError): HttpProblem {
  const message = error.status?.message ?? error.message;
  switch (error.code) {
    case 400:
    case 422:
      return new HttpProblem(400, 'Invalid request', message, causesOf(error));
    case 404:
      return new HttpProblem(404, 'Not Found', message);
    case 409:
      return new HttpProblem(409, 'Conflict', message);
    case 401:
    case 403:
      return unavailable(
        `the Kubernetes API refused this server's credentials (${error.reason}): ${message}`,
      );
    default:
      return error.code >= 500 || error.code === 429
        ? unavailable(`the Kubernetes API answered ${error.code} ${error.reason}: ${message}`)
        : new HttpProblem(400, 'Invalid request', message);
  }
}

/** 503: the Kubernetes API, where every resource lives, cannot be used now. */
function unavailable(detail: string): HttpProblem {
  return new HttpProblem(503, 'Service Unavailable', detail, undefined, {
    'retry-after': String(KUBE_RETRY_AFTER_SECONDS),
  });
}

function unreachable(): HttpProblem {
  return unavailable('the Kubernetes API server is not reachable; retry later');
}

/**
 * A call that got no answer: refused, reset, timed out or a TLS failure (a system error code such
 * as ECONNREFUSED, or the fetch layer's FetchError and AbortError).
 */
function isNetworkFailure(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return (
    error.name === 'FetchError' ||
    error.name === 'AbortError' ||
    (typeof code === 'string' &&
      /^(E[A-Z]+|ERR_TLS|UND_ERR|CERT_|DEPTH_ZERO|SELF_SIGNED)/.test(code))
  );
}

function causesOf(error: KubeApiError): HttpProblem['errors'] {
  const causes = error.status?.details?.causes ?? [];
  const errors = causes
    .filter((cause) => cause.message !== undefined)
    .map((cause) => ({ path: cause.field ?? '', message: cause.message ?? '' }));
  return errors.length > 0 ? errors : undefined;
}
