import { connect as netConnect, type Socket } from 'node:net';
import { rootCertificates, type TLSSocket, connect as tlsConnect } from 'node:tls';

/**
 * A small SMTP client (RFC 5321) for notification email: implicit TLS, STARTTLS (required when
 * asked for, never silently skipped) or clear text, AUTH PLAIN, one message per connection.
 */

/** Where and how to send. */
export interface SmtpOptions {
  host: string;
  port: number;
  tls: 'Implicit' | 'StartTLS' | 'None';
  /** PEM CA certificates to trust besides the system ones. */
  ca?: string;
  auth?: { username: string; password: string };
  timeoutMs?: number;
}

/** One plain-text message. */
export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  body: string;
  /** Without angle brackets: `local@domain`. */
  messageId: string;
  date: Date;
}

/** The server answered something else than expected; `code` is its reply code. */
export class SmtpError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

/** Reads SMTP replies (multi-line `250-…` continued until `250 …`) from a socket. */
class ReplyReader {
  private buffer = '';
  private waiting: ((reply: { code: number; text: string }) => void) | undefined;
  private failed: ((error: Error) => void) | undefined;
  private lines: string[] = [];

  constructor(private socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  attach(socket: Socket | TLSSocket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (error) => this.failed?.(error));
    socket.on('close', () => this.failed?.(new SmtpError('connection closed by the server')));
  }

  detach() {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('error');
    this.socket.removeAllListeners('close');
  }

  private onData(chunk: string) {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\r\n'); end >= 0; end = this.buffer.indexOf('\r\n')) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.lines.push(line);
      if (line.length >= 4 && line[3] === '-') continue;
      const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
      this.lines = [];
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.(reply);
    }
  }

  next(): Promise<{ code: number; text: string }> {
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    });
  }
}

/** Sends `message` through the server; resolves once it accepted the message (250 after DATA). */
export async function sendMail(options: SmtpOptions, message: MailMessage): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let socket = await open(options, timeoutMs);
  const reader = new ReplyReader(socket);
  const expect = async (codes: number[], what: string) => {
    const reply = await reader.next();
    if (!codes.includes(reply.code)) {
      throw new SmtpError(`${what}: ${reply.text.slice(0, 200)}`, reply.code);
    }
    return reply;
  };
  const command = async (line: string, codes: number[], what = line.split(' ')[0] ?? line) => {
    socket.write(`${line}\r\n`);
    return expect(codes, what);
  };
  try {
    await expect([220], 'greeting');
    let ehlo = await command('EHLO fleet-rollout', [250]);
    if (options.tls === 'StartTLS') {
      if (!/^250[- ]STARTTLS\b/im.test(ehlo.text)) {
        throw new SmtpError('the server does not offer STARTTLS');
      }
      await command('STARTTLS', [220]);
      reader.detach();
      socket = await upgrade(socket, options, timeoutMs);
      reader.attach(socket);
      ehlo = await command('EHLO fleet-rollout', [250]);
    }
    if (options.auth) {
      const { username, password } = options.auth;
      const token = Buffer.from(`\u0000${username}\u0000${password}`).toString('base64');
      await command(`AUTH PLAIN ${token}`, [235], 'AUTH');
    }
    await command(`MAIL FROM:<${address(message.from)}>`, [250]);
    for (const to of message.to) await command(`RCPT TO:<${address(to)}>`, [250, 251], 'RCPT');
    await command('DATA', [354]);
    socket.write(`${dotStuffed(render(message))}\r\n.\r\n`);
    await expect([250], 'message');
    socket.write('QUIT\r\n');
  } finally {
    reader.detach();
    socket.on('error', () => {});
    socket.end();
  }
}

function open(options: SmtpOptions, timeoutMs: number): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket =
      options.tls === 'Implicit'
        ? tlsConnect(
            {
              host: options.host,
              port: options.port,
              servername: servername(options),
              ...ca(options),
            },
            () => resolve(socket),
          )
        : netConnect({ host: options.host, port: options.port }, () => resolve(socket));
    socket.setTimeout(timeoutMs, () => socket.destroy(new SmtpError('SMTP timed out')));
    socket.once('error', reject);
  });
}

function upgrade(socket: Socket, options: SmtpOptions, timeoutMs: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({ socket, servername: servername(options), ...ca(options) }, () =>
      resolve(secure),
    );
    secure.setTimeout(timeoutMs, () => secure.destroy(new SmtpError('SMTP timed out')));
    secure.once('error', reject);
  });
}

const servername = (options: SmtpOptions) =>
  /^[\d.]+$|:/.test(options.host) ? undefined : options.host;

/** The system roots plus the channel's CA: a private CA adds trust, it does not replace it. */
const ca = (options: SmtpOptions) => (options.ca ? { ca: [...rootCertificates, options.ca] } : {});

/** An address without display name, refusing what could inject SMTP commands. */
function address(text: string): string {
  const match = /<([^<>]*)>\s*$/.exec(text);
  const bare = (match ? match[1] : text)?.trim() ?? '';
  if (/[\r\n<>\s]/.test(bare) || !bare.includes('@')) {
    throw new SmtpError(`not a mail address: ${JSON.stringify(text.slice(0, 100))}`);
  }
  return bare;
}

/** A header value on one line, RFC 2047-encoded when it is not ASCII. */
function header(value: string): string {
  const line = value.replace(/[\r\n]+/g, ' ');
  if (/^[\x20-\x7e]*$/.test(line)) return line;
  return `=?UTF-8?B?${Buffer.from(line).toString('base64')}?=`;
}

function render(message: MailMessage): string {
  const body = Buffer.from(message.body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${header(message.from)}`,
    `To: ${message.to.map(header).join(', ')}`,
    `Subject: ${header(message.subject)}`,
    `Date: ${message.date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${message.messageId}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}

/** Lines starting with a dot get another (RFC 5321 §4.5.2). */
function dotStuffed(text: string): string {
  return text.replace(/(^|\r\n)\./g, '$1..');
}
