import type { FastifyReply } from 'fastify';
import { type JsonObject, withConventionalKeyOrder } from '../json.js';
import { apiVersionOf, type ResourceType } from '../resources/types.js';
import type { ListResult } from '../rest/read.js';
import { type IncludeObject, partialMetadata, toTable } from '../table.js';
import { type Representation, sendAs } from './negotiate.js';

/** How a read answer is rendered: the representation asked for, and Table options. */
export interface Rendering {
  representation: Representation;
  includeObject: IncludeObject;
  now: Date;
}

/** Sends one object as JSON, or (for reads) as a Table or PartialObjectMetadata. */
export function sendObject(
  reply: FastifyReply,
  type: ResourceType,
  object: JsonObject,
  rendering: Rendering,
) {
  const { representation } = rendering;
  if (representation.kind === 'table') {
    const table = toTable(type, [object], {
      includeObject: rendering.includeObject,
      now: rendering.now,
    });
    return sendAs(reply, representation.contentType, table);
  }
  if (representation.kind === 'metadata') {
    return sendAs(reply, representation.contentType, partialMetadata(object));
  }
  return reply.type('application/json').send(withConventionalKeyOrder(object));
}

/** Sends a list as `<Kind>List`, a Table, or a PartialObjectMetadataList. */
export function sendList(
  reply: FastifyReply,
  type: ResourceType,
  list: ListResult,
  rendering: Rendering,
) {
  const { representation } = rendering;
  const metadata = {
    resourceVersion: list.resourceVersion,
    ...(list.continueToken ? { continue: list.continueToken } : {}),
  };
  if (representation.kind === 'table') {
    const table = toTable(type, list.items, {
      includeObject: rendering.includeObject,
      now: rendering.now,
      resourceVersion: list.resourceVersion,
      continueToken: list.continueToken,
    });
    return sendAs(reply, representation.contentType, table);
  }
  if (representation.kind === 'metadata') {
    const items = list.items.map(partialMetadata);
    const body = {
      kind: 'PartialObjectMetadataList',
      apiVersion: 'meta.k8s.io/v1',
      metadata,
      items,
    };
    return sendAs(reply, representation.contentType, body);
  }
  const items = list.items.map((item) => withConventionalKeyOrder(item));
  // Upstream's unstructured lists (custom resources) always carry `continue`, empty on the last page.
  const listMetadata = type.custom ? { continue: '', ...metadata } : metadata;
  return reply
    .type('application/json')
    .send({ apiVersion: apiVersionOf(type), kind: type.listKind, metadata: listMetadata, items });
}
