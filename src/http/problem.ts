import type { FastifyReply } from 'fastify';
import { DATABASE_RETRY_AFTER_SECONDS } from '../db/connection-errors.js';

/** An RFC 9457 problem detail, the body of every error answer of our HTTP APIs. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  /** Field-level errors: where the input was wrong and why. */
  errors?: Array<{ path: string; message: string }>;
}

/** Media type of problem details. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An error that maps to one HTTP problem answer; throw it from a handler. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: Problem['errors'],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }

  /** The body this error is sent as. */
  toProblem(): Problem {
    return {
      type: 'about:blank',
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

/** Sends a problem answer. */
export function sendProblem(reply: FastifyReply, problem: HttpProblem): FastifyReply {
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problem.toProblem());
}

/** 503 with Retry-After: the database is unreachable now; the same request may succeed later. */
export function databaseUnavailable(): HttpProblem {
  return new HttpProblem(
    503,
    'Service Unavailable',
    'the database is not reachable; retry later',
    undefined,
    { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
  );
}
