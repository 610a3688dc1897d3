import type { FastifyReply } from 'fastify';

/** Content negotiation: which representation an `Accept` header asks for. */

/**
 * Sends JSON with exactly this media type, as a buffer: for strings fastify would rewrite a JSON
 * media type (quoted parameters, an added charset).
 */
export function sendAs(reply: FastifyReply, contentType: string, body: unknown) {
  return reply.header('content-type', contentType).send(Buffer.from(JSON.stringify(body)));
}

/** One media range of an Accept header, with its parameters (`as`, `g`, `v`). */
export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

/** Parses an Accept header, keeping the client's order (kubectl lists its preference first). */
function parseAccept(header: string | undefined): MediaRange[] {
  if (!header?.trim()) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((piece) => piece.trim());
    return {
      type: type.toLowerCase(),
      params: Object.fromEntries(
        params.map((param) => {
          const [key = '', value = ''] = param.split('=');
          return [key.trim(), value.trim().replace(/^"|"$/g, '')];
        }),
      ),
    };
  });
}

const JSON_TYPES = new Set(['application/json', 'application/*', '*/*']);

/** The representations the server can produce for a resource request. */
export type Representation =
  | { kind: 'object' }
  | { kind: 'table'; contentType: string }
  | { kind: 'metadata'; contentType: string };

/**
 * Chooses the first representation in the client's order that the server produces: a
 * `meta.k8s.io` Table, PartialObjectMetadata(List), or plain JSON. Undefined when none fits.
 */
export function chooseRepresentation(header: string | undefined): Representation | undefined {
  for (const range of parseAccept(header)) {
    if (!JSON_TYPES.has(range.type) && range.type !== 'application/json') continue;
    const { as, g, v } = range.params;
    if (as === undefined) return { kind: 'object' };
    if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
    if (as === 'Table') {
      return { kind: 'table', contentType: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
    }
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') {
      return { kind: 'metadata', contentType: `application/json;as=${as};v=v1;g=meta.k8s.io` };
    }
  }
  return undefined;
}

/** The aggregated discovery version the client accepts (`v2`, `v2beta1`), if any. */
export function aggregatedDiscoveryVersion(header: string | undefined): string | undefined {
  for (const range of parseAccept(header)) {
    const { as, g, v } = range.params;
    if (
      range.type === 'application/json' &&
      as === 'APIGroupDiscoveryList' &&
      g === 'apidiscovery.k8s.io'
    ) {
      if (v === 'v2' || v === 'v2beta1') return v;
    }
    if (as === undefined && JSON_TYPES.has(range.type)) return undefined;
  }
  return undefined;
}
