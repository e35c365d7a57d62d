// The agent's calls that recur every heartbeat interval (its binlog-archive sync, its heartbeat),
// made one after the other: at the same instant, beside the long poll that holds a connection,
// they needed a connection each (3 per agent at once, every 20 s, across a fleet); one after the
// other they share one kept connection. Each step handles its own failures: one step's failure
// does not keep the next from running.
//
// A slow controller: each step is serial with itself only. A tick while a step still runs makes
// that step run once more right after it (never twice at once, never a lost one), and a beat
// whose next step still runs from an earlier beat leaves it due the same way; so a slow or
// hanging call (up to the client's 30 s timeout) holds back only its own step: the next sync,
// which renews the binlog archives' leases (a lease is 3 heartbeat intervals, counted from the
// sync's sending), is sent at its interval even while the last heartbeat waits for its answer.
// Then, and only then, two calls run at once.
import { setImmediate } from 'node:timers/promises';

export type BeatStep = () => Promise<void>;

export class SerialBeat {
  readonly #steps: readonly BeatStep[];
  /** The run of each step in progress. */
  readonly #running: (Promise<void> | undefined)[];
  /** Each step: asked for again while it ran. */
  readonly #due: boolean[];
  #stopped = false;

  constructor(steps: readonly BeatStep[]) {
    this.#steps = steps;
    this.#running = steps.map(() => undefined);
    this.#due = steps.map(() => false);
  }

  /** Runs the steps in order now; a step still running from an earlier beat runs again right after it. */
  tick(): void {
    this.#run(0);
  }

  /** No step starts from now on (the agent stops); a running one ends as it will (idle()). */
  stop(): void {
    this.#stopped = true;
    this.#due.fill(false);
  }

  /** Resolves when no step is running or due. */
  async idle(): Promise<void> {
    for (let busy = this.#busy(); busy.length > 0; busy = this.#busy()) await Promise.all(busy);
  }

  #busy(): Promise<void>[] {
    return this.#running.filter((p): p is Promise<void> => p !== undefined);
  }

  #run(i: number): void {
    if (this.#stopped || i >= this.#steps.length) return;
    if (this.#running[i]) {
      this.#due[i] = true;
      return;
    }
    this.#running[i] = this.#step(i).finally(() => {
      this.#running[i] = undefined;
      this.#run(i + 1);
      if (this.#due[i]) {
        this.#due[i] = false;
        this.#run(i);
      }
    });
  }

  async #step(i: number): Promise<void> {
    // The runtime's fetch returns a kept connection to its pool a turn of the event loop after
    // the response was read: a call made at once opens another connection (and keeps it).
    await setImmediate();
    if (this.#stopped) return;
    try {
      await this.#steps[i]!();
    } catch {
      // A step handles (logs) its own failures; one that throws still lets the next run.
    }
  }
}
