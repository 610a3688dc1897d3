import { stringify as toYaml } from 'yaml';
import { hostileString, hostileValue, type Random } from './random.js';

type Json = unknown;

/** Paths to every value of a JSON document (keys and indexes from the root). */
function paths(
  value: Json,
  at: Array<string | number> = [],
  out: Array<Array<string | number>> = [],
) {
  out.push(at);
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) paths(item, [...at, i], out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) paths(child, [...at, key], out);
  }
  return out;
}

/** The parent object/array of `path` in `root` and the last key. */
function parentOf(root: Json, path: Array<string | number>) {
  let parent = root as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  return { parent, key: path[path.length - 1] as string | number };
}

/**
 * A copy of `value` with 1–3 random changes: a value replaced by a hostile one, a field removed,
 * an unknown (hostile-named) field added, a value turned into another JSON type.
 */
export function mutate(random: Random, value: Json): Json {
  let root = structuredClone(value);
  const changes = random.int(1, 3);
  for (let i = 0; i < changes; i++) {
    const all = paths(root);
    const path = random.pick(all);
    if (path.length === 0) {
      if (random.chance(0.3)) root = hostileValue(random);
      continue;
    }
    const { parent, key } = parentOf(root, path);
    const current = parent[key];
    switch (random.int(0, 3)) {
      case 0:
        parent[key] = hostileString(random);
        break;
      case 1:
        parent[key] = hostileValue(random);
        break;
      case 2:
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      default:
        if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
          (current as Record<string, Json>)[hostileString(random)] = hostileValue(random);
        } else parent[key] = { [hostileString(random)]: current };
    }
  }
  return root;
}

/** YAML that only YAML can say: tags, anchors, merge keys, alias bombs, duplicate keys. */
const YAML_TRICKS = [
  'spec:\n  image: !!binary aGVsbG8=\n',
  'spec:\n  image: !!binary "not base64"\n',
  'spec:\n  image: !!timestamp 2001-12-14\n',
  'spec: !!set {a, b}\n',
  'spec: !!omap [a: 1]\n',
  'spec:\n  image: !custom x\n',
  'spec:\n  image: !<tag:example.com,2000:x> y\n',
  'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n',
  'spec: {<<: {image: x}, selector: {<<: 5}}\n',
  'spec: {[a]: b}\n',
  'spec: {~: b}\n',
  'spec: {? : b}\n',
  'spec:\n  image: x\n  image: y\n',
  'spec: *nowhere\n',
  'spec:\n  minSample: .inf\n',
  'spec:\n  minSample: .nan\n',
  '%YAML 1.1\n---\nspec: {image: yes}\n',
  '--- a\n--- b\n',
  'spec: "\\0\\ud800"\n',
  `spec:\n${Array.from({ length: 300 }, (_, i) => `${' '.repeat(i + 2)}a:`).join('\n')}\n`,
  `spec: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
];

/**
 * `value` as body text: JSON, or YAML when `yaml`, sometimes damaged (truncated, a byte flipped,
 * YAML tricks appended) or replaced by random bytes.
 */
export function serialize(random: Random, value: Json, yaml: boolean): string | Buffer {
  const roll = random.next();
  if (roll < 0.05) return random.bytes(random.int(0, 64));
  let text = yaml && random.chance(0.5) ? toYaml(value ?? null) : (JSON.stringify(value) ?? 'null');
  if (yaml && random.chance(0.3)) {
    const trick = random.pick(YAML_TRICKS);
    text = random.chance(0.5) ? trick : `${text.replace(/^spec:[\s\S]*$/m, '')}\n${trick}`;
  }
  if (roll < 0.12) return text.slice(0, random.int(0, text.length));
  if (roll < 0.16 && text.length > 0) {
    const bytes = Buffer.from(text);
    bytes[random.int(0, bytes.length - 1)] = random.int(0, 255);
    return bytes;
  }
  return text;
}

/** A path segment: usually `normal`, sometimes a hostile one, percent-encoded. */
export function segment(random: Random, normal: string): string {
  if (random.chance(0.8)) return normal;
  const hostile = hostileString(random).slice(0, 300);
  return random.chance(0.9) ? percentEncoded(hostile) : hostile.replace(/[^\x21-\x7e]/g, '_');
}

/** Every byte of the UTF-8 text outside the unreserved set as %XX (lone surrogates as U+FFFD). */
export function percentEncoded(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
}

/** Header values a client can send (Latin-1 without controls), some hostile. */
export function headerValue(random: Random): string {
  const value = hostileString(random).slice(0, 2000);
  return Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}
