import { describe, expect, it } from 'vitest';
import { isConnectionError } from '../../src/db/connection-errors.js';

const coded = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isConnectionError', () => {
  it.each([
    [
      'admin shutdown (57P01)',
      coded('57P01', 'terminating connection due to administrator command'),
    ],
    ['crash shutdown (57P02)', coded('57P02')],
    ['cannot connect now (57P03)', coded('57P03', 'the database system is starting up')],
    ['connection exception (08006)', coded('08006')],
    ['connection does not exist (08003)', coded('08003')],
    ['refused', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['reset', coded('ECONNRESET', 'read ECONNRESET')],
    ['terminated', new Error('Connection terminated unexpectedly')],
    ['dead client', new Error('Client has encountered a connection error and is not queryable')],
    ['pool timeout', new Error('timeout exceeded when trying to connect')],
    ['wrapped by drizzle', new Error('Failed query: select 1', { cause: coded('57P01') })],
    ['refused on every address', new AggregateError([coded('ECONNREFUSED')], 'connect failed')],
  ])('%s is a connection error', (_case, error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  it.each([
    ['unique violation (23505)', coded('23505', 'duplicate key value')],
    ['syntax error (42601)', coded('42601')],
    ['serialization failure (40001)', coded('40001')],
    ['a plain bug', new TypeError('cannot read properties of undefined')],
    ['wrapping a bug', new Error('write target state', { cause: new RangeError('bad') })],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('%s is not', (_case, error) => {
    expect(isConnectionError(error)).toBe(false);
  });
});
