// Waits `ms`, or less when `signal` aborts; never rejects. The abort listener is removed when the
// wait ends either way: loops that wait for as long as the agent runs (the autonomy loop once a
// second, polling retries through a long outage) would otherwise pile one up per wait.
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
