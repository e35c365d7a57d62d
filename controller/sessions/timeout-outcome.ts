// What a session that the agent stopped on request ends with. The agent reports
// SESSION_CANCELLED for any stop it was asked for; when the controller asked because the
// session's deadline (`timeout`) had passed, the session fails with SESSION_TIMEOUT, the code
// README documents for timeouts, so that a user's cancel and an expired timeout stay apart.
import { ErrorCodes } from '../../common/errors.ts';
import type { SessionResult } from '../../common/protocol.ts';
import type { SessionStatus } from '../resources/types.ts';

export function resultAfterCancel(status: Pick<SessionStatus, 'cancelReason' | 'deadline'>, result: SessionResult): SessionResult {
  if (result.phase !== 'Failed' || result.error?.code !== ErrorCodes.SESSION_CANCELLED || status.cancelReason !== 'timeout') return result;
  return { ...result, error: { code: ErrorCodes.SESSION_TIMEOUT, message: `session did not finish before its deadline ${status.deadline ?? '?'}: ${result.error.message}` } };
}
