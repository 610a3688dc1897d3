import type { ImageRollout, ImageRolloutStatus } from '../../src/api/types.js';
import { LEASE } from './deployment.js';

/** Reads an object through the API server; undefined on a 404. */
export type Getter = <T>(path: string) => Promise<T | undefined>;

/** What the monitor saw at one moment (fields undefined when the API server did not answer). */
export interface Sample {
  at: number;
  holder: string | undefined;
  /** The lease's renewTime, epoch ms. */
  renewedAt: number | undefined;
  status: ImageRolloutStatus | undefined;
}

interface Lease {
  spec?: { holderIdentity?: string; renewTime?: string };
}

/**
 * Watches the controllers' Lease and one rollout through the API server every 250 ms, so a test
 * can tell when the system was leading and progressing again after a fault.
 */
export class Monitor {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly get: Getter,
    private readonly rolloutPath: () => string | undefined,
  ) {}

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      this.samples.push(await this.sample());
      this.timer = setTimeout(tick, 250);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The first time at or after `since` when the Lease had been renewed after `since`. */
  leadingAfter(since: number, by?: string): number | undefined {
    return this.samples.find(
      (s) =>
        s.at >= since &&
        s.renewedAt !== undefined &&
        s.renewedAt >= since - 1_000 &&
        (by === undefined || s.holder === by),
    )?.at;
  }

  /** The first time at or after `since` when the rollout's status moved past what it was at `since`. */
  progressingAfter(since: number): number | undefined {
    const before = [...this.samples].reverse().find((s) => s.at <= since && s.status)?.status;
    const mark = progressOf(before);
    return this.samples.find((s) => s.at >= since && s.status && progressOf(s.status) > mark)?.at;
  }

  private async sample(): Promise<Sample> {
    const at = Date.now();
    const path = this.rolloutPath();
    const [lease, rollout] = await Promise.all([
      this.get<Lease>(
        `/apis/coordination.k8s.io/v1/namespaces/${LEASE.namespace}/leases/${LEASE.name}`,
      ).catch(() => undefined),
      path ? this.get<ImageRollout>(path).catch(() => undefined) : undefined,
    ]);
    const renewTime = lease?.spec?.renewTime;
    return {
      at,
      holder: lease?.spec?.holderIdentity,
      renewedAt: renewTime ? Date.parse(renewTime) : undefined,
      status: rollout?.status,
    };
  }
}

/** A number that grows as a rollout advances: its batch, updated and healthy devices, its end. */
function progressOf(status: ImageRolloutStatus | undefined): number {
  if (!status) return -1;
  const done = status.phase === 'Succeeded' ? 1 : 0;
  return (
    (status.currentBatch ?? 0) * 1e6 +
    (status.healthy ?? 0) * 1e3 +
    (status.updated ?? 0) +
    done * 1e9
  );
}
