import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';

/** An answer other than 2xx and 304, as a device got it. */
export interface OddAnswer {
  at: number;
  kind: 'poll' | 'report' | 'other';
  status: number;
  retryAfter: string | undefined;
  /** `backend`: a device-API replica answered; `gateway`: no replica could be reached. */
  source: 'backend' | 'gateway';
}

/** Per-device report counts: sent by the device, forwarded (with retries), acknowledged (2xx). */
export interface ReportCounts {
  sent: number;
  attempts: number;
  acked: number;
}

/** Paths of the device API's polls and reports. */
const POLL = /^\/api\/v1\/device\/([0-9a-f-]{36})\/state/;
const REPORT = '/api/v1/device/state';

/**
 * The load balancer in front of the device-API replicas (a Service, an ingress): devices talk to
 * it, it forwards each request to the next replica in turn and records what the devices got.
 * A request whose replica could not be reached or reset the connection before answering (a
 * killed replica) is tried on the next one, as a proxy retries a failed connection; when none
 * answers, the gateway itself answers 502 (marked `source: gateway`). Reports replace a
 * device's state, so a retried report is harmless.
 */
export class DeviceGateway {
  private readonly server: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private next = 0;
  /** Replica base URLs; the test changes it as replicas die and come back. */
  backends: string[] = [];
  /** Non-2xx, non-304 answers, in order. */
  readonly odd: OddAnswer[] = [];
  /** When each report was acknowledged (epoch ms), in order. */
  readonly acks: number[] = [];
  private readonly reports = new Map<string, ReportCounts>();
  /** device → ETags of the 200 answers it got, with the images of their target. */
  private readonly targets = new Map<string, Map<string, string[]>>();

  private constructor() {
    this.server = createServer((req, res) => void this.forward(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  /** Listens on an ephemeral loopback port. */
  static async start(): Promise<DeviceGateway> {
    const gateway = new DeviceGateway();
    await new Promise<void>((resolve) => gateway.server.listen(0, '127.0.0.1', resolve));
    return gateway;
  }

  /** The URL devices use. */
  get url(): string {
    const address = this.server.address();
    if (typeof address !== 'object' || !address) throw new Error('gateway not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Each device's report counts so far (copies). */
  reportCounts(): Map<string, ReportCounts> {
    return new Map([...this.reports].map(([uuid, counts]) => [uuid, { ...counts }]));
  }

  /** The distinct targets (by ETag) each device received in a 200, with their images. */
  targetsReceived(): Map<string, Map<string, string[]>> {
    return this.targets;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const kind = req.url?.match(POLL) ? 'poll' : req.url === REPORT ? 'report' : 'other';
    const device = kind === 'report' ? reportingDevice(body) : req.url?.match(POLL)?.[1];
    const counts = device === undefined ? undefined : this.countsOf(kind, device);
    if (counts) counts.sent++;
    // a device that gave up (timeout, stop) cancels the forwarded request too
    const gaveUp = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gaveUp.abort();
    });
    const tried = new Set<string>();
    while (!gaveUp.signal.aborted) {
      const backend = this.pick(tried);
      if (backend === undefined) break;
      tried.add(backend);
      if (counts) counts.attempts++;
      try {
        const answer = await send(this.agent, backend, req, body, gaveUp.signal);
        this.record(kind, device, counts, answer);
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        return;
      } catch {
        // connection refused or reset before an answer: the next replica
      }
    }
    if (gaveUp.signal.aborted) return;
    this.odd.push({ at: Date.now(), kind, status: 502, retryAfter: undefined, source: 'gateway' });
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('no device-API replica reachable');
  }

  private countsOf(kind: string, device: string): ReportCounts | undefined {
    if (kind !== 'report') return undefined;
    let counts = this.reports.get(device);
    if (!counts) {
      counts = { sent: 0, attempts: 0, acked: 0 };
      this.reports.set(device, counts);
    }
    return counts;
  }

  /** The next replica in turn that this request has not tried yet. */
  private pick(tried: Set<string>): string | undefined {
    for (let i = 0; i < this.backends.length; i++) {
      const backend = this.backends[this.next++ % this.backends.length];
      if (backend !== undefined && !tried.has(backend)) return backend;
    }
    return undefined;
  }

  private record(
    kind: OddAnswer['kind'],
    device: string | undefined,
    counts: ReportCounts | undefined,
    answer: Answer,
  ): void {
    const { status } = answer;
    if (status >= 200 && status < 300) {
      if (counts) {
        counts.acked++;
        this.acks.push(Date.now());
      }
      if (kind === 'poll' && status === 200 && device) this.remember(device, answer);
      return;
    }
    if (status === 304) return;
    const retryAfter = answer.headers['retry-after'];
    this.odd.push({
      at: Date.now(),
      kind,
      status,
      retryAfter: Array.isArray(retryAfter) ? retryAfter.join(',') : retryAfter,
      source: 'backend',
    });
  }

  private remember(device: string, answer: Answer): void {
    const etag = String(answer.headers.etag ?? '');
    let seen = this.targets.get(device);
    if (!seen) {
      seen = new Map();
      this.targets.set(device, seen);
    }
    if (!seen.has(etag)) seen.set(etag, imagesOf(answer.body));
  }
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Sends the request to `backend`; rejects when no answer comes (refused, reset, hung up). */
function send(
  agent: Agent,
  backend: string,
  req: IncomingMessage,
  body: Buffer,
  signal: AbortSignal,
): Promise<Answer> {
  const headers = { ...req.headers };
  delete headers.host;
  delete headers.connection;
  return new Promise((resolve, reject) => {
    const upstream = request(
      `${backend}${req.url ?? '/'}`,
      { method: req.method, headers, agent, signal },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () =>
          resolve({
            status: answer.statusCode ?? 0,
            headers: withoutHopHeaders(answer.headers),
            body: Buffer.concat(chunks),
          }),
        );
        answer.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function withoutHopHeaders(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const copy = { ...headers };
  delete copy.connection;
  delete copy['keep-alive'];
  delete copy['transfer-encoding'];
  return copy;
}

/** The uuid a report is about (its body is `{ <uuid>: { apps } }`). */
function reportingDevice(body: Buffer): string | undefined {
  try {
    const keys = Object.keys(JSON.parse(body.toString()) as object);
    return keys.length === 1 ? keys[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Every `image` in a target document, in order. */
function imagesOf(body: Buffer): string[] {
  const images: string[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'image' && typeof inner === 'string') images.push(inner);
        else visit(inner);
      }
    }
  };
  try {
    visit(JSON.parse(body.toString()));
  } catch {
    // not JSON: no images
  }
  return images;
}
