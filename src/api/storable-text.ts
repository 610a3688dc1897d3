/*
 * Strings Postgres cannot store: text and jsonb refuse the NUL character, and jsonb refuses an
 * unpaired UTF-16 surrogate (`"\ud800"` parses in JavaScript but is no Unicode text). One rule
 * for the device API, the webhook receiver and the local API server, which check bodies with it.
 */

/** In unicode mode a pair is one code point, so a surrogate range matches only unpaired ones. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** What makes a string unstorable, as messages word it. */
export type UnstorableReason = 'a NUL character' | 'an unpaired surrogate';

/** Why Postgres cannot store the string, or undefined when it can. */
export function unstorableReason(text: string): UnstorableReason | undefined {
  if (text.includes('\u0000')) return 'a NUL character';
  if (LONE_SURROGATE.test(text)) return 'an unpaired surrogate';
  return undefined;
}

/** The first unstorable string of a JSON value: its path, whether it is a key, and why. */
export interface UnstorableText {
  /** Keys and array indexes from the root; for a key, the path ends with the key itself. */
  path: Array<string | number>;
  key: boolean;
  reason: UnstorableReason;
}

type Visit = { value: unknown; key: string | number | undefined; parent: Visit | undefined };

/**
 * The first string or object key of a parsed JSON value (in document order) that Postgres cannot
 * store, or undefined. Walks without recursion, so any depth is safe.
 */
export function findUnstorable(value: unknown): UnstorableText | undefined {
  const stack: Visit[] = [{ value, key: undefined, parent: undefined }];
  while (stack.length > 0) {
    const visit = stack.pop() as Visit;
    const current = visit.value;
    if (typeof current === 'string') {
      const reason = unstorableReason(current);
      if (reason) return { path: pathOf(visit), key: false, reason };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    const entries: Array<[string | number, unknown]> = Array.isArray(current)
      ? current.map((item, index) => [index, item])
      : Object.entries(current);
    for (const [key] of entries) {
      const reason = typeof key === 'string' ? unstorableReason(key) : undefined;
      if (reason) return { path: [...pathOf(visit), key], key: true, reason };
    }
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string | number, unknown];
      stack.push({ value: child, key, parent: visit });
    }
  }
  return undefined;
}

function pathOf(visit: Visit): Array<string | number> {
  const path: Array<string | number> = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) {
    path.unshift(at.key);
  }
  return path;
}

const UNPRINTABLE = /\p{Cc}|[\ud800-\udfff]/gu;

/**
 * Untrusted text made safe to quote in a message that is sent, logged or stored: control
 * characters and unpaired surrogates written as `\uXXXX`.
 */
export function printable(text: string): string {
  return text.replace(
    UNPRINTABLE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** At most `max` UTF-16 units of `text`, never ending in half a surrogate pair (jsonb refuses it). */
export function clipWhole(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
