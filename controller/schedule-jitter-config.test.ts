// SIDESTASH_SCHEDULE_JITTER: a duration, `0s` turning the jitter off (README: "0s: on the dot"),
// at most the longest timer; anything else refused with the variable's name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseControllerConfig } from './config.ts';

const base = { SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789abcdef', SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_DB: '/tmp/sidestash-config-test.db' };

describe('SIDESTASH_SCHEDULE_JITTER', () => {
  for (const [value, ms] of [[undefined, 30_000], ['0s', 0], ['5s', 5_000], ['2m', 120_000]] as const) {
    it(`${JSON.stringify(value)} -> ${ms} ms`, () => {
      const c = parseControllerConfig({ ...base, ...(value === undefined ? {} : { SIDESTASH_SCHEDULE_JITTER: value }) });
      assert.equal(c.scheduleJitterMs, ms);
    });
  }
  for (const value of ['-1s', 'soon', '30 days']) {
    it(`refuses ${value}`, () => assert.throws(() => parseControllerConfig({ ...base, SIDESTASH_SCHEDULE_JITTER: value }), /SIDESTASH_SCHEDULE_JITTER/));
  }
});
