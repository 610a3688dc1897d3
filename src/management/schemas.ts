/*
 * JSON schemas of the management API, checked at the edge by fastify and the source of its part
 * of the OpenAPI document. Resource specs are not repeated here: the Kubernetes API server
 * validates them against the CRDs (the one source of truth) and its field errors come back as
 * 400 problems.
 */

/** A namespace: a DNS label. */
export const NAMESPACE = {
  type: 'string',
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
} as const;

/** A resource name: a DNS subdomain. */
export const NAME = {
  type: 'string',
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
} as const;

/** `:namespace/:name` of one resource. */
export const objectParamsSchema = {
  type: 'object',
  required: ['namespace', 'name'],
  additionalProperties: false,
  properties: { namespace: NAMESPACE, name: NAME },
} as const;

/** Path parameters of a resource. */
export type ObjectParams = { namespace: string; name: string };

/** Page size bounds of every list. */
export const PAGE = { default: 100, max: 500 } as const;

/** `limit` and `continue` of every list. */
export const pagingProperties = {
  limit: {
    type: 'string',
    pattern: '^[1-9][0-9]{0,3}$',
    description: `page size, 1 to ${PAGE.max} (default ${PAGE.default})`,
  },
  continue: {
    type: 'string',
    maxLength: 1024,
    description: 'the `continue` of the previous page',
  },
} as const;

/** A page of a list. */
export function pageSchema(item: object) {
  return {
    type: 'object',
    required: ['items', 'total'],
    properties: {
      items: { type: 'array', items: item },
      total: { type: 'integer', description: 'items matching the filters, on every page' },
      continue: { type: 'string', description: 'pass as `continue` for the next page' },
    },
  } as const;
}

/** Any object: a resource part shown as the Kubernetes API has it. */
export const openObject = { type: 'object', additionalProperties: true } as const;

/** Labels of an object. */
export const labelsSchema = {
  type: 'object',
  maxProperties: 64,
  additionalProperties: { type: 'string', maxLength: 63 },
} as const;

/** `:namespace` of a collection. */
export const namespaceParamsSchema = {
  type: 'object',
  required: ['namespace'],
  additionalProperties: false,
  properties: { namespace: NAMESPACE },
} as const;
