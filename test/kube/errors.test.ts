import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { toKubeError } from '../../src/kube/errors.js';
import {
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  isResourceVersionTooLarge,
  KubeApiError,
} from '../../src/kube/port.js';

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('toKubeError', () => {
  it.each([
    { code: 404, body: status(404, 'NotFound', 'imagerollouts "x" not found'), reason: 'NotFound' },
    {
      code: 409,
      body: status(409, 'AlreadyExists', '"x" already exists'),
      reason: 'AlreadyExists',
    },
    {
      code: 409,
      body: status(409, 'Conflict', 'the object has been modified'),
      reason: 'Conflict',
    },
    { code: 422, body: status(422, 'Invalid', 'spec.tag: Required value'), reason: 'Invalid' },
    { code: 410, body: status(410, 'Expired', 'too old resource version'), reason: 'Expired' },
    { code: 401, body: undefined, reason: 'Unauthorized' },
    { code: 503, body: 'upstream down', reason: 'ServiceUnavailable' },
    { code: 418, body: '', reason: 'Unknown' },
  ])('maps HTTP $code to reason $reason', ({ code, body, reason }) => {
    const error = toKubeError('get imagerollouts ns/x', new ApiException(code, 'msg', body, {}));
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ code, reason });
    expect(error.message).toMatch(/^get imagerollouts ns\/x: /);
    expect(error.cause).toBeInstanceOf(ApiException);
  });

  it('keeps the Status message and field causes', () => {
    const body = JSON.stringify({
      kind: 'Status',
      code: 422,
      reason: 'Invalid',
      message: 'ImageRollout "x" is invalid: spec.tag: Required value',
      details: { causes: [{ reason: 'FieldValueRequired', field: 'spec.tag' }] },
    });
    const error = toKubeError('create', new ApiException(422, 'msg', body, {})) as KubeApiError;
    expect(error.message).toBe('create: ImageRollout "x" is invalid: spec.tag: Required value');
    expect(error.status?.details?.causes?.[0]?.field).toBe('spec.tag');
  });

  it('wraps a network failure with its cause, not as an API error', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:6443');
    const error = toKubeError('list imagepolicies all namespaces', cause);
    expect(error).not.toBeInstanceOf(KubeApiError);
    expect(error.message).toBe(
      'list imagepolicies all namespaces: connect ECONNREFUSED 127.0.0.1:6443',
    );
    expect(error.cause).toBe(cause);
  });

  it.each([
    { error: new KubeApiError('x', 404, 'NotFound'), predicate: isNotFound },
    { error: new KubeApiError('x', 409, 'AlreadyExists'), predicate: isAlreadyExists },
    { error: new KubeApiError('x', 409, 'Conflict'), predicate: isConflict },
    { error: new KubeApiError('x', 410, 'Expired'), predicate: isGone },
  ])('$error.reason satisfies its predicate only', ({ error, predicate }) => {
    expect(predicate(error)).toBe(true);
    for (const other of [
      isNotFound,
      isAlreadyExists,
      isConflict,
      isGone,
      isResourceVersionTooLarge,
    ]) {
      if (other !== predicate) expect(other(error)).toBe(false);
    }
  });

  it.each([
    {
      name: 'the ResourceVersionTooLarge cause',
      status: { code: 504, details: { causes: [{ reason: 'ResourceVersionTooLarge' }] } },
      tooLarge: true,
    },
    {
      name: 'only the message',
      status: { code: 504, message: 'Timeout: Too large resource version: 9, current: 3' },
      tooLarge: true,
    },
    { name: 'no Status (a refused watch)', status: undefined, tooLarge: true },
    {
      name: 'another timeout',
      status: { code: 504, message: 'Timeout: request did not complete within 60s' },
      tooLarge: false,
    },
  ])('a 504 with $name is Too large resource version: $tooLarge', ({ status, tooLarge }) => {
    const error = new KubeApiError('x', 504, 'Timeout', status ? { status } : {});
    expect(isResourceVersionTooLarge(error)).toBe(tooLarge);
    expect(isGone(error)).toBe(false);
  });
});
