import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a server, standing in for the network: it counts the
 * connections clients hold open, can drop all of them at once, and can refuse new ones.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  /** While set, new connections are closed at once (the server looks down). */
  refusing = false;
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
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
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
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
