import { vi } from 'vitest';

/**
 * Retries `check` (an assertion) until it passes and resolves with its result, or rejects with
 * its last error after `timeoutMs`: vitest's `vi.waitFor`, polling every 20 ms.
 */
export function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 20 });
}
