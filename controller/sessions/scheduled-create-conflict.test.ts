import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { scheduledCreateConflict } from './scheduled-create-conflict.ts';

test('a CONFLICT creating a scheduled session: a taken name is the run already created, a stale version is not', () => {
  const cases: [string, unknown, ReturnType<typeof scheduledCreateConflict>][] = [
    ['taken name (AlreadyExists)', new SidestashError(ErrorCodes.CONFLICT, 'exists', { retryable: false, details: { reason: 'AlreadyExists' } }), 'already-created'],
    ['stale resourceVersion', new SidestashError(ErrorCodes.CONFLICT, 'changed', { retryable: true, details: { reason: 'Conflict' } }), 'stale-version'],
    ['another code', new SidestashError(ErrorCodes.NOT_FOUND, 'gone'), undefined],
    ['a plain error', new Error('x'), undefined],
  ];
  for (const [name, err, expected] of cases) assert.equal(scheduledCreateConflict(err), expected, name);
});
