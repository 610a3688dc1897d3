import {
  API_VERSION,
  type FleetFreeze,
  type FleetFreezeSpec,
  type FreezeScope,
} from '../api/types.js';
import { isAlreadyExists, isNotFound, KubeApiError, type KubePort } from '../kube/port.js';
import { formatTime } from '../planner/conditions.js';
import { type FreezeState, freezeTiming } from '../planner/freeze.js';

/**
 * Fleet freeze ("stop the line") as actions on FleetFreeze resources through the client port:
 * the kubectl plugin and the management REST API both call these, so both behave the same and
 * keep no state of their own. The controller does the holding (docs/freeze.md).
 */

/** The part of the client port these actions use. */
export type FreezePort = Pick<KubePort, 'fleetFreezes'>;

/** Why a freeze action was refused: `status` is the HTTP status a REST API answers with. */
export class FreezeError extends Error {
  constructor(
    message: string,
    readonly code: 'Invalid' | 'NotFound' | 'AlreadyExists',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** 400 Invalid, 404 NotFound, 409 AlreadyExists. */
  get status(): number {
    return { Invalid: 400, NotFound: 404, AlreadyExists: 409 }[this.code];
  }
}

/** What to freeze: a namespace, why, optionally which rollouts (scope) and when (window). */
export interface FreezeRequest {
  namespace: string;
  /** Name of the FleetFreeze; unset: the server generates `freeze-xxxxx`. */
  name?: string;
  /** Why the line is stopped; shown on held rollouts and in Events. */
  reason: string;
  /** Unset or empty: every rollout of the namespace. */
  scope?: FreezeScope;
  /** Unset: from now until unfrozen. A Date or an RFC 3339 string each. */
  window?: { start?: Date | string; end?: Date | string };
}

/** Creates a FleetFreeze; every rollout it covers stops starting batches while it is active. */
export async function freeze(
  port: FreezePort,
  request: FreezeRequest,
  now: Date = new Date(),
): Promise<FleetFreeze> {
  const object: FleetFreeze = {
    apiVersion: API_VERSION,
    kind: 'FleetFreeze',
    metadata: {
      namespace: request.namespace,
      ...(request.name ? { name: request.name } : { generateName: 'freeze-' }),
    },
    spec: freezeSpec(request, now),
  };
  try {
    return await port.fleetFreezes.create(object);
  } catch (error) {
    const where = `${request.namespace}/${request.name ?? '(generated)'}`;
    if (isAlreadyExists(error)) {
      throw new FreezeError(`FleetFreeze ${where} already exists`, 'AlreadyExists', {
        cause: error,
      });
    }
    throw asInvalid(error, `create FleetFreeze ${where}`);
  }
}

/** Lifts one freeze by deleting it; resolves to the freeze as it was. */
export async function unfreeze(
  port: FreezePort,
  target: { namespace: string; name: string },
): Promise<FleetFreeze> {
  const { namespace, name } = target;
  const existing = await port.fleetFreezes.get(namespace, name);
  if (!existing) throw new FreezeError(`FleetFreeze ${namespace}/${name} not found`, 'NotFound');
  try {
    await port.fleetFreezes.delete(namespace, name);
  } catch (error) {
    if (isNotFound(error)) {
      throw new FreezeError(`FleetFreeze ${namespace}/${name} not found`, 'NotFound', {
        cause: error,
      });
    }
    throw new Error(`delete FleetFreeze ${namespace}/${name}`, { cause: error });
  }
  return existing;
}

/** Lifts every freeze of a namespace; resolves to those it deleted (none: an empty list). */
export async function unfreezeAll(
  port: FreezePort,
  target: { namespace: string },
): Promise<FleetFreeze[]> {
  const lifted: FleetFreeze[] = [];
  for (const item of await port.fleetFreezes.list(target.namespace)) {
    try {
      await port.fleetFreezes.delete(target.namespace, item.metadata.name ?? '');
      lifted.push(item);
    } catch (error) {
      if (!isNotFound(error)) {
        throw new Error(`delete FleetFreeze ${target.namespace}/${item.metadata.name}`, {
          cause: error,
        });
      }
    }
  }
  return lifted;
}

/** One freeze as `list` shows it: where it stands now and what it holds. */
export interface FreezeSummary {
  namespace: string;
  name: string;
  reason: string;
  /** Scheduled (window ahead), Active (holding) or Ended (window past), judged at `now`. */
  state: FreezeState;
  start?: string;
  end?: string;
  scope: FreezeScope;
  /** From the freeze's status, as the controller last wrote it. */
  heldCount: number;
  heldRollouts: string[];
  freeze: FleetFreeze;
}

/** The freezes of a namespace (every namespace when undefined), by namespace and name. */
export async function listFreezes(
  port: FreezePort,
  options: { namespace?: string; now?: Date } = {},
): Promise<FreezeSummary[]> {
  const now = options.now ?? new Date();
  const items = await port.fleetFreezes.list(options.namespace);
  return items
    .map((item) => summarize(item, now))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** A freeze's summary at `now`. */
export function summarize(item: FleetFreeze, now: Date): FreezeSummary {
  return {
    namespace: item.metadata.namespace ?? '',
    name: item.metadata.name ?? '',
    reason: item.spec.reason,
    state: freezeTiming(item, now).state,
    start: item.spec.window?.start,
    end: item.spec.window?.end,
    scope: item.spec.scope ?? {},
    heldCount: item.status?.heldCount ?? 0,
    heldRollouts: item.status?.heldRollouts ?? [],
    freeze: item,
  };
}

/** The spec of a request, checked here so a caller gets one clear message before any call. */
function freezeSpec(request: FreezeRequest, now: Date): FleetFreezeSpec {
  const reason = request.reason.trim();
  if (!reason) throw new FreezeError('a freeze needs a reason', 'Invalid');
  const start = timeOf(request.window?.start, 'start');
  const end = timeOf(request.window?.end, 'end');
  if (start && end && end.getTime() <= start.getTime()) {
    throw new FreezeError('the window end must be after its start', 'Invalid');
  }
  if (end && end.getTime() <= now.getTime()) {
    throw new FreezeError(`the window end ${formatTime(end)} is already past`, 'Invalid');
  }
  const window =
    start || end
      ? { ...(start ? { start: formatTime(start) } : {}), ...(end ? { end: formatTime(end) } : {}) }
      : undefined;
  const scope = request.scope;
  const scoped = scope && (scope.policies?.length || scope.selector);
  return { reason, ...(window ? { window } : {}), ...(scoped ? { scope } : {}) };
}

function timeOf(value: Date | string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const time = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new FreezeError(`window ${field} "${String(value)}" is not an RFC 3339 time`, 'Invalid');
  }
  return time;
}

/** A 422 Invalid from the API server as a FreezeError naming its causes; anything else wrapped. */
function asInvalid(error: unknown, action: string): Error {
  if (error instanceof KubeApiError && (error.code === 422 || error.code === 400)) {
    const causes = error.status?.details?.causes ?? [];
    const detail = causes.map((cause) => `${cause.field}: ${cause.message}`).join('; ');
    return new FreezeError(detail || error.message, 'Invalid', { cause: error });
  }
  return new Error(action, { cause: error });
}
