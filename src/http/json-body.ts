import type { FastifyInstance } from 'fastify';
import { depthOf, MAX_JSON_DEPTH } from '../api/json-depth.js';
import { findUnstorable, printable, type UnstorableText } from '../api/storable-text.js';
import { HttpProblem } from './problem.js';

/**
 * Replaces the JSON parser with fastify's own (prototype poisoning rejected) plus a nesting
 * limit and a check that every string and key can be stored (no NUL, no unpaired surrogate), so
 * no handler, validator or database sees a document deep enough to exhaust a stack or text
 * Postgres refuses.
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
      const unstorable = findUnstorable(value);
      if (unstorable) return done(unstorableProblem(unstorable), undefined);
      done(null, value);
    });
  });
}

/** 400 naming the field as validation errors do (`body/labels/site`), the text escaped. */
function unstorableProblem(found: UnstorableText): HttpProblem {
  const path = ['body', ...found.path.map((key) => escapePointer(printable(String(key))))].join(
    '/',
  );
  const message = `${found.key ? 'property name ' : ''}must not contain ${found.reason}`;
  return new HttpProblem(400, 'Invalid request', `${path} ${message}`, [{ path, message }]);
}

/** A JSON pointer reference token (RFC 6901). */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
