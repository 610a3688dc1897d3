import type { JsonObject } from '../json.js';
import { apiVersionOf } from '../resources/types.js';
import { ApiError } from '../status.js';
import type { ChangeFeed, Subscription } from '../storage/change-feed.js';
import type { Change } from '../storage/store.js';
import { meta, type RequestContext, type Services, toView } from './context.js';
import {
  checkListOptions,
  type ListOptions,
  listQuery,
  objectFilter,
  parseResourceVersion,
  requireReached,
} from './read.js';

/** One watch event as it goes on the wire. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: JsonObject;
}

/** Watch parameters beyond those of a list. */
export interface WatchOptions extends ListOptions {
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
}

/** A running watch. */
export interface RunningWatch {
  /** Sends a BOOKMARK with the latest resourceVersion delivered (if bookmarks were asked for). */
  bookmark(): void;
  close(): void;
}

/** The annotation of the bookmark that ends the initial events of a watch-list. */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/**
 * Starts a watch: the initial state when asked (`resourceVersion` unset or 0, or
 * `sendInitialEvents=true`), then every change after it, filtered by namespace and selectors
 * the way the watch cache filters (an object that stops matching is DELETED for this watcher).
 * A version older than the compacted log ends the watch with an ERROR event (410 Expired), one
 * the store has not reached with an ERROR event (504 ResourceVersionTooLarge).
 */
export async function startWatch(
  services: Services,
  feed: ChangeFeed,
  ctx: RequestContext,
  options: WatchOptions,
  emit: (event: WatchEvent) => void,
  end: () => void,
): Promise<RunningWatch> {
  checkListOptions(options, true);
  const matches = objectFilter(ctx, options);
  const requested = options.resourceVersion ? parseResourceVersion(options.resourceVersion) : 0;
  const initial = options.sendInitialEvents === true || requested === 0;
  let subscription: Subscription;
  try {
    // A version from the future would watch nothing until the store reached it: 504 instead
    // (the initial list checks that itself).
    if (requested > 0 && !initial) await requireReached(services, requested);
    const from = initial
      ? await sendInitialState(services, ctx, options, matches, emit, requested)
      : requested;
    subscription = await feed.subscribe(ctx.type.storage, from, {
      deliver: (change) => {
        const event = toEvent(ctx, change, matches);
        if (event) emit(event);
      },
      expire: (error) => {
        emit({ type: 'ERROR', object: error.toStatus() as unknown as JsonObject });
        end();
      },
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    emit({ type: 'ERROR', object: error.toStatus() as unknown as JsonObject });
    end();
    return { bookmark: () => {}, close: () => {} };
  }
  return {
    bookmark: () => {
      if (options.allowWatchBookmarks) {
        emit({ type: 'BOOKMARK', object: bookmark(ctx, subscription.progress()) });
      }
    },
    close: () => subscription.close(),
  };
}

/** A BOOKMARK event's object: only the kind and the resourceVersion (and annotations) count. */
function bookmark(
  ctx: RequestContext,
  resourceVersion: number,
  annotations?: Record<string, string>,
) {
  return {
    kind: ctx.type.kind,
    apiVersion: apiVersionOf(ctx.type),
    metadata: { resourceVersion: String(resourceVersion), ...(annotations ? { annotations } : {}) },
  };
}

/** ADDED events for the current objects (and the end-of-initial-events bookmark when asked). */
async function sendInitialState(
  services: Services,
  ctx: RequestContext,
  options: WatchOptions,
  matches: (object: JsonObject) => boolean,
  emit: (event: WatchEvent) => void,
  notOlderThan: number,
): Promise<number> {
  const page = await services.store.list(listQuery(ctx, matches), notOlderThan);
  for (const object of page.objects) emit({ type: 'ADDED', object: toView(ctx, object) });
  if (options.sendInitialEvents) {
    const annotations = { [INITIAL_EVENTS_END]: 'true' };
    emit({ type: 'BOOKMARK', object: bookmark(ctx, page.resourceVersion, annotations) });
  }
  return page.resourceVersion;
}

/** The event a watcher sees for one change, or none when the object never matched. */
function toEvent(
  ctx: RequestContext,
  change: Change,
  matches: (o: JsonObject) => boolean,
): WatchEvent | undefined {
  const object = toView(ctx, change.object);
  if (change.type === 'DELETED') return matches(object) ? { type: 'DELETED', object } : undefined;
  const now = matches(object);
  const before = change.prevObject ? matches(toView(ctx, change.prevObject)) : false;
  if (now && !before) return { type: 'ADDED', object };
  if (now && before) return { type: 'MODIFIED', object };
  if (!now && before && change.prevObject) {
    const previous = structuredClone(toView(ctx, change.prevObject));
    meta(previous).resourceVersion = String(change.resourceVersion);
    return { type: 'DELETED', object: previous };
  }
  return undefined;
}
