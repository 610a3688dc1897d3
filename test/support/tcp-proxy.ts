import { connect, createServer, type Server, type Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A loopback TCP proxy in front of a server, standing in for the network: it counts the
 * connections clients hold open, can drop all of them at once, can refuse new ones, and can
 * delay the bytes it forwards.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Connection>();
  /** While set, new connections are closed at once (the server looks down). */
  refusing = false;
  /**
   * One-way delay of every chunk, in each direction (a request's round trip takes twice this),
   * uniformly ± `latencyJitterMs`; bytes keep their order. Applies to open connections at once.
   */
  latencyMs = 0;
  latencyJitterMs = 0;
  /** Connections accepted since start. */
  accepted = 0;

  private constructor(private target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  /** Starts a proxy to `target` on an ephemeral loopback port. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The proxy's port. */
  get port(): number {
    const address = this.server.address();
    if (typeof address !== 'object' || !address) throw new Error('proxy not listening');
    return address.port;
  }

  /** Sends new connections to another server (e.g. a restarted one); open ones stay. */
  retarget(target: { host: string; port: number }): void {
    this.target = target;
  }

  /** Connections currently open through the proxy. */
  get open(): number {
    return this.pairs.size;
  }

  /** Closes every open connection abruptly (RST), as a crashed server or a network cut would. */
  dropAll(): void {
    for (const { client, upstream, delays } of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
      for (const delay of delays) delay.destroy();
    }
    this.pairs.clear();
  }

  /** Resolves once `predicate` holds for the open connection count, or rejects after `timeoutMs`. */
  async waitForOpen(predicate: (open: number) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.open)) {
      if (Date.now() > deadline) throw new Error(`proxy: still ${this.open} open connections`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    this.accepted++;
    const upstream = connect(this.target.port, this.target.host);
    const jittered = () =>
      Math.max(0, this.latencyMs + (2 * Math.random() - 1) * this.latencyJitterMs);
    const toUpstream = new DelayStream(jittered);
    const toClient = new DelayStream(jittered);
    const pair: Connection = { client, upstream, delays: [toUpstream, toClient] };
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
      toUpstream.destroy();
      toClient.destroy();
    };
    // an error cuts both ways at once; a close reaches the other side after the bytes before it
    client.on('error', close).on('close', () => toUpstream.schedule(close));
    upstream.on('error', close).on('close', () => toClient.schedule(close));
    client.pipe(toUpstream).pipe(upstream);
    upstream.pipe(toClient).pipe(client);
  }
}

/** Both sockets of a proxied connection and the delays between them. */
interface Connection {
  client: Socket;
  upstream: Socket;
  delays: DelayStream[];
}

/** Forwards chunks (and the end) after `delay()` each, in order, never earlier than the one before. */
class DelayStream extends Transform {
  private readonly queue: Array<{ due: number; send: () => void }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly delay: () => number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.schedule(() => this.push(chunk));
    done();
  }

  override _flush(done: TransformCallback): void {
    this.schedule(() => done());
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
    done(error);
  }

  /** Runs `send` after the current delay, after everything scheduled before it (at once without latency). */
  schedule(send: () => void): void {
    const delay = this.delay();
    if (delay === 0 && this.queue.length === 0) {
      send();
      return;
    }
    const due = Math.max(Date.now() + delay, this.queue.at(-1)?.due ?? 0);
    this.queue.push({ due, send });
    if (this.queue.length === 1) this.timer = setTimeout(() => this.drain(), due - Date.now());
  }

  private drain(): void {
    while (this.queue.length > 0 && this.queue[0]!.due <= Date.now()) this.queue.shift()!.send();
    const next = this.queue[0];
    if (next) this.timer = setTimeout(() => this.drain(), next.due - Date.now());
  }
}
