// The CLI's exit status, decided in this one place from the error's code (never its text):
//   0 success, 1 failure, 2 usage error (SIDESTASH_INVALID_ARGUMENT), 130 interrupted (SIGINT,
//   128+2 as a shell reports it; 143 for SIGTERM);
//   and restic's codes for `sidestash repo`: 10 repository does not exist, 11 failed to lock,
//   12 wrong password (restic >= 0.17, cmd/restic/main.go).
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import type { ErrorCode } from '../common/errors.ts';

export const ExitCodes = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  REPOSITORY_DOES_NOT_EXIST: 10,
  LOCK_FAILED: 11,
  WRONG_PASSWORD: 12,
  INTERRUPTED: 130,
  TERMINATED: 143,
} as const;

const REPO_EXIT: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.NOT_A_REPOSITORY]: ExitCodes.REPOSITORY_DOES_NOT_EXIST,
  [ErrorCodes.REPOSITORY_LOCKED]: ExitCodes.LOCK_FAILED,
  [ErrorCodes.WRONG_PASSWORD]: ExitCodes.WRONG_PASSWORD,
};

export interface ExitContext {
  /** The command was `sidestash repo ...` (restic's codes apply). */
  repoCommand: boolean;
  /** The signal that arrived before the error, if any. */
  interrupted?: 'SIGINT' | 'SIGTERM' | undefined;
}

export function exitCodeFor(err: unknown, ctx: ExitContext): number {
  // An interrupted command fails with whatever the abort caused (ABORTED, a closed stream, ...).
  if (ctx.interrupted === 'SIGTERM') return ExitCodes.TERMINATED;
  if (ctx.interrupted || isSidestashError(err, ErrorCodes.ABORTED)) return ExitCodes.INTERRUPTED;
  if (!isSidestashError(err)) return ExitCodes.FAILURE;
  if (err.code === ErrorCodes.INVALID_ARGUMENT) return ExitCodes.USAGE;
  if (ctx.repoCommand) return REPO_EXIT[err.code] ?? ExitCodes.FAILURE;
  return ExitCodes.FAILURE;
}
