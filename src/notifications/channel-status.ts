import type { NotificationChannel, NotificationChannelStatus } from '../api/types.js';
import { formatTime, setCondition } from '../planner/conditions.js';
import { redactSecrets } from '../telemetry/redact.js';

/** What the dispatcher has seen of one channel's deliveries. */
export interface DeliveryRecord {
  consecutiveFailures: number;
  lastSuccessTime?: string;
  lastFailureTime?: string;
  lastError?: string;
  /** Reason of the last failure: SecretNotFound or DeliveryFailed. */
  lastReason?: string;
}

/** Reasons of a NotificationChannel's Ready condition. */
export const ChannelReasons = {
  /** Accepted; no delivery failed since the last success. */
  Ready: 'Ready',
  Suspended: 'Suspended',
  /** A referenced Secret or key is missing. */
  SecretNotFound: 'SecretNotFound',
  /** The last delivery attempt failed (the receiver refused it, or could not be reached). */
  DeliveryFailed: 'DeliveryFailed',
} as const;

/** The delivery record a channel's status carries (so a new leader continues the counts). */
export function recordOf(channel: NotificationChannel): DeliveryRecord {
  const status = channel.status ?? {};
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  return {
    consecutiveFailures: status.consecutiveFailures ?? 0,
    ...(status.lastSuccessTime ? { lastSuccessTime: status.lastSuccessTime } : {}),
    ...(status.lastFailureTime ? { lastFailureTime: status.lastFailureTime } : {}),
    ...(status.lastError ? { lastError: status.lastError } : {}),
    ...(ready?.status === 'False' ? { lastReason: ready.reason } : {}),
  };
}

/** The record after one attempt. */
export function recordAttempt(
  record: DeliveryRecord,
  now: Date,
  failure?: { reason: string; message: string },
): DeliveryRecord {
  if (!failure) {
    return {
      consecutiveFailures: 0,
      lastSuccessTime: formatTime(now),
      ...(record.lastFailureTime ? { lastFailureTime: record.lastFailureTime } : {}),
    };
  }
  return {
    ...record,
    consecutiveFailures: record.consecutiveFailures + 1,
    lastFailureTime: formatTime(now),
    lastError: redactSecrets(failure.message).slice(0, 1024),
    lastReason: failure.reason,
  };
}

/**
 * The channel's status from its delivery record and, when checked, a configuration problem
 * (a missing Secret): Ready False with the reason while deliveries fail, True otherwise.
 */
export function channelStatus(
  channel: NotificationChannel,
  record: DeliveryRecord,
  now: Date,
  problem?: string,
): NotificationChannelStatus {
  const prev = channel.status ?? {};
  const generation = channel.metadata.generation ?? 0;
  const failing = record.consecutiveFailures > 0;
  const condition = channel.spec.suspend
    ? { status: 'False', reason: ChannelReasons.Suspended, message: 'spec.suspend is set' }
    : problem
      ? { status: 'False', reason: ChannelReasons.SecretNotFound, message: problem }
      : failing
        ? {
            status: 'False',
            reason: record.lastReason ?? ChannelReasons.DeliveryFailed,
            message: `${record.consecutiveFailures} delivery attempts failed in a row; last: ${record.lastError ?? ''}`,
          }
        : { status: 'True', reason: ChannelReasons.Ready, message: 'deliveries succeed' };
  const conditions = setCondition(
    prev.conditions,
    { type: 'Ready', observedGeneration: generation, ...condition } as Parameters<
      typeof setCondition
    >[1],
    now,
  );
  return {
    observedGeneration: generation,
    conditions,
    consecutiveFailures: record.consecutiveFailures,
    ...(record.lastSuccessTime ? { lastSuccessTime: record.lastSuccessTime } : {}),
    ...(record.lastFailureTime ? { lastFailureTime: record.lastFailureTime } : {}),
    ...(record.lastError && failing ? { lastError: record.lastError } : {}),
  };
}
