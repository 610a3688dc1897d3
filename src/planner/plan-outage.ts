import { RolloutEventReasons, RolloutReasons } from '../api/conditions.js';
import { ConditionTypes, type ImageRollout, type ImageRolloutStatus } from '../api/types.js';
import { findCondition, formatTime, setCondition } from './conditions.js';
import type { DeviceApiAvailability } from './outages.js';
import type { PlannedEvent, RolloutPlan } from './types.js';

/** How often a rollout that waits for the device API looks again (a change also wakes it). */
export const DEVICE_API_RECHECK_MS = 5_000;

/**
 * The plan of a pass while no device-API replica can take reports: no effect and no event-log
 * entry (Postgres may be the thing that is down), counts and phase as they were, Ready=False
 * with reason DeviceAPIUnavailable, and a Warning Event when the wait begins. Nothing is judged,
 * so no device turns offline or failed and no batch starts or completes.
 */
export function waitForDeviceApi(
  rollout: ImageRollout,
  prev: ImageRolloutStatus,
  api: DeviceApiAvailability,
  now: Date,
): RolloutPlan {
  const message = waitingMessage(api);
  const ready = {
    type: ConditionTypes.Ready,
    status: 'False',
    reason: RolloutReasons.DeviceAPIUnavailable,
    message,
    observedGeneration: rollout.metadata.generation,
  } as const;
  const status: ImageRolloutStatus = {
    ...prev,
    phase: prev.phase ?? 'Pending',
    message,
    conditions: setCondition(prev.conditions, ready, now),
  };
  const events: PlannedEvent[] = waiting(prev)
    ? []
    : [
        {
          type: 'Warning',
          reason: RolloutEventReasons.DeviceAPIUnavailable,
          action: 'Wait',
          note: message,
        },
      ];
  return { status, events, log: [], requeueAt: new Date(now.getTime() + DEVICE_API_RECHECK_MS) };
}

/** The Normal Event of the first pass after a wait for the device API, if this is that pass. */
export function resumeEvents(prev: ImageRolloutStatus, api: DeviceApiAvailability): PlannedEvent[] {
  if (!waiting(prev)) return [];
  const last = api.outages.at(-1);
  const outage = last
    ? `; its outage from ${formatTime(last.from)} to ${formatTime(last.to)} does not count against device timers or progress deadlines`
    : '';
  return [
    {
      type: 'Normal',
      reason: RolloutEventReasons.DeviceAPIAvailable,
      action: 'Resume',
      note: `The device API takes reports again${outage}`,
    },
  ];
}

/** Whether the previous status says the rollout waits for the device API. */
function waiting(prev: ImageRolloutStatus): boolean {
  const ready = findCondition(prev.conditions, ConditionTypes.Ready);
  return ready?.reason === RolloutReasons.DeviceAPIUnavailable;
}

function waitingMessage(api: DeviceApiAvailability): string {
  const paused = 'device timers and progress deadlines stand still until it is back';
  if (api.cause === 'DatabaseUnreachable') {
    return `Waiting for the device API: Postgres is unreachable, so devices cannot report; ${paused}`;
  }
  const since = api.lastBeatAt ? ` since ${formatTime(api.lastBeatAt)}` : '';
  return `Waiting for the device API: no replica has taken reports${since}; ${paused}`;
}
