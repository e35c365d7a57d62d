// The loop yielder: when it yields (a table), and that a loop using it lets I/O and timers run
// in between (one without it would not: the check below fails when pause() does nothing).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dueToYield, loopYielder } from './loop-yield.ts';

describe('loopYielder', () => {
  const table: [number, number, number, boolean][] = [
    [0, 5, 20, false],
    [0, 20, 20, true],
    [100, 150, 20, true],
    [100, 50, 20, true], // the clock went back: yield, and count again from there
  ];
  for (const [last, now, slice, want] of table) it(`last ${last}, now ${now}, slice ${slice}: ${want ? 'yields' : 'goes on'}`, () => assert.equal(dueToYield(last, now, slice), want));

  it('a long loop lets a ready timer run before it ends; a short one is not slowed by yielding each turn', async () => {
    let clock = 0;
    const pause = loopYielder(20, () => clock);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    // The timer is due from here on, in real time too (Deno clamps a 0 ms timer to 1 ms; the
    // loop below takes microseconds).
    const dueAt = performance.now() + 5;
    while (performance.now() < dueAt);
    let ranBeforeEnd = false;
    for (let i = 0; i < 100; i++) {
      clock += 1; // 1 "ms" of work per item: yields every 20
      await pause();
      if (timerRan) ranBeforeEnd = true;
    }
    assert.equal(ranBeforeEnd, true, 'the timer ran while the loop was still going');
    let yields = 0;
    const counting = loopYielder(20, () => clock);
    const realImmediate = globalThis.setImmediate;
    globalThis.setImmediate = ((fn: () => void) => (yields++, realImmediate(fn))) as typeof setImmediate;
    try {
      for (let i = 0; i < 5; i++) await counting(); // no time passes: no yield
      clock += 25;
      await counting();
    } finally {
      globalThis.setImmediate = realImmediate;
    }
    assert.equal(yields, 1);
  });
});
