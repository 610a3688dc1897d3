import { Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';

/**
 * How long a client may take to send a request, on every HTTP server of the product. A client
 * that sends headers or a body a byte at a time would otherwise hold a connection (and a request
 * slot) for as long as it likes.
 */
export interface HttpTimeouts {
  /** From connecting (or the previous request) until the request's headers are complete. */
  headersMs: number;
  /** From the start of a request until its body is complete; must be at least headersMs. */
  requestMs: number;
  /** Longest pause while a body is being received. */
  bodyIdleMs: number;
}

/** Defaults: generous for a device on a slow link, short for a client that stalls on purpose. */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  headersMs: 20_000,
  requestMs: 60_000,
  bodyIdleMs: 15_000,
};

/**
 * Options for `http(s).createServer`: Node answers 408 and closes the connection when headers
 * or a whole request take too long. It checks every `connectionsCheckingInterval`, so that is
 * kept well under the shortest timeout (Node's default of 30 s would let 20 s become 50 s).
 */
export function nodeServerTimeouts(timeouts: HttpTimeouts) {
  return {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, timeouts.headersMs / 4)),
  };
}

/** Methods whose requests may carry a body fastify reads. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Refuses a request whose body stops arriving for `idleMs`: the body read fails with a 408 error
 * (the server's error handler answers it) and the connection is closed after the answer.
 */
export function limitBodyIdle(app: FastifyInstance, idleMs: number): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    const headers = request.headers;
    const hasBody = headers['content-length'] !== undefined || headers['transfer-encoding'];
    if (!BODY_METHODS.has(request.method) || !hasBody) return payload;
    const timer = setTimeout(() => {
      if (reply.sent) return;
      reply.header('connection', 'close');
      const error = new Error(`no part of the request body arrived for ${idleMs} ms`);
      watchdog.destroy(Object.assign(error, { statusCode: 408 }));
    }, idleMs);
    const watchdog = new Transform({
      transform(chunk, _encoding, callback) {
        timer.refresh();
        callback(null, chunk);
      },
    });
    watchdog.on('close', () => clearTimeout(timer));
    watchdog.on('end', () => clearTimeout(timer));
    payload.on('error', (error) => watchdog.destroy(error));
    payload.pipe(watchdog);
    return watchdog;
  });
}

/**
 * Closes the connection after an answer given before the request's body was read (a refused
 * media type, a failed authentication): the unread rest of the body would otherwise stay
 * buffered in a paused stream, and the client's next request on that keep-alive connection
 * would never be read.
 */
export function closeWhenBodyUnread(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs on every answer, the device polls' 304s included.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete) reply.header('connection', 'close');
    done(null, payload);
  });
}
