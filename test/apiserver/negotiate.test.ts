import { describe, expect, it } from 'vitest';
import {
  aggregatedDiscoveryVersion,
  chooseRepresentation,
} from '../../src/apiserver/http/negotiate.js';
import { humanDuration } from '../../src/apiserver/schema/index.js';
import { timestampSince } from '../../src/apiserver/table.js';

describe('content negotiation', () => {
  it.each([
    [undefined, 'object'],
    ['application/json', 'object'],
    ['application/json;as=Table;v=v1;g=meta.k8s.io,application/json', 'table'],
    ['application/json;as=Table;v=v1beta1;g=meta.k8s.io', 'table'],
    ['application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', 'metadata'],
    ['application/vnd.kubernetes.protobuf,application/json', 'object'],
    ['application/json;as=Table;v=v2;g=meta.k8s.io', undefined],
    ['application/vnd.kubernetes.protobuf', undefined],
  ])('%s → %s', (accept, kind) => {
    expect(chooseRepresentation(accept)?.kind).toBe(kind);
  });

  it.each([
    ['application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json', 'v2'],
    ['application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList', 'v2beta1'],
    ['application/json', undefined],
    [undefined, undefined],
  ])('discovery for %s → %s', (accept, version) => {
    expect(aggregatedDiscoveryVersion(accept)).toBe(version);
  });
});

describe('ages', () => {
  const now = new Date('2025-01-10T00:00:00Z');
  it.each([
    ['2025-01-09T23:59:30Z', '30s'],
    ['2025-01-09T23:55:00Z', '5m'],
    ['2025-01-09T20:30:00Z', '3h30m'],
    [undefined, '<unknown>'],
    ['yesterday', '<invalid>'],
  ])('%s → %s', (value, age) => {
    expect(timestampSince(value, now)).toBe(age);
  });

  it('uses the upstream duration format', () => {
    expect(humanDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d4h');
  });
});
