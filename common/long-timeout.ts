// setTimeout for delays of any length: Node and Deno fire a timer of more than 2^31-1 ms at
// once (Node with a warning), so a long delay is waited for in steps.
import { MAX_TIMER_MS } from './duration.ts';

export interface LongTimeout {
  clear(): void;
}

/** Calls `fn` after `delayMs` (0 when not a finite positive number), however long that is. */
export function setLongTimeout(fn: () => void, delayMs: number, now: () => number = Date.now): LongTimeout {
  const due = now() + (Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0);
  let timer: ReturnType<typeof setTimeout>;
  const arm = (): void => {
    const left = due - now();
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, left));
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}
