import type { FastifyRequest } from 'fastify';
import { sameSecret } from '../api/same-secret.js';
import type { Database } from '../db/client.js';
import {
  type EventCursor,
  type EventQuery,
  type NamespacedName,
  readEvents,
} from '../db/event-log-reader.js';
import { HttpProblem } from '../http/problem.js';
import { jsonResponse, problemResponses } from '../http/responses.js';
import type { HttpPlugin } from '../http/server.js';
import { bearerToken } from './credentials.js';
import { unauthorized } from './problems.js';
import { UUID_PATTERN } from './schemas.js';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
/** RFC 3339 with a zone (`Z` or an offset), fractions of a second allowed. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
/** `namespace/name`: a DNS label, a slash, a DNS subdomain (as Kubernetes names objects). */
const NAMESPACED =
  /^([a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)\/([a-z0-9](?:[-.a-z0-9]{0,251}[a-z0-9])?)$/;

/** The query of `GET /api/v1/events`, as it arrives (strings). */
type EventsQuery = {
  rollout?: string;
  policy?: string;
  device?: string;
  type?: string;
  since?: string;
  until?: string;
  limit?: string;
  continue?: string;
};

const querySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rollout: { type: 'string', maxLength: 317, description: 'ImageRollout `namespace/name`' },
    policy: { type: 'string', maxLength: 317, description: 'ImagePolicy `namespace/name`' },
    device: { type: 'string', pattern: UUID_PATTERN, description: 'device uuid' },
    type: {
      type: 'string',
      pattern: '^[a-z]+\\.[a-z_]+$',
      maxLength: 64,
      description: 'entry type, e.g. `image.rollout_created`',
    },
    since: { type: 'string', maxLength: 40, description: 'RFC 3339 time: entries at or after' },
    until: { type: 'string', maxLength: 40, description: 'RFC 3339 time: entries before' },
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$', description: '1–1000, default 100' },
    continue: { type: 'string', maxLength: 128, description: 'the previous page’s `continue`' },
  },
} as const;

const entrySchema = {
  type: 'object',
  required: ['id', 'type', 'subject', 'time', 'payload'],
  properties: {
    id: { type: 'integer', description: 'grows with each entry written' },
    type: { type: 'string' },
    subject: {
      type: 'string',
      description: 'what it is about: `namespace/name` of a rollout, a device uuid, a registry',
    },
    time: { type: 'string', description: 'when it was written, RFC 3339 UTC, microseconds' },
    payload: { type: 'object', additionalProperties: true },
  },
} as const;

const pageSchema = {
  type: 'object',
  required: ['items'],
  properties: {
    items: { type: 'array', items: entrySchema },
    continue: { type: 'string', description: 'pass as `continue` for the next page' },
  },
} as const;

/** What the event-log routes need. */
export interface EventLogRoutesDeps {
  database: Database;
  adminToken: string;
}

/**
 * `GET /api/v1/events`: the event log, oldest first, filtered by rollout, policy, device, type
 * and time, in keyset pages (`continue`). Admin bearer token.
 */
export function eventLogRoutes(deps: EventLogRoutesDeps): HttpPlugin {
  return async (app) => {
    app.addHook('onRequest', async (request) => {
      const token = bearerToken(request.headers.authorization);
      if (token === undefined || !sameSecret(token, deps.adminToken)) {
        throw unauthorized('admin token');
      }
    });
    app.get(
      '/api/v1/events',
      {
        schema: {
          summary:
            'Read the event log, oldest first; filter by rollout, policy, device, type, time',
          tags: ['admin'],
          security: [{ adminToken: [] }],
          querystring: querySchema,
          response: {
            200: jsonResponse('a page of entries, by time then id', pageSchema),
            ...problemResponses(400, 401, 503),
          },
        },
      },
      async (request: FastifyRequest) => {
        const page = await readEvents(deps.database.db, parseQuery(request.query as EventsQuery));
        return { items: page.items, ...(page.next ? { continue: encodeCursor(page.next) } : {}) };
      },
    );
  };
}

/** The query, checked: each bad filter is one field error of a 400 naming all of them. */
function parseQuery(query: EventsQuery): EventQuery {
  const errors: Array<{ path: string; message: string }> = [];
  const fail = (field: string, message: string) => {
    errors.push({ path: `querystring/${field}`, message });
    return undefined;
  };
  const named = (field: 'rollout' | 'policy'): NamespacedName | undefined => {
    const value = query[field];
    if (value === undefined) return undefined;
    const match = NAMESPACED.exec(value);
    if (!match) return fail(field, `must be namespace/name (lower-case DNS names), got "${value}"`);
    return { namespace: match[1] as string, name: match[2] as string };
  };
  const time = (field: 'since' | 'until'): Date | undefined => {
    const value = query[field];
    if (value === undefined) return undefined;
    const date = new Date(RFC3339.test(value) ? value : Number.NaN);
    // Postgres has no year 0; later than 9999 cannot be written in RFC 3339.
    if (!(date.getUTCFullYear() >= 1)) {
      return fail(field, `must be an RFC 3339 time from year 1, got "${value}"`);
    }
    return date;
  };
  const parsed: EventQuery = {
    rollout: named('rollout'),
    policy: named('policy'),
    device: query.device?.toLowerCase(),
    type: query.type,
    since: time('since'),
    until: time('until'),
    after: query.continue === undefined ? undefined : decodeCursor(query.continue, fail),
    limit: Math.min(Number(query.limit ?? DEFAULT_PAGE), MAX_PAGE),
  };
  if (parsed.since && parsed.until && parsed.since >= parsed.until) {
    fail('until', 'must be after since');
  }
  if (errors.length > 0) {
    throw new HttpProblem(400, 'Invalid request', 'the event-log query is invalid', errors);
  }
  return parsed;
}

/** The opaque `continue` token of a cursor. */
function encodeCursor(cursor: EventCursor): string {
  return Buffer.from(JSON.stringify([cursor.time, cursor.id])).toString('base64url');
}

function decodeCursor(
  token: string,
  fail: (field: string, message: string) => undefined,
): EventCursor | undefined {
  try {
    const [time, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof time === 'string' && isCursorTime(time) && Number.isSafeInteger(id) && id > 0) {
      return { time, id };
    }
  } catch {
    // Not JSON: answered below like any other token this server did not issue.
  }
  return fail('continue', 'is not a continue token of this API; start again without it');
}

/** A time as readEvents writes cursors (`2026-03-01T10:00:00.123456Z`), and a real one. */
function isCursorTime(time: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(time)) return false;
  const date = new Date(`${time.slice(0, 23)}Z`);
  return date.getUTCFullYear() >= 1 && date.toISOString().slice(0, 23) === time.slice(0, 23);
}
