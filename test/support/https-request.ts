import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';

/** A server a test talks HTTPS to: its URL, the one certificate to trust, a bearer token. */
export interface HttpsTarget {
  url: string;
  certificate: string;
  token: string;
}

/** An answer with its body as text. */
export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One request to `target` with its bearer token, trusting exactly its certificate. A body is
 * sent with its length (Node frames a DELETE's body only then); `headers` add to or override.
 */
export function httpsRequest(
  target: HttpsTarget,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<HttpsAnswer> {
  const { body } = options;
  const headers: Record<string, string> = {
    authorization: `Bearer ${target.token}`,
    ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const call = request(
      `${target.url}${path}`,
      { method, ca: target.certificate, headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}
