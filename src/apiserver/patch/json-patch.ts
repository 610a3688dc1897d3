import { clone, deepEqual, isObject } from '../json.js';
import { ApiError, badRequest } from '../status.js';

/** RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

interface Operation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Most operations one JSON patch may have, as upstream's limit. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/**
 * Most bytes (as JSON) all `copy` operations of one patch may duplicate: the request body limit,
 * as upstream bounds its accumulated copy size.
 */
export const MAX_COPIED_BYTES = 3 * 1024 * 1024;

/**
 * Checks that a body is an RFC 6902 patch document; a malformed one is 400 BadRequest, one with
 * more than MAX_JSON_PATCH_OPERATIONS operations 413.
 */
export function parseJsonPatch(body: unknown): Operation[] {
  if (!Array.isArray(body))
    throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  if (body.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(
      413,
      'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${body.length}`,
    );
  }
  return body.map((op, index) => {
    if (!isObject(op) || typeof op.op !== 'string' || !OPS.has(op.op)) {
      throw badRequest(
        `Unexpected kind: ${isObject(op) ? String(op.op) : typeof op} (operation ${index})`,
      );
    }
    if (typeof op.path !== 'string')
      throw badRequest(`operation ${index} (${op.op}) is missing "path"`);
    if ((op.op === 'move' || op.op === 'copy') && typeof op.from !== 'string') {
      throw badRequest(`operation ${index} (${op.op}) is missing "from"`);
    }
    if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !('value' in op)) {
      throw badRequest(`operation ${index} (${op.op}) is missing "value"`);
    }
    return op as unknown as Operation;
  });
}

/**
 * Applies an RFC 6902 JSON patch; a failing operation is 422, as upstream answers, and so is
 * copying more than MAX_COPIED_BYTES in all (each copy could otherwise double the document).
 */
export function applyJsonPatch(target: unknown, operations: Operation[]): unknown {
  let document = clone(target);
  let copied = 0;
  for (const operation of operations) {
    if (operation.op === 'copy') {
      copied += JSON.stringify(get(document, operation.from as string)).length;
      if (copied > MAX_COPIED_BYTES) {
        throw failed(
          `Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${MAX_COPIED_BYTES}`,
        );
      }
    }
    document = applyOperation(document, operation);
  }
  return document;
}

function failed(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw failed(`invalid JSON pointer: "${pointer}"`);
  const path = pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  // Assigning it would replace an object's prototype; request bodies may not hold it either.
  if (path.includes('__proto__')) throw failed(`invalid JSON pointer: "${pointer}"`);
  return path;
}

function get(document: unknown, pointer: string, path = tokens(pointer)): unknown {
  let node = document;
  for (const token of path) {
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(token) && Number(token) < node.length) {
      node = node[Number(token)];
    } else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else throw failed(`doc is missing path: "${pointer}": missing value`);
  }
  return node;
}

/** Runs `change` on the container of the pointer's last token. */
function edit(
  document: unknown,
  pointer: string,
  change: (container: unknown[] | Record<string, unknown>, token: string) => void,
): unknown {
  const path = tokens(pointer);
  const last = path.pop();
  if (last === undefined) throw failed('the root of the document cannot be the target here');
  const container = get(document, pointer, path);
  if (!Array.isArray(container) && !isObject(container)) {
    throw failed(`doc is missing path: "${pointer}": missing value`);
  }
  change(container, last);
  return document;
}

function arrayIndex(array: unknown[], token: string, allowEnd: boolean, pointer: string): number {
  if (allowEnd && token === '-') return array.length;
  const index = /^(0|[1-9]\d*)$/.test(token) ? Number(token) : Number.NaN;
  if (!(index <= (allowEnd ? array.length : array.length - 1))) {
    throw failed(`Unable to access invalid index: ${token} (path "${pointer}")`);
  }
  return index;
}

function add(document: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return clone(value);
  return edit(document, pointer, (container, token) => {
    if (Array.isArray(container))
      container.splice(arrayIndex(container, token, true, pointer), 0, clone(value));
    else container[token] = clone(value);
  });
}

function remove(document: unknown, pointer: string): unknown {
  return edit(document, pointer, (container, token) => {
    if (Array.isArray(container)) container.splice(arrayIndex(container, token, false, pointer), 1);
    else if (Object.hasOwn(container, token)) delete container[token];
    else throw failed(`Unable to remove nonexistent key: ${token}: missing value`);
  });
}

function applyOperation(document: unknown, operation: Operation): unknown {
  switch (operation.op) {
    case 'add':
      return add(document, operation.path, operation.value);
    case 'remove':
      return remove(document, operation.path);
    case 'replace':
      if (operation.path === '') return clone(operation.value);
      get(document, operation.path);
      return add(remove(document, operation.path), operation.path, operation.value);
    case 'move': {
      const value = get(document, operation.from as string);
      return add(remove(document, operation.from as string), operation.path, value);
    }
    case 'copy':
      return add(document, operation.path, get(document, operation.from as string));
    case 'test':
      if (!deepEqual(get(document, operation.path), operation.value)) {
        throw failed(`testing value ${operation.path} failed: test failed`);
      }
      return document;
  }
}
