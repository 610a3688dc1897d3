/**
 * Normalization of the answers of both servers, so that only what a client could rely on is
 * compared: uids, timestamps, resourceVersions, generated names and continue tokens become
 * placeholders, everything else stays as the server wrote it.
 */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g;
/** A resourceVersion named in a message: `resource version: 12`, `ResourceVersion in …: 12`. */
const RV_IN_TEXT = /([Rr]esource ?[Vv]ersion[^0-9\n]{0,24}?)\d+/g;
const CURRENT_RV = /(current: |\()\d+(\)?)/g;

/** Replaces uids, timestamps and resourceVersions inside free text. */
export function normalizeText(text: string): string {
  return text
    .replace(UUID, '<uid>')
    .replace(TIME, '<time>')
    .replace(RV_IN_TEXT, '$1<rv>')
    .replace(CURRENT_RV, '$1<rv>$2');
}

/** Replaces the AGE column of kubectl's tables (`5s`, `2m3s`, `<unknown>`). */
export function normalizeTable(text: string): string {
  return normalizeText(text).replace(/(\s)(\d+[smhd])(\d+[smh])?(?=\s|$)/gm, '$1<age>');
}

/** Normalizes a JSON value of either server. */
export function normalizeJson(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => normalizeJson(item, key));
  if (value !== null && typeof value === 'object') return normalizeObject(value as Json);
  if (typeof value !== 'string') return value;
  if (key === 'resourceVersion' && /^\d+$/.test(value)) return '<rv>';
  if (key === 'continue' && value !== '') return '<continue>';
  return normalizeText(value);
}

type Json = Record<string, unknown>;

function normalizeObject(object: Json): Json {
  const out: Json = {};
  // Keys carry uids too: managed fields' `k:{"uid":"…"}` of ownerReferences.
  for (const [key, value] of Object.entries(object)) {
    out[normalizeText(key)] = normalizeJson(value, key);
  }
  if (typeof object.generateName === 'string' && typeof object.name === 'string') {
    out.name = `${object.generateName}<generated>`;
  }
  return out;
}

/** A body as JSON: one document, a stream of watch events (one per line), or the text. */
export function parseBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text);
  } catch {
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    try {
      return { stream: lines.map((line) => JSON.parse(line)) };
    } catch {
      return normalizeText(text);
    }
  }
}

/** The paths (at most `max`) where two normalized values differ, with both sides. */
export function differences(real: unknown, local: unknown, max = 8, path = ''): string[] {
  if (Object.is(real, local)) return [];
  const bothObjects =
    real !== null && local !== null && typeof real === 'object' && typeof local === 'object';
  if (!bothObjects || Array.isArray(real) !== Array.isArray(local)) {
    return [`${path || '.'}: real ${show(real)} ≠ local ${show(local)}`];
  }
  const keys = new Set([...Object.keys(real as Json), ...Object.keys(local as Json)]);
  const found: string[] = [];
  for (const key of keys) {
    if (found.length >= max) break;
    const [a, b] = [(real as Json)[key], (local as Json)[key]];
    found.push(...differences(a, b, max - found.length, `${path}.${key}`));
  }
  return found;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
