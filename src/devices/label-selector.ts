import type { LabelSelectorRequirement } from '../api/types.js';

/**
 * One requirement of a label selector: the matchExpressions form every selector in this project
 * uses (matched by `matchesRequirements` in src/planner/selector.ts, in SQL by
 * src/db/device-selector-sql.ts). Parsed requirements always carry `values`.
 */
export type LabelRequirement = LabelSelectorRequirement & { values: string[] };

/** Thrown for a selector string that does not parse; the message says where and why. */
export class LabelSelectorError extends Error {}

/** A label key: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
export const LABEL_KEY_PATTERN =
  '^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** A label value: empty, or at most 63 alphanumerics with `-`, `_`, `.` inside. */
export const LABEL_VALUE_PATTERN = '^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$';

const KEY = new RegExp(LABEL_KEY_PATTERN);
const VALUE = new RegExp(LABEL_VALUE_PATTERN);
const MAX_SELECTOR_LENGTH = 4096;

/**
 * Parses a Kubernetes label selector string (`env=prod,tier!=db,zone in (a,b),gpu,!legacy`)
 * with the semantics of `kubectl get -l`; `!=` and `notin` also match objects without the key.
 */
export function parseLabelSelector(input: string): LabelRequirement[] {
  if (input.length > MAX_SELECTOR_LENGTH) {
    throw new LabelSelectorError(`label selector longer than ${MAX_SELECTOR_LENGTH} characters`);
  }
  return splitRequirements(input)
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(parseRequirement);
}

/** Splits on commas outside parentheses. */
function splitRequirements(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const char = input[i];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(input.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1)
      throw new LabelSelectorError(`unbalanced parentheses in "${input}"`);
  }
  if (depth !== 0) throw new LabelSelectorError(`unbalanced parentheses in "${input}"`);
  parts.push(input.slice(start));
  return parts;
}

const SET_FORM = /^(\S+)\s+(in|notin)\s*\((.*)\)$/;
const EQUALITY_FORM = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/;

function parseRequirement(part: string): LabelRequirement {
  const set = SET_FORM.exec(part);
  if (set) {
    const list = (set[3] as string).trim();
    const values = list === '' ? [] : list.split(',').map((value) => value.trim());
    return requirement(set[1] as string, set[2] === 'in' ? 'In' : 'NotIn', values);
  }
  const equality = EQUALITY_FORM.exec(part);
  if (equality) {
    const operator = equality[2] === '!=' ? 'NotIn' : 'In';
    return requirement(equality[1] as string, operator, [(equality[3] as string).trim()]);
  }
  if (part.startsWith('!')) return requirement(part.slice(1).trim(), 'DoesNotExist', []);
  return requirement(part, 'Exists', []);
}

function requirement(
  key: string,
  operator: LabelRequirement['operator'],
  values: string[],
): LabelRequirement {
  if (!KEY.test(key)) throw new LabelSelectorError(`invalid label key "${key}"`);
  for (const value of values) {
    if (!VALUE.test(value)) throw new LabelSelectorError(`invalid value "${value}" for "${key}"`);
  }
  if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
    throw new LabelSelectorError(`"${key}" needs at least one value`);
  }
  return { key, operator, values };
}
