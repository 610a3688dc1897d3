import { readFileSync } from 'node:fs';

/** The file listing every difference between the local API server and kube-apiserver. */
export const DIFFERENCES_FILE = 'docs/apiserver-differences.md';

/** The ids of the documented differences: each level-2 heading of the form ``## `id`: …``. */
export function documentedDifferences(text = readFileSync(DIFFERENCES_FILE, 'utf8')): Set<string> {
  return new Set([...text.matchAll(/^## `([a-z0-9-]+)`/gm)].map((match) => match[1] as string));
}
