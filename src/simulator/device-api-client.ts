import http from 'node:http';
import https from 'node:https';
import { POLL_INTERVAL_HEADER } from '../devices/device-routes.js';
import type { TargetApps } from '../devices/target-document.js';
import type { DeviceCredentials } from './options.js';

/** A device API answer other than the one the call expects; `status` is the HTTP status. */
export class DeviceApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
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
}

/** Reported state: apps → services → image, status, health. */
export type ReportedApps = Record<string, { services: Record<string, ReportedService> }>;

interface Exchange {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  token: string;
  headers?: Record<string, string>;
  body?: unknown;
  agent: http.Agent;
  timeoutMs: number;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * The device API as devices (and the admin registering them) call it, over keep-alive
 * connections shared by the whole simulated fleet: at most `concurrency` ordinary requests at a
 * time (the rest queue in the agent), plus one connection per device waiting in a long poll.
 */
export class DeviceApiClient {
  private readonly agent: http.Agent;
  private readonly waitAgent: http.Agent;
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
    const Agent = secure ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
    this.waitAgent = new Agent({ keepAlive: true });
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
      agent: wait ? this.waitAgent : this.agent,
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
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    this.agent.destroy();
    this.waitAgent.destroy();
  }

  private exchange(
    exchange: Omit<Exchange, 'agent' | 'timeoutMs'> & Partial<Exchange>,
  ): Promise<Answer> {
    return this.send({ agent: this.agent, timeoutMs: this.options.timeoutMs, ...exchange }, true);
  }

  /** One request; a keep-alive connection the server closed meanwhile is retried once. */
  private send(exchange: Exchange, retry: boolean): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      if (this.closed) return reject(new Error('the simulator was stopped'));
      const body = exchange.body === undefined ? undefined : JSON.stringify(exchange.body);
      const request = this.transport.request({
        protocol: this.url.protocol,
        hostname: this.url.hostname,
        port: this.url.port,
        path: `${this.url.pathname.replace(/\/$/, '')}${exchange.path}`,
        method: exchange.method,
        agent: exchange.agent,
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
          resolve(this.send(exchange, false));
        } else {
          reject(new Error(`${exchange.method} ${exchange.path}`, { cause: error }));
        }
      };
      this.requests.add(request);
      request.setTimeout(exchange.timeoutMs, () =>
        request.destroy(new Error(`no answer within ${exchange.timeoutMs} ms`)),
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
  return new DeviceApiError(answer.status, `${action}: HTTP ${answer.status} ${detail}`.trim());
}
