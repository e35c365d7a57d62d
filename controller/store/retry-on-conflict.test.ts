import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { retryOnConflict } from './retry-on-conflict.ts';

const stale = (): SidestashError => new SidestashError(ErrorCodes.CONFLICT, 'changed meanwhile', { retryable: true });

describe('retryOnConflict', () => {
  it('tries again after a stale version, up to `attempts` times, then throws the last one', async () => {
    let calls = 0;
    assert.equal(await retryOnConflict(async () => (++calls < 3 ? Promise.reject(stale()) : 'done'), { attempts: 3 }), 'done');
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(retryOnConflict(async () => { calls++; throw stale(); }, { attempts: 4 }), (err) => err instanceof SidestashError && err.retryable);
    assert.equal(calls, 4);
  });

  it('does not retry an answer: a CONFLICT that is not retryable, or any other error', async () => {
    for (const err of [new SidestashError(ErrorCodes.CONFLICT, 'name taken'), new SidestashError(ErrorCodes.NOT_FOUND, 'gone', { retryable: true }), new Error('boom')]) {
      let calls = 0;
      await assert.rejects(retryOnConflict(async () => { calls++; throw err; }), (e) => e === err);
      assert.equal(calls, 1, String(err));
    }
  });
});
