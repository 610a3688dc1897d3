import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { JSONSchemaProps } from '../../src/apiserver/schema/index.js';
import { ROLLOUT_DEFAULTS } from '../../src/planner/defaults.js';
import { crdOf } from '../support/resources.js';

/**
 * The CRDs are the source of truth for src/api/types.ts. Both are reduced to the same shape
 * (field names, required-ness, scalar kinds, enums, lists and maps) and compared, so any drift
 * fails with a diff that names the field. TypeScript has one number type, so `integer` and
 * `number` both become `number`.
 */
type Shape =
  | { kind: 'string' | 'number' | 'boolean' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'list'; items: Shape }
  | { kind: 'map'; values: Shape }
  | { kind: 'object'; fields: Record<string, { required: boolean; shape: Shape }> };

function schemaShape(schema: JSONSchemaProps): Shape {
  if (schema.enum) return { kind: 'enum', values: schema.enum.map(String).sort() };
  switch (schema.type) {
    case 'string':
    case 'boolean':
      return { kind: schema.type };
    case 'integer':
    case 'number':
      return { kind: 'number' };
    case 'array':
      return { kind: 'list', items: schemaShape(schema.items ?? {}) };
    default:
      if (typeof schema.additionalProperties === 'object') {
        return { kind: 'map', values: schemaShape(schema.additionalProperties) };
      }
      return {
        kind: 'object',
        fields: Object.fromEntries(
          Object.entries(schema.properties ?? {}).map(([name, property]) => [
            name,
            { required: schema.required?.includes(name) ?? false, shape: schemaShape(property) },
          ]),
        ),
      };
  }
}

const typesFile = fileURLToPath(new URL('../../src/api/types.ts', import.meta.url));
const program = ts.createProgram([typesFile], { strict: true, noEmit: true });
const checker = program.getTypeChecker();
const sourceFile = program.getSourceFile(typesFile);
const moduleSymbol = sourceFile && checker.getSymbolAtLocation(sourceFile);
const exported = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];

function declaredType(name: string): ts.Type {
  const symbol = exported.find((candidate) => candidate.name === name);
  if (!symbol) throw new Error(`src/api/types.ts exports no ${name}`);
  return checker.getDeclaredTypeOfSymbol(symbol);
}

function withoutUndefined(type: ts.Type): ts.Type[] {
  const members = type.isUnion() ? type.types : [type];
  return members.filter((member) => !(member.flags & ts.TypeFlags.Undefined));
}

function typeShape(type: ts.Type): Shape {
  const members = withoutUndefined(type);
  if (members.every((member) => member.flags & ts.TypeFlags.BooleanLiteral)) {
    return { kind: 'boolean' };
  }
  if (members.every((member) => member.isStringLiteral())) {
    return { kind: 'enum', values: members.map((m) => (m as ts.StringLiteralType).value).sort() };
  }
  const [single] = members;
  if (members.length !== 1 || !single)
    throw new Error(`unsupported union ${checker.typeToString(type)}`);
  if (single.flags & ts.TypeFlags.String) return { kind: 'string' };
  if (single.flags & ts.TypeFlags.Number) return { kind: 'number' };
  if (checker.isArrayType(single)) {
    const [item] = checker.getTypeArguments(single as ts.TypeReference);
    if (!item) throw new Error('array without item type');
    return { kind: 'list', items: typeShape(item) };
  }
  const index = single.getStringIndexType();
  if (index && single.getProperties().length === 0)
    return { kind: 'map', values: typeShape(index) };
  return {
    kind: 'object',
    fields: Object.fromEntries(
      single.getProperties().map((property) => [
        property.name,
        {
          required: !(property.flags & ts.SymbolFlags.Optional),
          shape: typeShape(checker.getTypeOfSymbol(property)),
        },
      ]),
    ),
  };
}

describe('src/api/types.ts', () => {
  it.each([
    ['ImagePolicy', 'spec', 'ImagePolicySpec'],
    ['ImagePolicy', 'status', 'ImagePolicyStatus'],
    ['ImageRollout', 'spec', 'ImageRolloutSpec'],
    ['ImageRollout', 'status', 'ImageRolloutStatus'],
    ['NotificationChannel', 'spec', 'NotificationChannelSpec'],
    ['NotificationChannel', 'status', 'NotificationChannelStatus'],
    ['FleetFreeze', 'spec', 'FleetFreezeSpec'],
    ['FleetFreeze', 'status', 'FleetFreezeStatus'],
  ] as const)('matches the %s CRD %s schema (%s)', (kind, part, typeName) => {
    const schema = crdOf(kind).schema.properties?.[part];
    expect(schema).toBeDefined();
    expect(typeShape(declaredType(typeName))).toEqual(schemaShape(schema ?? {}));
  });

  it.each(['ImagePolicy', 'ImageRollout', 'NotificationChannel', 'FleetFreeze'] as const)(
    'requires the same top-level fields as the %s CRD',
    (kind) => {
      const resource = typeShape(declaredType(kind));
      const required =
        resource.kind === 'object'
          ? Object.keys(resource.fields).filter((name) => resource.fields[name]?.required)
          : [];
      expect(required.filter((name) => name === 'spec' || name === 'status')).toEqual(
        crdOf(kind).schema.required,
      );
    },
  );

  it('describes in the CRD the batches the planner uses for an unset strategy.batches', () => {
    const description =
      crdOf('ImagePolicy').schema.properties?.spec?.properties?.strategy?.properties?.batches
        ?.description;
    expect(description).toContain(
      `Unset means [${ROLLOUT_DEFAULTS.batches.join(', ')}] for Staged`,
    );
  });
});
