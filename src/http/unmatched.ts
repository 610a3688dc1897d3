import type { FastifyInstance, FastifyRequest } from 'fastify';
import { trackRouteMethods } from './allowed-methods.js';
import { HttpProblem, sendProblem } from './problem.js';

/** Records the duration of an answer no route gave (request-metrics' `instrumentRoutes`). */
type TimeUnmatched = (method: string, status: number, started: number) => void;

/**
 * Answers requests no route matches: 405 with `Allow` when the path has routes for other methods
 * (decided in onRequest, before any body is read or refused), else 404. Call before any route is
 * added, so every route is known; the hook runs only for unmatched requests, in a context of its
 * own, so matched routes (the device poll) pay nothing for it.
 */
export async function answerUnmatched(app: FastifyInstance, timeUnmatched: TimeUnmatched) {
  const allowedMethods = trackRouteMethods(app);
  await app.register(async (unmatched) => {
    unmatched.addHook('onRequest', (request, reply, done) => {
      const started = performance.now();
      const allowed = allowedMethods(pathOf(request));
      if (allowed.length === 0) return done();
      const detail = `${pathOf(request)} answers ${allowed.join(', ')}`;
      const headers = { allow: allowed.join(', ') };
      sendProblem(reply, new HttpProblem(405, 'Method Not Allowed', detail, undefined, headers));
      timeUnmatched(request.method, 405, started);
    });
    unmatched.setNotFoundHandler((request, reply) => {
      const started = performance.now();
      const detail = `no route for ${request.method} ${pathOf(request)}`;
      sendProblem(reply, new HttpProblem(404, 'Not Found', detail));
      timeUnmatched(request.method, 404, started);
      return reply;
    });
  });
}

/** The request path without its query, bounded for error messages. */
function pathOf(request: FastifyRequest): string {
  const url = request.url;
  const query = url.indexOf('?');
  return (query < 0 ? url : url.slice(0, query)).slice(0, 200);
}
