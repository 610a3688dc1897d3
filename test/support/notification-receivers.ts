import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSelfSignedCertificate } from '../../src/apiserver/tls.js';

/** One POST an HTTP receiver got. */
export interface Received {
  path: string;
  key: string;
  contentType: string;
  // biome-ignore lint/suspicious/noExplicitAny: receivers read arbitrary JSON
  body: any;
  /** Whether the signature header verified (webhook paths only). */
  signed: boolean;
  /** What the receiver answered. */
  status: number;
}

/**
 * HTTP receivers as a Slack workspace and a webhook consumer run them: `/slack` takes Block Kit
 * messages, `/hook` verifies the HMAC-SHA256 signature (401 otherwise), `/flaky` answers 500 to
 * the first attempt of each idempotency key, `/down` always 503. `accepted(path)` is what a
 * receiver that drops repeats of a key kept.
 */
export async function startHttpReceivers(signingKey: string) {
  const received: Received[] = [];
  const server = createServer(async (request, response) => {
    const text = await bodyOf(request);
    const path = request.url ?? '';
    const key = String(request.headers['idempotency-key'] ?? '');
    const signed = verify(
      signingKey,
      text,
      String(request.headers['x-fleet-rollout-signature'] ?? ''),
    );
    const seen = received.filter((r) => r.path === path && r.key === key);
    const status =
      path === '/down'
        ? 503
        : path === '/flaky' && seen.length === 0
          ? 500
          : path === '/hook' && !signed
            ? 401
            : 200;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    received.push({
      path,
      key,
      contentType: String(request.headers['content-type'] ?? ''),
      body,
      signed,
      status,
    });
    response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    /** Accepted deliveries of `path`, repeats of a key dropped, as a deduplicating receiver keeps them. */
    accepted(path: string): Received[] {
      const kept = new Map<string, Received>();
      for (const r of received)
        if (r.path === path && r.status === 200 && !kept.has(r.key)) kept.set(r.key, r);
      return [...kept.values()];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Checks `t=<seconds>,v1=<hex>` as a receiver should: recompute, constant-time compare. */
export function verify(key: string, body: string, header: string): boolean {
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=', 2)));
  if (!parts.t || !parts.v1) return false;
  const expected = createHmac('sha256', key).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One message the SMTP server accepted. */
export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | null;
  tls: boolean;
  data: string;
}

/**
 * Debian's aiosmtpd on an ephemeral loopback port, with a self-signed certificate: STARTTLS is
 * required before AUTH (user/password below) and before mail.
 */
export async function startSmtpServer(user: string, password: string) {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-rollout-smtp-'));
  const certificate = createSelfSignedCertificate(['127.0.0.1', 'localhost']);
  await writeFile(join(dir, 'tls.crt'), certificate.cert);
  await writeFile(join(dir, 'tls.key'), certificate.key, { mode: 0o600 });
  const script = fileURLToPath(new URL('./smtp-server.py', import.meta.url));
  const child: ChildProcess = spawn(
    '/usr/bin/python3',
    [script, join(dir, 'tls.crt'), join(dir, 'tls.key'), user, password],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const messages: ReceivedMail[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line.startsWith('port ')) resolve(Number(line.slice(5)));
        else if (line.startsWith('{')) messages.push(JSON.parse(line));
      }
    });
    child.on('exit', (code) => reject(new Error(`smtp-server.py exited ${code}: ${stderr}`)));
  });
  return {
    port,
    ca: certificate.cert,
    messages,
    async close() {
      child.stdin?.end();
      child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
