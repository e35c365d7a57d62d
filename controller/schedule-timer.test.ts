import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { collectGarbage } from '../common/gc-on-demand.ts';
import { parsedScheduleCount } from '../common/schedule.ts';
import { MAX_TIMER_DELAY_MS, ScheduleTimer } from './schedule-timer.ts';
import type { TimerApi } from './schedule-timer.ts';

/** A clock and timers that move only when told to. */
class FakeTimers implements TimerApi {
  nowMs: number;
  readonly pending = new Map<number, { atMs: number; fn: () => void }>();
  readonly delays: number[] = [];
  #id = 0;
  constructor(startIso: string) {
    this.nowMs = Date.parse(startIso);
  }
  now(): number {
    return this.nowMs;
  }
  set(fn: () => void, delayMs: number): unknown {
    this.delays.push(delayMs);
    const id = ++this.#id;
    this.pending.set(id, { atMs: this.nowMs + delayMs - (delayMs > this.earlyMs ? this.earlyMs : 0), fn });
    return id;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Timers of more than this many ms run this much early (Node's timers round to the ms, Date.now() does not). */
  earlyMs = 0;
  /** Moves the clock to `iso`, running each timer due on the way at its time (late by `lateMs`). */
  advanceTo(iso: string, lateMs = 0): void {
    const endMs = Date.parse(iso);
    for (;;) {
      const due = [...this.pending].filter(([, t]) => t.atMs <= endMs).sort((a, b) => a[1].atMs - b[1].atMs)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.nowMs = Math.min(endMs, due[1].atMs + lateMs);
      due[1].fn();
    }
    this.nowMs = endMs;
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('ScheduleTimer', () => {
  it('fires at each firing time, waiting at most 30 s a timer, and tells the next', () => {
    const t = new FakeTimers('2026-06-01T10:00:30Z');
    const fired: string[] = [];
    const job = new ScheduleTimer({ schedule: '* * * * *' }, () => fired.push(iso(t.now())), t);
    assert.equal(job.nextRun()?.toISOString(), '2026-06-01T10:01:00.000Z');
    t.advanceTo('2026-06-01T10:03:10Z');
    assert.deepEqual(fired, ['2026-06-01T10:01:00.000Z', '2026-06-01T10:02:00.000Z', '2026-06-01T10:03:00.000Z']);
    assert.equal(job.nextRun()?.toISOString(), '2026-06-01T10:04:00.000Z');
    assert.ok(t.delays.every((d) => d <= MAX_TIMER_DELAY_MS && d >= 0), String(t.delays));
  });

  it('waits a day in steps and fires once, in the schedule\'s zone', () => {
    const t = new FakeTimers('2026-06-01T12:00:00Z');
    const fired: string[] = [];
    new ScheduleTimer({ schedule: '30 2 * * *', timezone: 'Europe/Berlin' }, () => fired.push(iso(t.now())), t);
    t.advanceTo('2026-06-02T12:00:00Z');
    assert.deepEqual(fired, ['2026-06-02T00:30:00.000Z']);
    assert.ok(t.delays.length >= (14.5 * 3600_000) / MAX_TIMER_DELAY_MS, 'a timer at most every 30 s');
  });

  it('fires once for a firing noticed late (runs missed meanwhile are not made up), then at the next time after it', () => {
    const t = new FakeTimers('2026-06-01T10:00:30Z');
    const fired: string[] = [];
    const job = new ScheduleTimer({ schedule: '* * * * *' }, () => fired.push(iso(t.now())), t);
    // The event loop was held for 3.5 minutes: the timer due at 10:01:00 runs at 10:04:30.
    t.advanceTo('2026-06-01T10:04:30Z', 210_000);
    assert.deepEqual(fired, ['2026-06-01T10:04:30.000Z']);
    assert.equal(job.nextRun()?.toISOString(), '2026-06-01T10:05:00.000Z');
  });

  it('never fires before the scheduled millisecond when a timer runs early, and fires then, once', () => {
    const t = new FakeTimers('2026-06-01T10:00:30Z');
    t.earlyMs = 1;
    const fired: string[] = [];
    const job = new ScheduleTimer({ schedule: '* * * * *' }, () => fired.push(iso(t.now())), t);
    t.advanceTo('2026-06-01T10:02:30Z');
    // 10:00:59.999 fired would be named after 10:00:00 (scheduledRunAt: the latest time not after it),
    // a run already made: the 10:01 run would be lost.
    assert.deepEqual(fired, ['2026-06-01T10:01:00.000Z', '2026-06-01T10:02:00.000Z']);
    assert.equal(job.nextRun()?.toISOString(), '2026-06-01T10:03:00.000Z');
  });

  it('keeps its schedule when a firing throws', () => {
    const t = new FakeTimers('2026-06-01T10:00:30Z');
    const fired: string[] = [];
    const job = new ScheduleTimer({ schedule: '* * * * *' }, () => {
      fired.push(iso(t.now()));
      if (fired.length === 1) throw new Error('first firing fails');
    }, t);
    assert.throws(() => t.advanceTo('2026-06-01T10:01:30Z'), /first firing fails/);
    assert.equal(job.nextRun()?.toISOString(), '2026-06-01T10:02:00.000Z');
    t.advanceTo('2026-06-01T10:02:30Z');
    assert.deepEqual(fired, ['2026-06-01T10:01:00.000Z', '2026-06-01T10:02:00.000Z']);
  });

  it('never fires once stopped, in or before a firing', () => {
    const t = new FakeTimers('2026-06-01T10:00:30Z');
    let fired = 0;
    const job = new ScheduleTimer({ schedule: '* * * * *' }, () => fired++, t);
    job.stop();
    assert.equal(t.pending.size, 0);
    assert.equal(job.nextRun(), null);
    t.advanceTo('2026-06-01T10:10:00Z');
    assert.equal(fired, 0);
    const self: { job?: ScheduleTimer } = {};
    self.job = new ScheduleTimer({ schedule: '* * * * *' }, () => (fired++, self.job!.stop()), t);
    t.advanceTo('2026-06-01T10:20:00Z');
    assert.equal(fired, 1);
    assert.equal(t.pending.size, 0);
  });

  it('refuses a schedule croner cannot read', () => {
    assert.throws(() => new ScheduleTimer({ schedule: '61 * * * *' }, () => {}, new FakeTimers('2026-06-01T10:00:00Z')));
  });

  it("2,000 jobs on one schedule share its parsed pattern: the heap grows by well under a croner job's 80 KiB each", () => {
    const t = new FakeTimers('2026-06-01T10:00:30Z');
    const schedule = { schedule: '17 3 * * *', timezone: 'Asia/Tokyo' };
    new ScheduleTimer(schedule, () => {}, t).stop();
    const parsed = parsedScheduleCount();
    collectGarbage('major');
    const before = getHeapStatistics().used_heap_size;
    const jobs = Array.from({ length: 2000 }, () => new ScheduleTimer(schedule, () => {}, t));
    collectGarbage('major');
    const grownBytes = getHeapStatistics().used_heap_size - before;
    assert.equal(parsedScheduleCount(), parsed);
    assert.ok(grownBytes < 2000 * 8 * 1024, `heap grew ${(grownBytes / 2 ** 20).toFixed(1)} MiB`);
    for (const j of jobs) j.stop();
  });
});
