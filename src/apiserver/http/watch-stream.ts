import type { ServerResponse } from 'node:http';
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
  /**
   * Watches without `timeoutSeconds` end after this plus up to as much again (random); twice
   * this caps the `timeoutSeconds` a client may ask for.
   */
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
  const response = new WatchResponse(watch, reply.raw);
  request.raw.on('close', response.end);
  reply.raw.on('close', response.end);
  let running: RunningWatch;
  try {
    running = await startWatch(
      watch.services,
      watch.feed,
      watch.ctx,
      watch.options,
      response.emit,
      response.end,
    );
  } catch (error) {
    if (error instanceof ApiError) return response.fail(error);
    response.end();
    throw error;
  }
  response.run(running);
}

/** One watch response: headers on the first event, timers, metrics, and the end. */
class WatchResponse {
  private started = false;
  private ended = false;
  private firstTable = true;
  private running: RunningWatch | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly watch: WatchRequest,
    private readonly raw: ServerResponse,
  ) {}

  /** Sends one event (and the headers before the first). */
  readonly emit = (event: WatchEvent) => {
    if (this.ended) return;
    this.start();
    this.raw.write(`${JSON.stringify(encode(this.watch, event, this.firstTable))}\n`);
    if (event.type !== 'ERROR' && event.type !== 'BOOKMARK') this.firstTable = false;
    this.watch.metrics.watchEvents.inc({ resource: this.watch.resource, type: event.type });
    if (this.raw.writableLength > MAX_BUFFERED_BYTES) this.end();
  };

  /** Ends the response and releases the subscription; safe to call more than once. */
  readonly end = () => {
    if (this.ended) return;
    this.ended = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.running?.close();
    if (this.started) this.watch.metrics.watches.dec({ resource: this.watch.resource });
    this.raw.end();
  };

  /** Answers a Status when the watch could not start (unless events went out already). */
  fail(error: ApiError) {
    if (this.started) return this.end();
    this.ended = true;
    this.raw.writeHead(error.code, { 'Content-Type': 'application/json' });
    this.raw.end(JSON.stringify(error.toStatus()));
    this.watch.metrics.requests.inc({
      verb: 'watch',
      resource: this.watch.resource,
      code: String(error.code),
    });
  }

  /** Keeps the started watch open until its timeout, with bookmarks when asked for. */
  run(running: RunningWatch) {
    this.running = running;
    if (this.ended) return running.close();
    this.start();
    const { options, settings } = this.watch;
    // 0 asks for the default, as upstream; nothing lasts longer than the longest default watch.
    const longest = 2 * settings.defaultTimeoutSeconds;
    const timeoutSeconds = Math.min(
      options.timeoutSeconds || settings.defaultTimeoutSeconds * (1 + Math.random()),
      longest,
    );
    this.timers.push(setTimeout(this.end, timeoutSeconds * 1000));
    if (options.allowWatchBookmarks) {
      this.timers.push(setInterval(() => running.bookmark(), settings.bookmarkIntervalMs));
    }
  }

  private start() {
    if (this.started) return;
    this.started = true;
    const { representation, metrics, resource } = this.watch;
    const contentType =
      representation.kind === 'object' ? 'application/json' : representation.contentType;
    this.raw.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' });
    this.raw.flushHeaders();
    metrics.watches.inc({ resource });
    metrics.requests.inc({ verb: 'watch', resource, code: '200' });
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
