import { badRequest } from '../status.js';

/**
 * Decoding of the protobuf request bodies kubectl sends to this server: the Namespace of
 * `kubectl create namespace` and the Secret of `kubectl create secret` (kubectl's typed clients
 * write protobuf). The Kubernetes envelope is
 * the magic `k8s\0` and a `runtime.Unknown` holding the type and the encoded object. Answers are
 * JSON, which those clients accept too.
 */

/** Media type of Kubernetes protobuf bodies. */
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { field: number; bytes?: Buffer; varint?: number };

function readVarint(buffer: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  let offset = start;
  for (;;) {
    const byte = buffer[offset];
    if (byte === undefined || shift > 49) throw badRequest('malformed protobuf body');
    value += (byte & 0x7f) * 2 ** shift;
    offset += 1;
    if ((byte & 0x80) === 0) return [value, offset];
    shift += 7;
  }
}

/** The fields of one message; length-delimited ones carry their bytes. */
function fieldsOf(buffer: Buffer): Field[] {
  const fields: Field[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const [key, next] = readVarint(buffer, offset);
    offset = next;
    const field = Math.floor(key / 8);
    switch (key % 8) {
      case 0: {
        const [varint, after] = readVarint(buffer, offset);
        offset = after;
        fields.push({ field, varint });
        break;
      }
      case 1:
        offset += 8;
        break;
      case 5:
        offset += 4;
        break;
      case 2: {
        const [length, start] = readVarint(buffer, offset);
        if (start + length > buffer.length) throw badRequest('malformed protobuf body');
        fields.push({ field, bytes: buffer.subarray(start, start + length) });
        offset = start + length;
        break;
      }
      default:
        throw badRequest('malformed protobuf body');
    }
  }
  return fields;
}

const strings = (fields: Field[], field: number) =>
  fields
    .filter((f) => f.field === field && f.bytes)
    .map((f) => (f.bytes as Buffer).toString('utf8'));
const message = (fields: Field[], field: number) => fields.find((f) => f.field === field)?.bytes;

function stringMap(
  fields: Field[],
  field: number,
  encoding: 'utf8' | 'base64' = 'utf8',
): Record<string, string> | undefined {
  const entries = fields
    .filter((f) => f.field === field && f.bytes)
    .map((f) => fieldsOf(f.bytes as Buffer));
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map((entry) => [
      strings(entry, 1)[0] ?? '',
      (message(entry, 2) ?? Buffer.alloc(0)).toString(encoding),
    ]),
  );
}

function objectMeta(bytes: Buffer | undefined): Record<string, unknown> {
  const fields = fieldsOf(bytes ?? Buffer.alloc(0));
  const metadata: Record<string, unknown> = {};
  const [name] = strings(fields, 1);
  const [generateName] = strings(fields, 2);
  if (name) metadata.name = name;
  if (generateName) metadata.generateName = generateName;
  const labels = stringMap(fields, 11);
  const annotations = stringMap(fields, 12);
  if (labels) metadata.labels = labels;
  if (annotations) metadata.annotations = annotations;
  const finalizers = strings(fields, 14);
  if (finalizers.length > 0) metadata.finalizers = finalizers;
  return metadata;
}

/** A v1 Secret: metadata 1, data 2 (bytes), type 3, stringData 4, immutable 5. */
function secret(fields: Field[]): Record<string, unknown> {
  const object: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMeta(message(fields, 1)),
  };
  const data = stringMap(fields, 2, 'base64');
  const stringData = stringMap(fields, 4);
  const [type] = strings(fields, 3);
  const immutable = fields.find((f) => f.field === 5)?.varint;
  if (data) object.data = data;
  if (stringData) object.stringData = stringData;
  if (type) object.type = type;
  if (immutable !== undefined) object.immutable = immutable !== 0;
  return object;
}

/** Decodes a protobuf request body into the JSON object it encodes (Namespaces, Secrets). */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC))
    throw badRequest('protobuf body without the k8s envelope');
  const unknown = fieldsOf(body.subarray(4));
  const typeMeta = fieldsOf(message(unknown, 1) ?? Buffer.alloc(0));
  const [apiVersion] = strings(typeMeta, 1);
  const [kind] = strings(typeMeta, 2);
  if (apiVersion === 'v1' && kind === 'Secret') {
    return secret(fieldsOf(message(unknown, 2) ?? Buffer.alloc(0)));
  }
  if (apiVersion !== 'v1' || kind !== 'Namespace') {
    throw badRequest(
      `protobuf bodies are only understood for v1 Namespace and Secret, not ${apiVersion}/${kind}; send JSON`,
    );
  }
  const namespace = fieldsOf(message(unknown, 2) ?? Buffer.alloc(0));
  const object: Record<string, unknown> = {
    apiVersion,
    kind,
    metadata: objectMeta(message(namespace, 1)),
  };
  const finalizers = strings(fieldsOf(message(namespace, 2) ?? Buffer.alloc(0)), 1);
  if (finalizers.length > 0) object.spec = { finalizers };
  return object;
}
