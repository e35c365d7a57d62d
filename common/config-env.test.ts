import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvReader } from './config-env.ts';
import { MAX_TIMER_MS, parseDurationMs } from './duration.ts';

describe('durations from the environment', () => {
  const table: [string, number | undefined][] = [
    ['30s', 30_000],
    ['24h', 86_400_000],
    ['596h', 596 * 3_600_000],
    // Past what a timer can wait (2^31-1 ms, ~24.8 days): setTimeout would fire at once.
    ['597h', undefined],
    ['2147483648ms', undefined],
    ['99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999h', undefined],
    ['0s', undefined],
  ];
  for (const [text, want] of table) {
    it(text.slice(0, 20), () => {
      const r = new EnvReader({ X: text });
      const ms = r.durationMs('X', '5s');
      if (want === undefined) {
        assert.equal(r.problems.length, 1, `${text} is refused`);
        assert.equal(ms, 5000, 'the fallback is used');
      } else {
        assert.deepEqual(r.problems, []);
        assert.equal(ms, want);
      }
      assert.ok(ms <= MAX_TIMER_MS);
    });
  }

  it('a duration too large for a number is not a duration', () => {
    assert.equal(parseDurationMs(`${'9'.repeat(400)}h`), undefined);
  });
});
