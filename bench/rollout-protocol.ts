/** Messages between `bench/rollout.ts` and the processes it forks (one request, one reply). */

/** When a reconcile step ended, in epoch milliseconds (comparable across processes). */
export interface StepTime {
  step: string;
  at: number;
}

/** Requests to the controller process (`bench/rollout-controller.ts`). */
export type ControllerRequest = { type: 'reconcile'; key: string } | { type: 'memory' };

/** Requests to the device API process (`bench/rollout-device-api.ts`). */
export type DeviceApiRequest =
  /**
   * Reply `expecting` once ready to check, then `served` once the cache serves every one of
   * these uuid → quoted ETag pairs.
   */
  { type: 'expect'; etags: Array<[string, string]> };

/** Replies of either process; every process says `ready` first. */
export type BenchReply =
  | { type: 'ready'; port?: number; loadMs?: number }
  | {
      type: 'reconciled';
      startedAt: number;
      endedAt: number;
      steps: StepTime[];
      requeueAfter: number | undefined;
    }
  | { type: 'expecting' }
  | {
      type: 'served';
      firstAt: number;
      at: number;
      /** Batch starts the device API applied, by source (memory: prepared; database). */
      batchStarts: Record<string, number>;
    }
  | { type: 'failed'; message: string }
  | { type: 'memory'; maxRssBytes: number };

/** Now in epoch milliseconds with sub-millisecond precision, comparable across processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
