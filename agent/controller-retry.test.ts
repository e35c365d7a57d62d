import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { retryPlan } from './controller-retry.ts';

const unreachable = (cause: string): SidestashError => new SidestashError(ErrorCodes.CONTROLLER_UNAVAILABLE, 'x', { retryable: true, details: { cause } });

describe('retryPlan', () => {
  it('a refused token is an error backing off from 5 s to 5 minutes', () => {
    const denied = new SidestashError(ErrorCodes.UNAUTHORIZED, 'x');
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => retryPlan(denied, n).delayMs), [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    assert.equal(retryPlan(denied, 1).level, 'error');
    assert.match(retryPlan(denied, 1).hint!, /SIDESTASH_AGENT_BOOTSTRAP_TOKEN/);
    const forbidden = retryPlan(new SidestashError(ErrorCodes.FORBIDDEN, 'x'), 3);
    assert.deepEqual([forbidden.level, forbidden.delayMs], ['error', 20_000]);
    assert.match(forbidden.hint!, /namespace or targets/);
  });

  it('an unreachable controller is a warning backing off from 1 s to 30 s; TLS is an error', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 100].map((n) => retryPlan(unreachable('refused'), n).delayMs), [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    const table: [string, 'warn' | 'error', RegExp | undefined][] = [
      ['refused', 'warn', /running and listening/],
      ['dns', 'warn', /host name in SIDESTASH_CONTROLLER_URL/],
      ['timeout', 'warn', /did not answer in time/],
      ['tls', 'error', /SIDESTASH_CONTROLLER_CA_FILE/],
      ['other', 'warn', undefined],
    ];
    for (const [cause, level, hint] of table) {
      const plan = retryPlan(unreachable(cause), 1);
      assert.equal(plan.level, level, cause);
      if (hint) assert.match(plan.hint ?? '', hint, cause);
      else assert.equal(plan.hint, undefined, cause);
    }
    // A 5xx answer: a warning on the same schedule.
    assert.deepEqual(retryPlan(new SidestashError(ErrorCodes.CONTROLLER_UNAVAILABLE, 'answered 503', { retryable: true }), 2), { level: 'warn', delayMs: 2_000 });
  });

  it('a replica that does not lead: again each second, said once per streak (info), then debug', () => {
    const notLeader = new SidestashError(ErrorCodes.NOT_LEADER, 'x', { retryable: true });
    assert.deepEqual([1, 2, 10].map((n) => [retryPlan(notLeader, n).level, retryPlan(notLeader, n).delayMs]), [['info', 1_000], ['debug', 1_000], ['debug', 1_000]]);
  });
});
