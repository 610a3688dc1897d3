import http from 'node:http';
import https from 'node:https';
import { POLL_INTERVAL_HEADER } from '../devices/poll-handler.js';
import type { TargetApps } from '../devices/target-document.js';
import type { DeviceCredentials } from './options.js';

/** A device API answer other than the one the call expects; `status` is the HTTP status. */
export class DeviceApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server's `Retry-After` (in seconds) on a 429 or 503, as milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** A poll's answer: a new target (200) or none (304), and the poll interval the server asks for. */
export type PollAnswer =
  | { status: 200; etag: string; apps: TargetApps; pollIntervalMs: number | undefined }
  | { status: 304; pollIntervalMs: number | undefined };

/** What one device reports per service. */
export interface ReportedService {
  image: string;
  status: 'starting' | 'running' | 'exited';
  health: 'healthy' | 'unhealthy' | 'unknown';
  /** Why it is unhealthy, when a health check said so (a script's exit code, its timeout). */
  healthReason?: string;
}

/** Reported state: apps → services → image, status, health. */
export type ReportedApps = Record<string, { services: Record<string, ReportedService> }>;

interface Exchange {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  token: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** A long poll: holds its slot only until connected, since the server holds the request. */
  waits?: boolean;
  timeoutMs?: number;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * The device API as devices (and the admin registering them) call it, over one keep-alive agent
 * shared by the whole simulated fleet: at most `concurrency` ordinary requests at a time (the
 * rest wait for a slot), plus one connection per device waiting in a long poll. A device's
 * first poll and its long polls can so reuse the same connection.
 */
export class DeviceApiClient {
  private readonly agent: http.Agent;
  private readonly slots: Slots;
  private readonly transport: typeof http | typeof https;
  private readonly url: URL;
  private readonly requests = new Set<http.ClientRequest>();
  private closed = false;

  constructor(
    private readonly options: { apiUrl: string; concurrency: number; timeoutMs: number },
  ) {
    this.url = new URL(options.apiUrl);
    const secure = this.url.protocol === 'https:';
    this.transport = secure ? https : http;
    this.agent = new (secure ? https.Agent : http.Agent)({ keepAlive: true });
    this.slots = new Slots(options.concurrency);
  }

  /** `POST /api/v1/devices`: registers a device, answering its one-time credentials. */
  async register(adminToken: string, body: object): Promise<DeviceCredentials> {
    const answer = await this.exchange({
      method: 'POST',
      path: '/api/v1/devices',
      token: adminToken,
      body,
    });
    if (answer.status !== 201) throw failure(answer, 'register a device');
    const created = JSON.parse(answer.text) as DeviceCredentials;
    return { uuid: created.uuid, apiKey: created.apiKey };
  }

  /** `GET /api/v1/device/:uuid/state` with `If-None-Match`; long polls when `waitSeconds` > 0. */
  async poll(device: DeviceCredentials, etag: string | undefined, waitSeconds: number) {
    const wait = etag !== undefined && waitSeconds > 0;
    const answer = await this.exchange({
      method: 'GET',
      path: `/api/v1/device/${device.uuid}/state${wait ? `?wait=${waitSeconds}` : ''}`,
      token: device.apiKey,
      headers: etag === undefined ? {} : { 'if-none-match': etag },
      waits: wait,
      timeoutMs: this.options.timeoutMs + (wait ? waitSeconds * 1000 : 0),
    });
    const interval = Number(answer.headers[POLL_INTERVAL_HEADER]);
    const pollIntervalMs = interval > 0 ? interval * 1000 : undefined;
    if (answer.status === 304) return { status: 304, pollIntervalMs } satisfies PollAnswer;
    if (answer.status !== 200) throw failure(answer, 'poll');
    const document = JSON.parse(answer.text) as Record<string, { apps?: TargetApps }>;
    const apps = document[device.uuid]?.apps;
    const newEtag = answer.headers.etag;
    if (apps === undefined || newEtag === undefined) {
      throw new DeviceApiError(200, 'poll: the answer has no target for this device or no ETag');
    }
    return { status: 200, etag: newEtag, apps, pollIntervalMs } satisfies PollAnswer;
  }

