import type { ImageRollout } from '../api/types.js';
import type { KubePort, WatchHandle } from '../kube/port.js';

/** How a follow ended. */
export type FollowEnd = 'done' | 'deleted' | 'stopped';

/** How long a watch lasts before the server ends it and follow opens the next one. */
const WATCH_SECONDS = 300;
/** Pause before reopening a watch that failed (network error, 410). */
const RETRY_MS = 1_000;

/**
 * Follows one rollout through the client port's list-then-watch: `onChange` gets the rollout
 * first as listed, then after every change the watch reports (one call at a time, in order), and
 * ends the follow by returning true. A watch that ends (timeout, 410, network) is reopened from
 * a fresh list, so no change is missed. Resolves `deleted` when the rollout is gone, `stopped`
 * when `signal` aborts.
 */
export async function followRollout(
  kube: Pick<KubePort, 'imageRollouts'>,
  ref: { namespace: string; name: string },
  onChange: (rollout: ImageRollout) => Promise<boolean>,
  signal: AbortSignal,
): Promise<FollowEnd> {
  const fieldSelector = `metadata.name=${ref.name}`;
  while (!signal.aborted) {
    const list = await kube.imageRollouts.listWithVersion(ref.namespace, { fieldSelector });
    const [rollout] = list.items;
    if (!rollout) return 'deleted';
    if (await onChange(rollout)) return 'done';
    const end = await watchOnce(
      kube,
      ref.namespace,
      list.resourceVersion,
      fieldSelector,
      onChange,
      signal,
    );
    if (end !== 'closed') return end;
    await pause(RETRY_MS, signal);
  }
  return 'stopped';
}

/** One watch: resolves when it closes (reopen), the rollout is done or deleted, or on abort. */
function watchOnce(
  kube: Pick<KubePort, 'imageRollouts'>,
  namespace: string,
  resourceVersion: string,
  fieldSelector: string,
  onChange: (rollout: ImageRollout) => Promise<boolean>,
  signal: AbortSignal,
): Promise<FollowEnd | 'closed'> {
  return new Promise((resolve, reject) => {
    let handle: WatchHandle | undefined;
    let queue = Promise.resolve();
    let settled = false;
    const finish = (end: FollowEnd | 'closed') => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      handle?.stop();
      resolve(end);
    };
    const onAbort = () => finish('stopped');
    signal.addEventListener('abort', onAbort);
    const options = { resourceVersion, fieldSelector, timeoutSeconds: WATCH_SECONDS };
    kube.imageRollouts
      .watch(namespace, options, {
        onEvent(type, rollout) {
          if (type === 'BOOKMARK') return;
          queue = queue.then(async () => {
            if (settled) return;
            if (type === 'DELETED') finish('deleted');
            else if (await onChange(rollout)) finish('done');
          });
          queue.catch((error: unknown) => {
            settled = true;
            handle?.stop();
            reject(error);
          });
        },
        onClose: () => {
          void queue.then(() => finish('closed'));
        },
      })
      .then((opened) => {
        handle = opened;
        if (settled) opened.stop();
      }, reject);
  });
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
