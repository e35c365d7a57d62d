// Waits `ms`, or less when `signal` aborts; never rejects: common/backend/retry.ts's sleep (which
// removes its abort listener when the wait ends either way: loops that wait for as long as the
// agent runs would otherwise pile one up per wait), with the abort taken as the end of the wait.
import { sleep as abortableSleep } from '../../common/backend/retry.ts';

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return abortableSleep(ms, signal).catch(() => {});
}
