import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** What a slow client saw: the bytes the server answered, and whether it closed the connection. */
export interface SlowClientResult {
  response: string;
  /** True when the server ended or reset the connection (not the client). */
  closedByServer: boolean;
  /** Bytes of the drip the client managed to send before the server closed. */
  dripped: number;
}

/**
 * Connects (TLS when `ca` is given), sends `head` at once, then one byte of `drip` every
 * `everyMs` until the drip is sent or the server closes. `drip` empty means: send nothing more
 * and wait. Gives up (and closes itself) after `giveUpMs`.
 */
export function slowClient(options: {
  port: number;
  ca?: string;
  head: string;
  drip: string;
  everyMs: number;
  giveUpMs: number;
}): Promise<SlowClientResult> {
  return new Promise((resolve) => {
    const socket: Socket = options.ca
      ? connectTls({
          port: options.port,
          host: '127.0.0.1',
          ca: options.ca,
          servername: 'localhost',
        })
      : connectTcp({ port: options.port, host: '127.0.0.1' });
    let response = '';
    let dripped = 0;
    let drip: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean) => {
      clearInterval(drip);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ response, closedByServer, dripped });
    };
    const giveUp = setTimeout(() => finish(false), options.giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      response += chunk;
    });
    socket.on('error', () => finish(true));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.once(options.ca ? 'secureConnect' : 'connect', () => {
      socket.write(options.head);
      drip = setInterval(() => {
        if (dripped >= options.drip.length || socket.destroyed) return;
        socket.write(options.drip[dripped] as string);
        dripped += 1;
      }, options.everyMs);
    });
  });
}
