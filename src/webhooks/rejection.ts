import { HttpProblem } from '../http/problem.js';
import type { AuthFailure } from './auth.js';
import type { DeliveryOutcomeLabel } from './metrics.js';
import { PayloadError } from './push.js';

/** A delivery refused before processing; `reason` (a constant) is counted and logged, never sent. */
export class Rejection extends HttpProblem {
  constructor(
    status: number,
    readonly reason: RejectionReason,
    title: string,
    detail?: string,
    headers?: Record<string, string>,
  ) {
    super(status, title, detail, undefined, headers);
  }
}

/** Why a delivery was refused: constants only, so the metric's `reason` label stays bounded. */
export type RejectionReason =
  | AuthFailure
  | 'UnsupportedMediaType'
  | 'MalformedPayload'
  | 'TooLarge'
  | 'BadRequest'
  | 'EmptyBody'
  | 'RateLimited'
  | 'UnknownRegistry';

/** The media types every receiver accepts, as 415 answers name them. */
export const JSON_TYPES = 'application/json (or a +json media type)';

/** 415: the delivery's media type is not one its receiver accepts; `detail` names those it does. */
export function unsupportedMediaType(detail: string): Rejection {
  return new Rejection(415, 'UnsupportedMediaType', 'Unsupported media type', detail);
}

/** Maps anything thrown while receiving to the problem answer the sender gets. */
export function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof PayloadError) {
    return new Rejection(400, 'MalformedPayload', 'Malformed webhook payload', error.message);
  }
  const status = (error as { statusCode?: number }).statusCode;
  const message = (error as Error).message;
  if (status === 413) return new Rejection(413, 'TooLarge', 'Payload too large', message);
  if (status === 415) {
    return unsupportedMediaType(
      `send ${JSON_TYPES}; GitHub deliveries may also be application/x-www-form-urlencoded`,
    );
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new Rejection(status, 'BadRequest', 'Bad request', message);
  }
  const detail = 'cannot process the delivery now; retry';
  return new HttpProblem(503, 'Service unavailable', detail, undefined, { 'retry-after': '30' });
}

const STATUS_OUTCOMES: Record<number, DeliveryOutcomeLabel> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** The metrics outcome of a refused delivery. */
export function outcomeOfStatus(status: number): DeliveryOutcomeLabel {
  return STATUS_OUTCOMES[status] ?? (status < 500 ? 'bad_request' : 'unavailable');
}

/** The reason of a refused delivery, for metrics and logs. */
export function reasonOf(problem: HttpProblem): RejectionReason {
  if (problem instanceof Rejection) return problem.reason;
  return problem.status === 404 ? 'UnknownRegistry' : 'BadRequest';
}
