import type { Watch } from '@kubernetes/client-node';
import { parseStatus, reasonForCode } from './errors.js';
import {
  KubeApiError,
  type WatchCallbacks,
  type WatchEventType,
  type WatchHandle,
  type WatchOptions,
} from './port.js';

const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

/**
 * Opens a watch on `path` with client-node's Watch and adapts it to WatchCallbacks: an `ERROR`
 * event or a non-200 answer closes it with a KubeApiError (410 included); `stop()` is final.
 */
export async function watchCollection(
  watcher: Watch,
  path: string,
  options: WatchOptions,
  callbacks: WatchCallbacks<unknown>,
): Promise<WatchHandle> {
  let closed = false;
  let abort: (() => void) | undefined;
  const close = (error?: Error) => {
    if (closed) return;
    closed = true;
    abort?.();
    callbacks.onClose(error);
  };
  const query = {
    resourceVersion: options.resourceVersion,
    allowWatchBookmarks: true,
    timeoutSeconds: options.timeoutSeconds,
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
  };
  const onEvent = (type: string, object: unknown) => {
    if (closed) return;
    if (type === 'ERROR') return close(statusError(path, object));
    if (EVENT_TYPES.has(type)) callbacks.onEvent(type as WatchEventType, object);
  };
  const onDone = (error: unknown) => close(error ? doneError(path, error) : undefined);
  const controller = await watcher.watch(path, query, onEvent, onDone);
  abort = () => controller.abort();
  if (closed) abort();
  return {
    stop() {
      closed = true;
      controller.abort();
    },
  };
}

/** The error an `ERROR` watch event carries: a Status, usually 410 Expired. */
function statusError(path: string, object: unknown): KubeApiError {
  const status = parseStatus(object) ?? {};
  const code = status.code ?? 500;
  const reason = status.reason || reasonForCode(code);
  return new KubeApiError(`watch ${path}: ${status.message ?? reason}`, code, reason, { status });
}

/** client-node reports a non-200 answer as an Error with `statusCode`; anything else is network. */
function doneError(path: string, error: unknown): Error {
  const code = (error as { statusCode?: unknown }).statusCode;
  if (typeof code === 'number') {
    return new KubeApiError(`watch ${path}: HTTP ${code}`, code, reasonForCode(code), {
      cause: error,
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new Error(`watch ${path}: ${detail}`, { cause: error });
}