  /** `PATCH /api/v1/device/state`: reports what the device runs. */
  async report(device: DeviceCredentials, apps: ReportedApps): Promise<void> {
    const body = { [device.uuid]: { apps } };
    const answer = await this.exchange({
      method: 'PATCH',
      path: '/api/v1/device/state',
      token: device.apiKey,
      body,
    });
    if (answer.status !== 204 && answer.status !== 200) throw failure(answer, 'report');
  }

  /** Aborts every request in flight or queued and closes every connection. */
  close(): void {
    this.closed = true;
    this.slots.releaseAll();
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    this.agent.destroy();
  }

  /**
   * Sends within a slot. A long poll gives its slot back once it has a connection: the slots
   * bound the connections being opened too, so a fleet starting (or reconnecting) at once does
   * not overflow the server's accept queue.
   */
  private async exchange(exchange: Exchange): Promise<Answer> {
    await this.slots.acquire();
    let held = true;
    const release = () => {
      if (held) this.slots.release();
      held = false;
    };
    try {
      return await this.send(exchange, true, exchange.waits ? release : undefined);
    } finally {
      release();
    }
  }

  /** One request; a keep-alive connection the server closed meanwhile is retried once. */
  private send(exchange: Exchange, retry: boolean, onConnected?: () => void): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      if (this.closed) return reject(new Error('the simulator was stopped'));
      const body = exchange.body === undefined ? undefined : JSON.stringify(exchange.body);
      const request = this.transport.request({
        protocol: this.url.protocol,
        hostname: this.url.hostname,
        port: this.url.port,
        path: `${this.url.pathname.replace(/\/$/, '')}${exchange.path}`,
        method: exchange.method,
        agent: this.agent,
        headers: {
          authorization: `Bearer ${exchange.token}`,
          ...exchange.headers,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      });
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        this.requests.delete(request);
        if (retry && request.reusedSocket && isReset(error) && !this.closed) {
          resolve(this.send(exchange, false, onConnected));
        } else {
          reject(new Error(`${exchange.method} ${exchange.path}`, { cause: error }));
        }
      };
      this.requests.add(request);
      if (onConnected) {
        request.once('socket', (socket) =>
          socket.connecting ? socket.once('connect', onConnected) : onConnected(),
        );
      }
      const timeoutMs = exchange.timeoutMs ?? this.options.timeoutMs;
      request.setTimeout(timeoutMs, () =>
        request.destroy(new Error(`no answer within ${timeoutMs} ms`)),
      );
      request.on('error', fail);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          if (settled) return;
          settled = true;
          this.requests.delete(request);
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text });
        });
      });
      request.end(body);
    });
  }
}

/** A counting semaphore: `acquire` waits while every slot is taken. */
class Slots {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  acquire(): Promise<void> | undefined {
    if (this.free > 0) {
      this.free--;
      return undefined;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }

  /** Lets every waiter through (the client is closing; their requests then fail at once). */
  releaseAll(): void {
    for (const next of this.waiting.splice(0)) next();
  }
}

/** The messages of an error and its causes: `register simulated devices: POST …: connect ECONNREFUSED`. */
export function describeError(error: unknown): string {
  const messages: string[] = [];
  for (let e = error; e !== undefined && messages.length < 5; e = (e as Error).cause) {
    messages.push(e instanceof Error ? e.message : String(e));
    if (!(e instanceof Error)) break;
  }
  return messages.join(': ');
}

function isReset(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** A DeviceApiError carrying the problem detail the server sent, if any. */
function failure(answer: Answer, action: string): DeviceApiError {
  let detail = '';
  try {
    const problem = JSON.parse(answer.text) as { title?: string; detail?: string };
    detail = problem.detail ?? problem.title ?? '';
  } catch {
    detail = answer.text.slice(0, 200);
  }
  const retryAfter = Number(answer.headers['retry-after']);
  return new DeviceApiError(
    answer.status,
    `${action}: HTTP ${answer.status} ${detail}`.trim(),
    retryAfter > 0 ? retryAfter * 1000 : undefined,
  );
}
