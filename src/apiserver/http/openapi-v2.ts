import type { FastifyInstance } from 'fastify';
import type { ResourceRegistry } from '../resources/registry.js';
import { apiVersionOf, type ResourceType } from '../resources/types.js';
import { SERVER_VERSION } from './discovery.js';

/**
 * A minimal OpenAPI v2 document at `/openapi/v2`: every PATCH operation with its
 * `x-kubernetes-group-version-kind` and the `fieldValidation` query parameter. kubectl 1.27 and
 * 1.28 read it (as protobuf) to learn that the server validates fields, so `kubectl apply` with
 * its default validation works; newer kubectl reads OpenAPI v3 instead. It carries no
 * definitions: schemas are served by OpenAPI v3.
 */

const PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

interface PatchOperation {
  path: string;
  operationId: string;
  gvk: { group: string; version: string; kind: string };
}

function patchOperations(registry: ResourceRegistry): PatchOperation[] {
  return registry.types.flatMap((type: ResourceType) => {
    const base = type.group ? `/apis/${apiVersionOf(type)}` : `/api/${type.version}`;
    const scope = type.namespaced ? '/namespaces/{namespace}' : '';
    const item = `${base}${scope}/${type.plural}/{name}`;
    const gvk = { group: type.group, version: type.version, kind: type.kind };
    const operations = [{ path: item, operationId: `patch${type.kind}`, gvk }];
    if (type.statusSubresource) {
      operations.push({ path: `${item}/status`, operationId: `patch${type.kind}Status`, gvk });
    }
    return operations;
  });
}

/** A protobuf message under construction (proto3 wire format: strings and nested messages). */
class Message {
  private readonly parts: Buffer[] = [];

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value));
  }

  message(field: number, message: Message): this {
    return this.bytes(field, message.encode());
  }

  encode(): Buffer {
    return Buffer.concat(this.parts);
  }

  private bytes(field: number, value: Buffer): this {
    this.parts.push(varint((field << 3) | 2), varint(value.length), value);
    return this;
  }
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** The document in gnostic's `openapi.v2.Document` protobuf encoding. */
function openApiV2Protobuf(registry: ResourceRegistry): Buffer {
  const paths = new Message();
  for (const operation of patchOperations(registry)) {
    const query = new Message().string(2, 'query').string(4, 'fieldValidation').string(6, 'string');
    const parameter = new Message().message(
      1,
      new Message().message(2, new Message().message(3, query)),
    );
    const { group, version, kind } = operation.gvk;
    const gvk = new Message()
      .string(1, 'x-kubernetes-group-version-kind')
      .message(
        2,
        new Message().string(2, `group: "${group}"\nkind: ${kind}\nversion: ${version}\n`),
      );
    const patch = new Message()
      .string(5, operation.operationId)
      .message(8, parameter)
      .message(13, gvk);
    paths.message(
      2,
      new Message().string(1, operation.path).message(2, new Message().message(8, patch)),
    );
  }
  const info = new Message().string(1, 'Kubernetes').string(2, SERVER_VERSION.gitVersion);
  return new Message().string(1, '2.0').message(2, info).message(8, paths).encode();
}

/** The same document as Swagger 2.0 JSON. */
function openApiV2Json(registry: ResourceRegistry) {
  const paths: Record<string, unknown> = {};
  for (const operation of patchOperations(registry)) {
    paths[operation.path] = {
      patch: {
        operationId: operation.operationId,
        parameters: [{ name: 'fieldValidation', in: 'query', type: 'string', uniqueItems: true }],
        'x-kubernetes-group-version-kind': operation.gvk,
      },
    };
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
  };
}

/** Registers `/openapi/v2` (protobuf when asked for, else JSON). */
export function registerOpenApiV2(app: FastifyInstance, registry: ResourceRegistry) {
  const protobuf = openApiV2Protobuf(registry);
  const json = openApiV2Json(registry);
  app.get('/openapi/v2', async (request, reply) => {
    reply.header('Vary', 'Accept');
    if ((request.headers.accept ?? '').includes('protobuf')) {
      return reply.header('content-type', PROTOBUF).send(protobuf);
    }
    return json;
  });
}
