import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiKeyDigest, bearerToken, sameDigest } from '../src/devices/credentials.js';
import { etagMatches } from '../src/devices/etag.js';

/** A device as the bare server knows it: quoted ETag and the sha256 of its key. */
export interface BareDevice {
  etag: string;
  keyHash: Buffer;
}

const PREFIX = '/api/v1/device/';
const SUFFIX = '/state';

/**
 * The baseline of the poll benchmark: bare node:http answering 304 from a Map, doing the same
 * work per request as the real hot path (route match, key digest and constant-time compare,
 * If-None-Match compare, the same response headers).
 */
export async function startBarePollServer(
  devices: Map<string, BareDevice>,
  pollInterval: string,
  keepAliveTimeoutMs: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const url = request.url ?? '';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (request.method !== 'GET' || !path.startsWith(PREFIX) || !path.endsWith(SUFFIX)) {
      response.writeHead(404).end();
      return;
    }
    const entry = devices.get(path.slice(PREFIX.length, -SUFFIX.length));
    const token = bearerToken(request.headers.authorization);
    if (
      entry === undefined ||
      token === undefined ||
      !sameDigest(apiKeyDigest(token), entry.keyHash)
    ) {
      response.writeHead(401).end();
      return;
    }
    const match = request.headers['if-none-match'];
    if (match !== undefined && etagMatches(match, entry.etag)) {
      response.writeHead(304, { etag: entry.etag, 'x-poll-interval': pollInterval }).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
