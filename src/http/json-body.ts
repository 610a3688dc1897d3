import type { FastifyInstance } from 'fastify';
import { depthOf, MAX_JSON_DEPTH } from '../api/json-depth.js';
import { HttpProblem } from './problem.js';

/**
 * Replaces the JSON parser with fastify's own (prototype poisoning rejected) plus a nesting
 * limit, so no handler, validator or database sees a document deep enough to exhaust a stack.
 */
export function limitJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (error, value) => {
      if (error) return done(error, undefined);
      if (depthOf(value) > MAX_JSON_DEPTH) {
        return done(
          new HttpProblem(400, 'Invalid JSON', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`),
          undefined,
        );
      }
      done(null, value);
    });
  });
}
