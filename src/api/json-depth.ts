/** Deepest JSON nesting any body we accept may have; our documents need far less. */
export const MAX_JSON_DEPTH = 32;

/**
 * Nesting depth of a parsed JSON value, computed without recursion; stops counting once past
 * MAX_JSON_DEPTH, so a hostile document costs no more than a legal one.
 */
export function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}
