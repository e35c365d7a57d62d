// Fires a callback at each firing time of a cron schedule, as a croner job would, from the
// parsed pattern that common/schedule.ts shares among all configurations of that schedule: a
// croner job per configuration kept its own parsed pattern (about 80 KiB: croner's table of
// 10,000 years), 148 MiB of the controller's heap at 2,000 configurations. A job holds one timer
// and its next firing time. Like croner: a timer waits at most MAX_TIMER_DELAY_MS and checks
// the clock again (a long wait survives clock changes and timer drift); a firing noticed late
// fires once, and the next is the first firing time after it (runs missed meanwhile are not
// made up here: the scheduler's catch-up and take-over decide those).
import { nextRunTimes } from '../common/schedule.ts';
import type { ScheduleSpec } from '../common/schedule.ts';

/** As croner's longest timer. */
export const MAX_TIMER_DELAY_MS = 30_000;

/** The clock and timers a job uses (tests pass their own). */
export interface TimerApi {
  now(): number;
  set(fn: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: TimerApi = {
  now: () => Date.now(),
  set: (fn, delayMs) => setTimeout(fn, delayMs),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class ScheduleTimer {
  readonly #spec: ScheduleSpec;
  readonly #onFire: (firedAtMs: number) => void;
  readonly #timers: TimerApi;
  #handle: unknown;
  #nextMs: number | undefined;
  #stopped = false;

  /** Throws as croner does when the schedule cannot be parsed. onFire is told the clock's time when the firing was noticed. */
  constructor(spec: ScheduleSpec, onFire: (firedAtMs: number) => void, timers: TimerApi = REAL_TIMERS) {
    this.#spec = { schedule: spec.schedule, ...(spec.timezone === undefined ? {} : { timezone: spec.timezone }) };
    this.#onFire = onFire;
    this.#timers = timers;
    this.#arm(timers.now());
  }

  /** The next firing time; null when the schedule has none left, or once stopped. */
  nextRun(): Date | null {
    return this.#stopped || this.#nextMs === undefined ? null : new Date(this.#nextMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#handle !== undefined) this.#timers.clear(this.#handle);
    this.#handle = undefined;
  }

  #arm(fromMs: number): void {
    this.#nextMs = nextRunTimes(this.#spec, fromMs, 1)[0]?.getTime();
    if (this.#nextMs !== undefined) this.#wait();
  }

  #wait(): void {
    const delayMs = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, this.#nextMs! - this.#timers.now()));
    this.#handle = this.#timers.set(() => this.#check(), delayMs);
  }

  #check(): void {
    this.#handle = undefined;
    if (this.#stopped) return;
    const nowMs = this.#timers.now();
    if (nowMs < this.#nextMs!) {
      this.#wait();
      return;
    }
    try {
      this.#onFire(nowMs);
    } finally {
      if (!this.#stopped) this.#arm(nowMs);
    }
  }
}
