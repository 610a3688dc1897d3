import { isObject } from '../json.js';

/**
 * A set of field paths, stored as a tree keyed by serialized path elements exactly as
 * `managedFields[].fieldsV1` writes them: `f:name` (a field), `k:{"type":"Ready"}` (a keyed list
 * item), `v:"a"` (a set item), `i:0` (a list index). A node is a *member* when the path ending
 * there is in the set; `.` marks a member that also has children.
 */
export class FieldSet {
  member = false;
  readonly children = new Map<string, FieldSet>();

  /** Parses a `fieldsV1` object. */
  static fromFieldsV1(json: unknown): FieldSet {
    const set = new FieldSet();
    if (!isObject(json)) return set;
    for (const [key, value] of Object.entries(json)) {
      if (key === '.') {
        set.member = true;
        continue;
      }
      const child = FieldSet.fromFieldsV1(value);
      if (!isObject(value) || Object.keys(value).length === 0) child.member = true;
      set.children.set(key, child);
    }
    return set;
  }

  /** Serializes as `fieldsV1`. */
  toFieldsV1(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.member && this.children.size > 0) json['.'] = {};
    for (const key of [...this.children.keys()].sort()) {
      json[key] = (this.children.get(key) as FieldSet).toFieldsV1();
    }
    return json;
  }

  /** Adds the path (a list of serialized elements) as a member. */
  insert(path: readonly string[]): void {
    let node: FieldSet = this;
    for (const element of path) {
      let child = node.children.get(element);
      if (!child) {
        child = new FieldSet();
        node.children.set(element, child);
      }
      node = child;
    }
    node.member = true;
  }

  /** True when `path` is a member. */
  has(path: readonly string[]): boolean {
    let node: FieldSet | undefined = this;
    for (const element of path) node = node?.children.get(element);
    return node?.member === true;
  }

  /** The child node of one path element, if any. */
  child(element: string): FieldSet | undefined {
    return this.children.get(element);
  }

  /** True when the set holds no path. */
  isEmpty(): boolean {
    return !this.member && [...this.children.values()].every((child) => child.isEmpty());
  }

  /** Paths in either set. */
  union(other: FieldSet): FieldSet {
    const result = this.copy();
    result.member ||= other.member;
    for (const [key, child] of other.children) {
      const mine = result.children.get(key);
      result.children.set(key, mine ? mine.union(child) : child.copy());
    }
    return result;
  }

  /** Paths of this set that are not paths of `other` (children are compared separately). */
  difference(other: FieldSet): FieldSet {
    return this.subtract(other, false);
  }

  /** Paths of this set that are neither in `other` nor below a member of `other`. */
  recursiveDifference(other: FieldSet): FieldSet {
    return this.subtract(other, true);
  }

  private subtract(other: FieldSet, recursive: boolean): FieldSet {
    const result = new FieldSet();
    result.member = this.member && !other.member;
    for (const [key, child] of this.children) {
      const theirs = other.children.get(key);
      if (recursive && theirs?.member) continue;
      const rest = theirs ? child.subtract(theirs, recursive) : child.copy();
      if (!rest.isEmpty()) result.children.set(key, rest);
    }
    return result;
  }

  /** Paths in both sets. */
  intersection(other: FieldSet): FieldSet {
    const result = new FieldSet();
    result.member = this.member && other.member;
    for (const [key, child] of this.children) {
      const theirs = other.children.get(key);
      if (!theirs) continue;
      const both = child.intersection(theirs);
      if (!both.isEmpty()) result.children.set(key, both);
    }
    return result;
  }

  /** Every member path, depth first in key order. */
  paths(prefix: string[] = []): string[][] {
    const result: string[][] = this.member ? [prefix] : [];
    for (const key of [...this.children.keys()].sort()) {
      result.push(...(this.children.get(key) as FieldSet).paths([...prefix, key]));
    }
    return result;
  }

  /** A deep copy. */
  copy(): FieldSet {
    const result = new FieldSet();
    result.member = this.member;
    for (const [key, child] of this.children) result.children.set(key, child.copy());
    return result;
  }
}

/** Builds a set from paths written with dots (`metadata.name`), for fixed field lists. */
export function fieldSetOf(...dotted: string[]): FieldSet {
  const set = new FieldSet();
  for (const path of dotted) set.insert(path.split('.').map((name) => `f:${name}`));
  return set;
}

/** Renders a path as structured-merge-diff does in conflict messages: `.spec.list[type="x"]`. */
export function pathToString(path: readonly string[]): string {
  return path
    .map((element) => {
      const body = element.slice(2);
      switch (element[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const key = JSON.parse(body) as Record<string, unknown>;
          const parts = Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
          return `[${parts.join(',')}]`;
        }
        case 'v':
          return `[=${body}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}
