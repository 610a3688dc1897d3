import { Lexer } from 'yaml';
import { depthOf, MAX_JSON_DEPTH } from '../../api/json-depth.js';
import { storable } from '../json.js';
import { badRequest } from '../status.js';
import { parseYamlBody } from './yaml-body.js';

/** How a request body is written: JSON, or YAML (apply patches, `application/yaml`). */
export type BodySyntax = 'json' | 'yaml';

const TOO_DEEP = `error decoding request body: nested deeper than ${MAX_JSON_DEPTH} levels`;

/**
 * The one decoder of request bodies: JSON or YAML text to a JSON value. Invalid text, nesting
 * deeper than MAX_JSON_DEPTH, `__proto__` keys and strings Postgres cannot store (NUL, unpaired
 * surrogates) are 400 BadRequest, found before anything recursive (the YAML composer, patches,
 * validation) walks the value, assigns its keys or stores it.
 */
export function decodeBody(text: string, syntax: BodySyntax): unknown {
  const value = syntax === 'json' ? parseJsonText(text) : parseYamlText(text);
  checkDepth(value);
  const problem = forbiddenContent(value);
  if (problem) throw badRequest(`error decoding request body: ${problem}`);
  return value;
}

const UNSTORABLE = 'strings may not contain NUL characters or unpaired surrogates';
const NOT_FINITE = 'numbers must be finite (JSON has no Infinity or NaN)';

/**
 * What no body may contain, or undefined: a `__proto__` key (assigning it would set a
 * prototype), a string Postgres cannot store, or a number JSON cannot hold (YAML's `.inf`, `1e400`).
 */
function forbiddenContent(value: unknown): string | undefined {
  const stack = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string' && !storable(current)) return UNSTORABLE;
    if (typeof current === 'number' && !Number.isFinite(current)) return NOT_FINITE;
    if (current === null || typeof current !== 'object') continue;
    for (const [key, child] of Object.entries(current)) {
      if (key === '__proto__' && !Array.isArray(current)) {
        return 'object contains forbidden prototype property';
      }
      if (!storable(key)) return UNSTORABLE;
      stack.push(child);
    }
  }
  return undefined;
}

/** 400 BadRequest for a value nested deeper than MAX_JSON_DEPTH (a body, or a patch's result). */
export function checkDepth(value: unknown): void {
  if (depthOf(value) > MAX_JSON_DEPTH) throw badRequest(TOO_DEEP);
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`error decoding request body: ${(error as Error).message}`, { cause: error });
  }
}

function parseYamlText(text: string): unknown {
  // The YAML composer recurses per level, so deep flow collections are refused unparsed.
  if (flowDepthExceeds(text, MAX_JSON_DEPTH)) throw badRequest(TOO_DEEP);
  try {
    return parseYamlBody(text);
  } catch (error) {
    // Deep block nesting still reaches the composer; the yaml package reports the exhaustion.
    if ((error as { code?: unknown }).code === 'RESOURCE_EXHAUSTION') throw badRequest(TOO_DEEP);
    throw badRequest(`error decoding YAML: ${(error as Error).message}`, { cause: error });
  }
}

/** Whether `[`/`{` collections nest deeper than `limit`; the lexer stops at the first excess. */
function flowDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      depth += 1;
      if (depth > limit) return true;
    } else if (token === ']' || token === '}') depth -= 1;
  }
  return false;
}
