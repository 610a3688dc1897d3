import type { FastifyReply, FastifyRequest } from 'fastify';
import { type JsonObject, withConventionalKeyOrder } from '../json.js';
import type { ApiServerMetrics } from '../metrics.js';
import type { RequestContext, Services } from '../rest/context.js';
import {
  type RunningWatch,
  startWatch,
  type WatchEvent,
  type WatchOptions,
} from '../rest/watch.js';
import { ApiError } from '../status.js';
import type { ChangeFeed } from '../storage/change-feed.js';
import { type IncludeObject, partialMetadata, toTable } from '../table.js';
import type { Representation } from './negotiate.js';

/** Timing of watches. */
export interface WatchSettings {
  /** How often a watch that allows bookmarks gets one. */
  bookmarkIntervalMs: number;
  /** Watches without `timeoutSeconds` end after this plus up to as much again (random). */
  defaultTimeoutSeconds: number;
}

/** Unread output above which a watcher counts as stuck and is disconnected. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Everything a watch request needs. */
export interface WatchRequest {
  services: Services;
  feed: ChangeFeed;
  metrics: ApiServerMetrics;
  settings: WatchSettings;
  ctx: RequestContext;
  options: WatchOptions & { timeoutSeconds?: number };
  representation: Representation;
  includeObject: IncludeObject;
  resource: string;
  clock: () => Date;
}

/**
 * Streams watch events as newline-delimited JSON on a hijacked response, until the timeout,
 * an ERROR event, or the client going away. Errors before the first byte are Status answers.
 */
export async function serveWatch(
  watch: WatchRequest,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  reply.hijack();
  const raw = reply.raw;
  const { metrics, resource } = watch;
  let started = false;
  let ended = false;
  let firstTable = true;
  let running: RunningWatch | undefined;
  const timers: NodeJS.Timeout[] = [];
  const contentType =
    watch.representation.kind === 'object' ? 'application/json' : watch.representation.contentType;

  const start = () => {
    if (started) return;
    started = true;
    raw.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' });
    raw.flushHeaders();
    metrics.watches.inc({ resource });
    metrics.requests.inc({ verb: 'watch', resource, code: '200' });
  };
  const end = () => {
    if (ended) return;
    ended = true;
    for (const timer of timers) clearTimeout(timer);
    running?.close();
    if (started) metrics.watches.dec({ resource });
    raw.end();
  };
  const emit = (event: WatchEvent) => {
    if (ended) return;
    start();
    raw.write(`${JSON.stringify(encode(watch, event, firstTable))}\n`);
    if (event.type !== 'ERROR' && event.type !== 'BOOKMARK') firstTable = false;
    metrics.watchEvents.inc({ resource, type: event.type });
    if (raw.writableLength > MAX_BUFFERED_BYTES) end();
  };

  request.raw.on('close', end);
  raw.on('close', end);
  try {
    running = await startWatch(watch.services, watch.feed, watch.ctx, watch.options, emit, end);
  } catch (error) {
    if (started || !(error instanceof ApiError)) {
      end();
      if (!(error instanceof ApiError)) throw error;
      return;
    }
    ended = true;
    raw.writeHead(error.code, { 'Content-Type': 'application/json' });
    raw.end(JSON.stringify(error.toStatus()));
    metrics.requests.inc({ verb: 'watch', resource, code: String(error.code) });
    return;
  }
  if (ended) {
    running.close();
    return;
  }
  start();
  const { settings } = watch;
  const timeoutSeconds =
    watch.options.timeoutSeconds ?? settings.defaultTimeoutSeconds * (1 + Math.random());
  timers.push(setTimeout(end, timeoutSeconds * 1000));
  if (watch.options.allowWatchBookmarks) {
    const tick = () => {
      running?.bookmark();
      timers.push(setTimeout(tick, settings.bookmarkIntervalMs));
    };
    timers.push(setTimeout(tick, settings.bookmarkIntervalMs));
  }
}

/** The wire form of an event: the object as served, or as a one-row Table. */
function encode(watch: WatchRequest, event: WatchEvent, firstTable: boolean) {
  const { representation } = watch;
  if (event.type === 'ERROR' || event.type === 'BOOKMARK' || representation.kind === 'object') {
    return { type: event.type, object: withConventionalKeyOrder(event.object) };
  }
  if (representation.kind === 'metadata')
    return { type: event.type, object: partialMetadata(event.object) };
  const table = toTable(watch.ctx.type, [event.object as JsonObject], {
    includeObject: watch.includeObject,
    now: watch.clock(),
    resourceVersion: String(
      (event.object.metadata as JsonObject | undefined)?.resourceVersion ?? '',
    ),
    withColumns: firstTable,
  });
  return { type: event.type, object: table };
}
