// Session timeouts: bounded at validation, and checked again when a session starts (a resource
// stored before the bound existed must fail its own session, not the agent's poll).
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { parseDurationMs } from '../../common/duration.ts';

/** The longest `timeout` a BackupConfiguration or RestoreSession may set: 7 days. */
export const MAX_SESSION_TIMEOUT_MS = 7 * 24 * 3_600_000;

/** Why a timeout is refused, or undefined when it is fine (the schema checks the syntax). */
export function timeoutProblem(text: string): string | undefined {
  const ms = parseDurationMs(text);
  if (ms === undefined) return undefined;
  if (ms < 1000) return 'must be at least 1s';
  if (ms > MAX_SESSION_TIMEOUT_MS) return 'must be at most 168h (7 days)';
  return undefined;
}

/**
 * The session's deadline (epoch ms), undefined without timeout. A timeout longer than the bound
 * (stored before apply refused it) is cut to the bound, so that such a configuration still backs
 * up; one that is not a duration, or under 1s, is INVALID_CONFIG (that session fails alone).
 */
export function sessionDeadlineMs(timeout: string | undefined, startedMs: number, owner: string): number | undefined {
  if (timeout === undefined) return undefined;
  const ms = typeof timeout === 'string' ? parseDurationMs(timeout) : undefined;
  const problem = typeof timeout !== 'string' ? 'must be a string' : ms === undefined ? 'is not a duration like 30m or 2h' : ms < 1000 ? 'must be at least 1s' : undefined;
  if (problem || ms === undefined) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${owner}: spec.timeout ${JSON.stringify(timeout)} ${problem}`);
  return startedMs + Math.min(ms, MAX_SESSION_TIMEOUT_MS);
}
