import { HttpProblem } from '../http/problem.js';
import { PAGE } from './schemas.js';

/** One page of a list, and where the next one starts. */
export interface Page<T> {
  items: T[];
  /** Items matching the filters, on every page. */
  total: number;
  continue?: string;
}

/**
 * Pages through `items` in `namespace/name` order. The token names the last item shown, so a
 * page stays correct when resources are created or deleted between pages (nothing is skipped
 * or repeated except what changed).
 */
export function pageOf<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  query: { limit?: string; continue?: string },
): Page<T> {
  const limit = Math.min(Number(query.limit ?? PAGE.default), PAGE.max);
  const after = query.continue === undefined ? undefined : decodeToken(query.continue);
  const sorted = [...items].sort((a, b) => compare(keyOf(a), keyOf(b)));
  const rest = after === undefined ? sorted : sorted.filter((item) => keyOf(item) > after);
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  const more = rest.length > limit && last !== undefined;
  return {
    items: page,
    total: items.length,
    ...(more ? { continue: encodeToken(keyOf(last)) } : {}),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const TOKEN_VERSION = 'v1';

function encodeToken(key: string): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, after: key })).toString('base64url');
}

function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: unknown;
      after?: unknown;
    };
    if (parsed.v === TOKEN_VERSION && typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the problem below
  }
  throw new HttpProblem(
    400,
    'Invalid request',
    'continue: not a token this API gave; pass the `continue` of the previous page',
    [{ path: '/continue', message: 'is not a continue token' }],
  );
}

/** The sort and page key of a namespaced object. */
export function objectKey(object: { metadata: { namespace?: string; name?: string } }): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}
