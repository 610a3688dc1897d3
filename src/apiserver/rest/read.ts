import { type JsonObject, storable } from '../json.js';
import { fieldError } from '../schema/field-errors.js';
import type { FieldError } from '../schema/index.js';
import { fieldMatcher, parseFieldSelector, parseLabelSelector } from '../selectors.js';
import { ApiError, badRequest, invalid, notFound, resourceVersionTooLarge } from '../status.js';
import type { ListPage, ListQuery, StoredObject } from '../storage/store.js';
import {
  groupResource,
  keyOf,
  meta,
  type RequestContext,
  type Services,
  toView,
} from './context.js';

/** Query parameters of a list (and of the initial state of a watch). */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

/** One page of a list, in the served form. */
export interface ListResult {
  items: JsonObject[];
  resourceVersion: string;
  continueToken?: string;
}

/** GET of one object. */
export async function getObject(services: Services, ctx: RequestContext, name: string) {
  const stored = await services.store.get(keyOf(ctx, name));
  if (!stored) throw notFound(groupResource(ctx.type), name);
  return toView(ctx, stored);
}

/**
 * The predicate of a request's namespace, label selector and field selector over served
 * objects. Field selectors know `metadata.name`, `metadata.namespace` and the kind's own fields.
 */
export function objectFilter(
  ctx: RequestContext,
  options: ListOptions,
): (object: JsonObject) => boolean {
  const labels = parseLabelSelector(options.labelSelector);
  const selectable = ctx.type.selectableFields;
  const fields = fieldMatcher(
    parseFieldSelector(options.fieldSelector),
    ['metadata.name', 'metadata.namespace', ...Object.keys(selectable)],
    (object: JsonObject) => {
      const metadata = meta(object);
      const values: Record<string, string> = {
        'metadata.name': String(metadata.name ?? ''),
        'metadata.namespace': String(metadata.namespace ?? ''),
      };
      for (const [field, read] of Object.entries(selectable)) values[field] = read(object) ?? '';
      return values;
    },
  );
  return (object) => {
    const metadata = meta(object);
    if (ctx.namespace && ctx.type.namespaced && metadata.namespace !== ctx.namespace) return false;
    return labels.matches(metadata.labels as Record<string, string> | undefined) && fields(object);
  };
}

interface ContinueToken {
  rv: number;
  namespace: string;
  name: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(text: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as ContinueToken;
    if (
      Number.isSafeInteger(token.rv) &&
      token.rv >= 0 &&
      typeof token.namespace === 'string' &&
      typeof token.name === 'string' &&
      storable(token.namespace) &&
      storable(token.name)
    ) {
      return token;
    }
  } catch {
    // reported below
  }
  throw badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}

/** Parses a resourceVersion parameter as upstream does; anything but a decimal number is a 400. */
export function parseResourceVersion(text: string): number {
  const problem = !/^\d+$/.test(text)
    ? 'invalid syntax'
    : Number.isSafeInteger(Number(text))
      ? undefined
      : 'value out of range';
  if (problem) {
    const quoted = JSON.stringify(text);
    throw badRequest(
      `resourceVersion: Invalid value: ${quoted}: strconv.ParseUint: parsing ${quoted}: ${problem}`,
    );
  }
  return Number(text);
}

/** 504 ResourceVersionTooLarge when the store has not reached `version` yet. */
export async function requireReached(services: Services, version: number): Promise<void> {
  const { resourceVersion } = await services.store.state();
  if (version > resourceVersion) throw resourceVersionTooLarge(String(version), resourceVersion);
}

const MATCHES = ['Exact', 'NotOlderThan'];

/**
 * Checks `resourceVersionMatch` (and, on a watch, `sendInitialEvents`) as upstream's
 * ValidateListOptions does: 422 Invalid ListOptions.
 */
export function checkListOptions(
  options: ListOptions & { sendInitialEvents?: boolean; allowWatchBookmarks?: boolean },
  watch: boolean,
) {
  const match = options.resourceVersionMatch;
  const errors: FieldError[] = [];
  const forbid = (field: string, detail: string) =>
    errors.push(fieldError.forbidden(field, detail));
  if (watch && options.sendInitialEvents !== undefined) {
    if (match !== 'NotOlderThan') {
      forbid(
        'resourceVersionMatch',
        'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      );
    }
    if (options.sendInitialEvents && !options.allowWatchBookmarks) {
      forbid('allowWatchBookmarks', 'allowWatchBookmarks required when sendInitialEvents is true');
    }
  } else if (match) {
    if (!MATCHES.includes(match))
      errors.push(fieldError.notSupported('resourceVersionMatch', match, MATCHES));
    else if (watch)
      forbid(
        'resourceVersionMatch',
        'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
      );
    else if (!options.resourceVersion)
      forbid(
        'resourceVersionMatch',
        'resourceVersionMatch is forbidden unless resourceVersion is provided',
      );
    else if (options.continue)
      forbid('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
    else if (match === 'Exact' && options.resourceVersion === '0') {
      forbid(
        'resourceVersionMatch',
        'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      );
    }
  }
  if (errors.length > 0) throw invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', errors);
}

/** The store query of a list or a watch's initial state: the request's scope and filter. */
export function listQuery(
  ctx: RequestContext,
  matches: (object: JsonObject) => boolean,
): ListQuery {
  return {
    resource: ctx.type.storage,
    ...(ctx.type.namespaced && ctx.namespace ? { namespace: ctx.namespace } : {}),
    filter: (object: StoredObject) => matches(toView(ctx, object)),
  };
}

/** LIST: the current objects, or a consistent later page of an earlier list (`continue`). */
export async function listObjects(
  services: Services,
  ctx: RequestContext,
  options: ListOptions,
): Promise<ListResult> {
  checkListOptions(options, false);
  const query: ListQuery = {
    ...listQuery(ctx, objectFilter(ctx, options)),
    ...(options.limit && options.limit > 0 ? { limit: options.limit } : {}),
  };
  const page = await readPage(services, query, options);
  const items = page.objects.map((object) => toView(ctx, object));
  const last = page.objects.at(-1);
  const result: ListResult = { items, resourceVersion: String(page.resourceVersion) };
  if (page.more && last) {
    const metadata = meta(last);
    result.continueToken = encodeContinue({
      rv: page.resourceVersion,
      namespace: String(metadata.namespace ?? ''),
      name: String(metadata.name),
    });
  }
  return result;
}

/**
 * The page a list asks for: after a continue token, at an exact version, or the current objects
 * (no older than the version given); a version the store has not reached is a 504 (the store
 * checks it in the transaction that reads the page).
 */
async function readPage(
  services: Services,
  query: ListQuery,
  options: ListOptions,
): Promise<ListPage> {
  const { resourceVersion } = options;
  if (options.continue) {
    if (resourceVersion && resourceVersion !== '0') {
      throw badRequest('specifying resource version is not allowed when using continue');
    }
    const token = decodeContinue(options.continue);
    query.after = { namespace: token.namespace, name: token.name };
    return services.store.listAt(query, token.rv).catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 410) {
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      throw error;
    });
  }
  if (!resourceVersion || resourceVersion === '0') return services.store.list(query);
  const version = parseResourceVersion(resourceVersion);
  if (options.resourceVersionMatch === 'Exact') return services.store.listAt(query, version);
  return services.store.list(query, version);
}
