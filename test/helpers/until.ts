// Polls `probe` every `intervalMs` until it returns a value (not undefined) and returns it; fails
// naming `what` after `timeoutMs` (a bound, never a duration under test). A probe that throws
// fails at once (test/helpers/scenario.ts's waitFor is the variant that retries through errors).
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
