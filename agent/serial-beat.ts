// The agent's calls that recur every heartbeat interval (its binlog-archive sync, its heartbeat),
// made one after the other: at the same instant, beside the long poll that holds a connection,
// they needed a connection each (3 per agent at once, every 20 s, across a fleet); one after the
// other they share one kept connection. A tick while a beat still runs (a slow controller) makes
// one more beat right after it, never a second beat at once and never a lost one. Each step
// handles its own failures: one step's failure does not keep the next from running.
import { setImmediate } from 'node:timers/promises';

export type BeatStep = () => Promise<void>;

export class SerialBeat {
  readonly #steps: readonly BeatStep[];
  #running: Promise<void> | undefined;
  #due = false;

  constructor(steps: readonly BeatStep[]) {
    this.#steps = steps;
  }

  /** Runs the steps in order now, or right after the beat in progress. */
  tick(): void {
    if (this.#running) {
      this.#due = true;
      return;
    }
    this.#running = this.#beat().finally(() => {
      this.#running = undefined;
      if (this.#due) {
        this.#due = false;
        this.tick();
      }
    });
  }

  /** Resolves when no beat is running or due. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #beat(): Promise<void> {
    for (const step of this.#steps) {
      // The runtime's fetch returns a kept connection to its pool a turn of the event loop after
      // the response was read: a call made at once opens another connection (and keeps it).
      await setImmediate();
      try {
        await step();
      } catch {
        // A step handles (logs) its own failures; one that throws still lets the next run.
      }
    }
  }
}
