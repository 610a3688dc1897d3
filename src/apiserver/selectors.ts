import { badRequest } from './status.js';

/**
 * Label and field selectors with the syntax and semantics of Kubernetes `labels.Parse` and
 * `fields.ParseSelector`. Parsing errors are 400 BadRequest.
 */

type Operator = 'Exists' | 'DoesNotExist' | '=' | '!=' | 'In' | 'NotIn' | 'Gt' | 'Lt';

interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

/** A parsed label selector; matches every object when empty. */
export interface LabelSelector {
  matches(labels: Record<string, string> | undefined): boolean;
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h,n>5`. */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  const requirements = splitTopLevel(text ?? '').map(parseRequirement);
  return { matches: (labels) => requirements.every((r) => matchesRequirement(r, labels ?? {})) };
}

function splitTopLevel(text: string): string[] {
  if (!text.trim()) return [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  parts.push(current.trim());
  return parts;
}

function parseRequirement(text: string): Requirement {
  if (!text) throw badRequest("unable to parse requirement: found ',', expected: identifier");
  if (text.startsWith('!')) return requirement(text.slice(1).trim(), 'DoesNotExist', []);
  const set = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(text);
  if (set) {
    const values = (set[3] ?? '').split(',').map((value) => value.trim());
    return requirement(set[1] ?? '', set[2] === 'in' ? 'In' : 'NotIn', values);
  }
  const binary = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(text);
  if (binary) {
    const operator = ({ '==': '=', '=': '=', '!=': '!=', '>': 'Gt', '<': 'Lt' } as const)[
      binary[2] as '==' | '=' | '!=' | '>' | '<'
    ];
    return requirement(binary[1] ?? '', operator, [binary[3]?.trim() ?? '']);
  }
  return requirement(text, 'Exists', []);
}

function requirement(key: string, operator: Operator, values: string[]): Requirement {
  if (!KEY.test(key) || key.length > 317) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  }
  for (const value of values) {
    if (operator === 'Gt' || operator === 'Lt') {
      if (!/^-?\d+$/.test(value)) {
        throw badRequest(
          `unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: "${value}"`,
        );
      }
    } else if (!VALUE.test(value) || value.length > 63) {
      throw badRequest(`unable to parse requirement: invalid label value: "${value}"`);
    }
  }
  return { key, operator, values };
}

function matchesRequirement(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.operator) {
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case '=':
    case 'In':
      return has && r.values.includes(value as string);
    case '!=':
    case 'NotIn':
      return !has || !r.values.includes(value as string);
    case 'Gt':
    case 'Lt': {
      if (!has || !/^-?\d+$/.test(value as string)) return false;
      const difference = Number(value) - Number(r.values[0]);
      return r.operator === 'Gt' ? difference > 0 : difference < 0;
    }
  }
}

/** One `field=value` or `field!=value` term. */
export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

/** Parses `metadata.name=x,status.phase!=Done` (backslash escapes `\,` `\=` `\\`). */
export function parseFieldSelector(text: string | undefined): FieldRequirement[] {
  if (!text) return [];
  return splitUnescaped(text, ',').map((term) => parseFieldTerm(term, text));
}

function parseFieldTerm(term: string, text: string): FieldRequirement {
  const unescaped = (s: string) => s.replace(/\\(.)/g, '$1');
  for (let i = 0; i < term.length; i += 1) {
    const char = term[i];
    if (char === '\\') i += 1;
    else if (char === '!' && term[i + 1] === '=') {
      return {
        field: term.slice(0, i).trim(),
        operator: '!=',
        value: unescaped(term.slice(i + 2)),
      };
    } else if (char === '=') {
      const value = term.slice(term[i + 1] === '=' ? i + 2 : i + 1);
      return { field: term.slice(0, i).trim(), operator: '=', value: unescaped(value) };
    }
  }
  throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (char === '\\' && i + 1 < text.length) {
      current += char + text[i + 1];
      i += 1;
    } else if (char === separator) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

/**
 * Builds a predicate over objects from field requirements; `fieldsOf` gives the selectable fields
 * of an object. An unsupported field is a 400 with the real server's wording.
 */
export function fieldMatcher<T>(
  requirements: FieldRequirement[],
  supported: readonly string[],
  fieldsOf: (object: T) => Record<string, string>,
): (object: T) => boolean {
  for (const r of requirements) {
    if (!supported.includes(r.field)) throw badRequest(`field label not supported: ${r.field}`);
  }
  return (object) => {
    const fields = fieldsOf(object);
    return requirements.every((r) => (fields[r.field] === r.value) === (r.operator === '='));
  };
}
