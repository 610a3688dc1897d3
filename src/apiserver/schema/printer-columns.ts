import { isObject } from '../json.js';
import type { PrinterColumn } from './types.js';

/** One step of the JSONPath subset printer columns use. */
type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; key: string; equals: boolean; value: string };

const STEP =
  /^(?:\.([A-Za-z0-9_$-]+)|\[(\d+)\]|\[\*\]|\['([^']*)'\]|\[\?\(@\.([A-Za-z0-9_$-]+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)')\)\])/;

function parse(jsonPath: string): Step[] {
  const steps: Step[] = [];
  let rest = jsonPath.replace(/^\{(.*)\}$/, '$1').replace(/^\$/, '');
  while (rest.length > 0) {
    const m = STEP.exec(rest);
    if (!m) throw new Error(`unsupported JSONPath ${JSON.stringify(jsonPath)}`);
    if (m[1] !== undefined || m[3] !== undefined)
      steps.push({ kind: 'field', name: m[1] ?? m[3] ?? '' });
    else if (m[2] !== undefined) steps.push({ kind: 'index', index: Number(m[2]) });
    else if (m[4] !== undefined) {
      steps.push({ kind: 'filter', key: m[4], equals: m[5] === '==', value: m[6] ?? m[7] ?? '' });
    } else steps.push({ kind: 'all' });
    rest = rest.slice(m[0].length);
  }
  return steps;
}

function apply(step: Step, value: unknown): unknown[] {
  switch (step.kind) {
    case 'field':
      return isObject(value) && value[step.name] !== undefined ? [value[step.name]] : [];
    case 'index':
      return Array.isArray(value) && step.index < value.length ? [value[step.index]] : [];
    case 'all':
      return Array.isArray(value) ? value : isObject(value) ? Object.values(value) : [];
    case 'filter':
      return Array.isArray(value)
        ? value.filter(
            (item) => isObject(item) && (String(item[step.key]) === step.value) === step.equals,
          )
        : [];
  }
}

/** Values `jsonPath` selects in `object`, in document order (empty when nothing matches). */
export function findJsonPath(jsonPath: string, object: unknown): unknown[] {
  return parse(jsonPath).reduce<unknown[]>(
    (values, step) => values.flatMap((v) => apply(step, v)),
    [object],
  );
}

/** Go's `duration.HumanDuration`, which the API server uses for `date` cells (`5m10s`, `3d4h`). */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.trunc(milliseconds / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function stringCell(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function dateCell(value: unknown, now: Date): unknown {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(time)) return '<invalid>';
  return humanDuration(now.getTime() - time);
}

/**
 * The Table cell of one printer column for one object, as the API server's CRD table convertor
 * computes it: the first value the column's JSONPath selects, typed by the column (`integer`
 * truncates, `date` becomes an age like `5m10s` relative to `now`), or null when nothing matches.
 */
export function evaluatePrinterColumn(
  column: PrinterColumn,
  object: unknown,
  now: Date = new Date(),
): unknown {
  const value = findJsonPath(column.jsonPath, object)[0];
  if (value === undefined || value === null) return null;
  switch (column.type) {
    case 'string':
      return stringCell(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return dateCell(value, now);
  }
}
