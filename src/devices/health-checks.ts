import type { HealthCheck } from '../api/types.js';
import { ROLLOUT_DEFAULTS } from '../planner/defaults.js';

/**
 * A health check as a device finds it in its target document, under a rewritten service's
 * `healthChecks`: the policy's check without `service` (it is the service it sits under), with
 * every default filled in, so the agent needs no defaults of its own.
 */
export interface TargetHealthCheck {
  type: HealthCheck['type'];
  /** Seconds between runs of the check. */
  periodSeconds: number;
  /** HTTP and TCP: the container port. */
  port?: number;
  /** HTTP: the path to GET. */
  path?: string;
  /** Script: the argv to run, without a shell; exit code 0 is healthy. */
  command?: string[];
  /** Script: seconds the command may run; past it the agent stops it and the check fails. */
  timeoutSeconds?: number;
}

/** Seconds a script may run when the policy sets none, unless the period is shorter. */
export const DEFAULT_SCRIPT_TIMEOUT_SECONDS = 10;
/** Bounds of a script's argv, as the CRD schema has them. */
export const MAX_COMMAND_ITEMS = 32;
export const MAX_COMMAND_ITEM_LENGTH = 512;
const MAX_SECONDS = 3600;
const MAX_CHECKS = 16;

/** The checks of `checks` that apply to `service` (their `service` unset or equal), as sent. */
export function checksForService(
  checks: readonly HealthCheck[],
  service: string,
): TargetHealthCheck[] {
  return checks
    .filter((check) => check.service === undefined || check.service === service)
    .map(targetCheck);
}

function targetCheck(check: HealthCheck): TargetHealthCheck {
  const periodSeconds = check.periodSeconds ?? ROLLOUT_DEFAULTS.checkPeriodSeconds;
  switch (check.type) {
    case 'HTTP':
      return { type: 'HTTP', periodSeconds, port: check.port, path: check.path ?? '/' };
    case 'TCP':
      return { type: 'TCP', periodSeconds, port: check.port };
    case 'ContainerRunning':
      return { type: 'ContainerRunning', periodSeconds };
    case 'Script':
      return {
        type: 'Script',
        periodSeconds,
        command: [...(check.command ?? [])],
        timeoutSeconds:
          check.timeoutSeconds ?? Math.min(DEFAULT_SCRIPT_TIMEOUT_SECONDS, periodSeconds),
      };
  }
}

const seconds = { type: 'integer', minimum: 1, maximum: MAX_SECONDS } as const;

/**
 * JSON schema of a service's `healthChecks` in a target document an admin writes: shapes and the
 * CRD's bounds. Which field belongs to which check type is healthCheckErrors's, with messages.
 */
export const targetHealthChecksSchema = {
  type: 'array',
  maxItems: MAX_CHECKS,
  items: {
    type: 'object',
    required: ['type', 'periodSeconds'],
    additionalProperties: false,
    properties: {
      type: { enum: ['HTTP', 'TCP', 'ContainerRunning', 'Script'] },
      periodSeconds: seconds,
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      path: { type: 'string', maxLength: 1024, pattern: '^/\\S*$' },
      command: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_COMMAND_ITEMS,
        items: { type: 'string', maxLength: MAX_COMMAND_ITEM_LENGTH },
      },
      timeoutSeconds: seconds,
    },
  },
} as const;

/** Which fields each check type requires and allows (beyond type and periodSeconds). */
const FIELDS: Record<HealthCheck['type'], { required: string[]; allowed: string[] }> = {
  HTTP: { required: ['port'], allowed: ['port', 'path'] },
  TCP: { required: ['port'], allowed: ['port'] },
  ContainerRunning: { required: [], allowed: [] },
  Script: { required: ['command'], allowed: ['command', 'timeoutSeconds'] },
};

/**
 * What is wrong with checks of the target-document shape (after targetHealthChecksSchema): a
 * field another check type owns, a missing one, an empty program, a timeout past the period.
 * Each error names the check by `at` and its index.
 */
export function healthCheckErrors(
  checks: readonly TargetHealthCheck[],
  at: string,
): Array<{ path: string; message: string }> {
  const errors: Array<{ path: string; message: string }> = [];
  checks.forEach((check, i) => {
    const path = `${at}/${i}`;
    const { required, allowed } = FIELDS[check.type];
    for (const field of required) {
      if (!(field in check)) errors.push({ path, message: `${check.type} checks need ${field}` });
    }
    for (const field of ['port', 'path', 'command', 'timeoutSeconds']) {
      if (field in check && !allowed.includes(field)) {
        errors.push({ path: `${path}/${field}`, message: `not allowed on ${check.type} checks` });
      }
    }
    if (check.command !== undefined && check.command[0] === '') {
      errors.push({ path: `${path}/command/0`, message: 'the program must not be empty' });
    }
    if (check.timeoutSeconds !== undefined && check.timeoutSeconds > check.periodSeconds) {
      const message = 'timeoutSeconds must not be longer than periodSeconds';
      errors.push({ path: `${path}/timeoutSeconds`, message });
    }
  });
  return errors;
}
