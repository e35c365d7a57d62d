// A session the controller assigns while the agent's one-session lock is held waits for it: an
// offline backup runs (the long poll that brought the session was sent before that backup
// began), for as long as the backup takes. Meanwhile the claim is kept as a running session's
// is, by progress reports, which renew its lease: the controller would otherwise declare it lost
// (AGENT_LOST) after one lease, and the agent would run afterwards a session already failed (a
// restore overwriting a database after the operator was told it failed). After such a wait the
// agent asks once more before it starts: a claim the controller cancelled, ended or cannot
// confirm now is not started.
import type { AsyncMutex } from '../../common/async-mutex.ts';
import type { ProgressResponse } from '../../common/protocol.ts';

/** ok: start it; cancelled: the controller asked to stop it; lost: it is no longer this agent's, or that cannot be confirmed. */
export type Claim = { state: 'ok' } | { state: 'cancelled' } | { state: 'lost'; err: unknown };

/**
 * Runs `run` under `lock`; while the lock is awaited, `keep` (a progress report of the claimed
 * session) is called every `intervalMs`, and once more, awaited, when the lock comes after a wait.
 */
export async function runWhenFree(lock: AsyncMutex, keep: () => Promise<ProgressResponse>, intervalMs: number, run: (claim: Claim) => Promise<void>): Promise<void> {
  let waited = false;
  const timer = setInterval(() => {
    waited = true;
    keep().catch(() => {});
  }, intervalMs);
  try {
    await lock.run(async () => {
      clearInterval(timer);
      let claim: Claim = { state: 'ok' };
      if (waited) {
        try {
          if ((await keep()).cancel) claim = { state: 'cancelled' };
        } catch (err) {
          claim = { state: 'lost', err };
        }
      }
      await run(claim);
    });
  } finally {
    clearInterval(timer);
  }
}
