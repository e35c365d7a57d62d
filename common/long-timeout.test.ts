import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TIMER_MS } from './duration.ts';
import { setLongTimeout } from './long-timeout.ts';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('long timeouts', () => {
  it('a delay beyond the timer range does not fire at once (a plain setTimeout does)', async () => {
    let plain = false;
    let long = false;
    const p = setTimeout(() => (plain = true), MAX_TIMER_MS + 1);
    const t = setLongTimeout(() => (long = true), 30 * 24 * 3_600_000);
    await tick(50);
    clearTimeout(p);
    t.clear();
    assert.equal(plain, true, 'control: the runtime fires an overflowing timer at once');
    assert.equal(long, false);
  });

  it('fires after an ordinary delay, and at once for a past or invalid one', async () => {
    const started = Date.now();
    const fired = await new Promise<number>((resolve) => setLongTimeout(() => resolve(Date.now()), 30));
    assert.ok(fired - started >= 29, `${fired - started} ms`);
    await new Promise<void>((resolve) => setLongTimeout(resolve, -5));
    await new Promise<void>((resolve) => setLongTimeout(resolve, Number.NaN));
  });
});
