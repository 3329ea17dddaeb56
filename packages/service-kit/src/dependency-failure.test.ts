import { describe, expect, it } from 'vitest';
import { isConcurrencyRollback, isDependencyUnavailable } from './dependency-failure.ts';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });
/** An error reply as ioredis gives it (`ReplyError`, the reply's text as its message). */
const replyError = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('isDependencyUnavailable', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['an unknown host', withCode('ENOTFOUND')],
    ['a Postgres connection exception', withCode('08006')],
    ['an operator shutting Postgres down', withCode('57P01')],
    ['Postgres still starting', withCode('57P03')],
    ['every Postgres connection slot taken', withCode('53300')],
    ['pg losing its server', new Error('Connection terminated unexpectedly')],
    ['pg-pool waiting too long to connect', new Error('timeout exceeded when trying to connect')],
    ['ioredis getting no answer', new Error('Command timed out')],
    ['ioredis without a connection', new Error('Connection is closed.')],
    [
      'ioredis giving up',
      Object.assign(new Error('Reached the max retries'), { name: 'MaxRetriesPerRequestError' }),
    ],
    ['Redis out of memory', replyError("OOM command not allowed when used memory > 'maxmemory'.")],
    [
      'a demoted Redis primary',
      replyError("READONLY You can't write against a read only replica."),
    ],
    ['Redis loading its data', replyError('LOADING Redis is loading the dataset in memory')],
    ['a wrapped cause', new Error('booking failed', { cause: withCode('ECONNREFUSED') })],
    [
      'every address refused',
      new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]),
    ],
  ])('is true for %s', (_what, error) => {
    expect(isDependencyUnavailable(error)).toBe(true);
  });

  it.each([
    ['a plain bug', new TypeError('x is undefined')],
    ['a unique violation', withCode('23505')],
    ['a serialization failure', withCode('40001')],
    ['a Redis script error', new Error('ERR Error running script')],
    ['a Redis refusal of the command itself', replyError('WRONGTYPE Operation against a key')],
    ['a message that only starts like a Redis refusal', new Error('OOM in the parser')],
    ['no error at all', 'ECONNREFUSED'],
    [
      'an aggregate with one bug among refusals',
      new AggregateError([withCode('ECONNREFUSED'), new TypeError('bug')]),
    ],
    ['an empty aggregate', new AggregateError([])],
  ])('is false for %s', (_what, error) => {
    expect(isDependencyUnavailable(error)).toBe(false);
  });

  it('stops following a cycle of causes', () => {
    const error = new Error('loop');
    (error as { cause?: unknown }).cause = error;
    expect(isDependencyUnavailable(error)).toBe(false);
  });
});

describe('isConcurrencyRollback', () => {
  it.each([
    ['a serialization failure', withCode('40001')],
    ['a deadlock Postgres ended on this side', withCode('40P01')],
    ['a wrapped one', new Error('cancel failed', { cause: withCode('40P01') })],
  ])('is true for %s', (_what, error) => {
    expect(isConcurrencyRollback(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['a connection exception', withCode('08006')],
    ['a plain bug', new TypeError('x is undefined')],
  ])('is false for %s', (_what, error) => {
    expect(isConcurrencyRollback(error)).toBe(false);
  });
});
