import type { FastifyInstance } from 'fastify';
import { HttpProblem } from './problem.js';

/** Deepest JSON nesting any body may have; our documents need far less. */
export const MAX_JSON_DEPTH = 32;

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

/** Nesting depth of a parsed JSON value, computed without recursion. */
export function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}
