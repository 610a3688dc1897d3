import type { JsonObject } from '../json.js';
import { fieldMatcher, parseFieldSelector, parseLabelSelector } from '../selectors.js';
import { ApiError, badRequest, notFound } from '../status.js';
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
      Number.isInteger(token.rv) &&
      typeof token.namespace === 'string' &&
      typeof token.name === 'string'
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

/** Parses a resourceVersion parameter; a non-number is a 400. */
export function parseResourceVersion(text: string): number {
  if (!/^\d+$/.test(text)) throw badRequest(`invalid resource version: ${JSON.stringify(text)}`);
  return Number(text);
}

/** LIST: the current objects, or a consistent later page of an earlier list (`continue`). */
export async function listObjects(
  services: Services,
  ctx: RequestContext,
  options: ListOptions,
): Promise<ListResult> {
  const matches = objectFilter(ctx, options);
  const query: ListQuery = {
    resource: ctx.type.storage,
    ...(ctx.type.namespaced && ctx.namespace ? { namespace: ctx.namespace } : {}),
    ...(options.limit && options.limit > 0 ? { limit: options.limit } : {}),
    filter: (object: StoredObject) => matches(toView(ctx, object)),
  };
  let page: ListPage;
  if (options.continue) {
    const token = decodeContinue(options.continue);
    query.after = { namespace: token.namespace, name: token.name };
    page = await services.store.listAt(query, token.rv).catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 410) {
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      throw error;
    });
  } else if (options.resourceVersionMatch === 'Exact' && options.resourceVersion) {
    page = await services.store.listAt(query, parseResourceVersion(options.resourceVersion));
  } else {
    page = await services.store.list(query);
  }
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
