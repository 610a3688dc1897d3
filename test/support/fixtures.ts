import type { ImageRollout } from '../../src/api/types.js';

/** A valid ImageRollout named `name` in `namespace`. */
export function rollout(name: string, namespace = 'default', tag = '1.2.3'): ImageRollout {
  return {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImageRollout',
    metadata: { name, namespace, labels: { app: 'web' } },
    spec: { policyRef: { name: 'web' }, image: 'ghcr.io/acme/web', tag },
  };
}

/** Polls `check` every 20 ms until it returns true, failing with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
