import { ApiException } from '@kubernetes/client-node';
import { KubeApiError, type KubeStatus } from './port.js';

/** The `Status` reason a server gives for each code, for responses that carry no Status body. */
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The reason Kubernetes uses for an HTTP status code without a body. */
export function reasonForCode(code: number): string {
  return REASONS[code] ?? 'Unknown';
}

/** Parses a response body into a `Status`, if it is one. */
export function parseStatus(body: unknown): KubeStatus | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  return (parsed as { kind?: string }).kind === 'Status' ? (parsed as KubeStatus) : undefined;
}

/** Turns any failure of a call described by `what` into a KubeApiError or an Error with a cause. */
export function toKubeError(what: string, error: unknown): Error {
  if (error instanceof KubeApiError) return error;
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    const code = status?.code ?? error.code;
    const reason = status?.reason || reasonForCode(code);
    const message = status?.message ?? `HTTP ${code}`;
    return new KubeApiError(`${what}: ${message}`, code, reason, { cause: error, status });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new Error(`${what}: ${detail}`, { cause: error });
}

/** Runs one API call, mapping its errors. */
export async function callApi<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toKubeError(what, error);
  }
}

/** Runs a read, mapping its errors; a 404 resolves undefined. */
export async function readApi<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    const mapped = toKubeError(what, error);
    if (mapped instanceof KubeApiError && mapped.code === 404) return undefined;
    throw mapped;
  }
}
