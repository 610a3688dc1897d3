import { HttpProblem } from '../http/problem.js';

const CHALLENGE = { 'www-authenticate': 'Bearer realm="fleet-rollout"' };

/** 401: no credential, or one we do not know; never says which. */
export function unauthorized(what: string): HttpProblem {
  return new HttpProblem(401, 'Unauthorized', `a valid ${what} is required`, undefined, CHALLENGE);
}

/** 403: a valid device key used for another device. */
export function forbidden(uuid: string): HttpProblem {
  return new HttpProblem(403, 'Forbidden', `this key does not belong to device ${uuid}`);
}

/** 404: no device with this uuid. */
export function unknownDevice(uuid: string): HttpProblem {
  return new HttpProblem(404, 'Not Found', `no device ${uuid.slice(0, 64)} is registered`);
}

/** 503: this process is too far behind to take the request now; come back after `retryAfter` s. */
export function overloaded(retryAfterSeconds: number): HttpProblem {
  return new HttpProblem(
    503,
    'Service Unavailable',
    'the device API is overloaded; retry later',
    undefined,
    { 'retry-after': String(retryAfterSeconds) },
  );
}
