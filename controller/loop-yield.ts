// Long loops over the store give the event loop back now and then. The sqlite store answers its
// async calls at once, so `await store.get()` continues in a microtask and a loop over 2,000
// configurations (the scheduler's resync after an apply, one status write each) or over every
// session (the sweeps) ran as one block of 10-40 s: no connection was accepted, no agent answered
// (at 2,000 agents the fleet benchmark's applies timed out connecting). A yielder made per loop
// lets the loop run for at most sliceMs at a time, then waits for one turn of the event loop
// (setImmediate: after the I/O that is ready), so the loop takes a little longer and nothing waits
// behind it for more than a slice.

/** Default slice: long enough that yielding costs nothing measurable, short enough for agents' p99. */
export const LOOP_SLICE_MS = 20;

/** Whether a loop that last yielded at `lastYieldMs` should yield at `nowMs`. */
export function dueToYield(lastYieldMs: number, nowMs: number, sliceMs: number): boolean {
  return nowMs - lastYieldMs >= sliceMs || nowMs < lastYieldMs;
}

/** A function to await in each iteration of a long loop: it yields once sliceMs have passed since the last time. */
export function loopYielder(sliceMs = LOOP_SLICE_MS, now: () => number = () => performance.now()): () => Promise<void> {
  let last = now();
  return async () => {
    if (!dueToYield(last, now(), sliceMs)) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = now();
  };
}
