// What a session that the agent stopped on request ends with. The agent reports
// SESSION_CANCELLED for any stop it was asked for; when the controller asked because the
// session's deadline (`timeout`) had passed, the session fails with SESSION_TIMEOUT, the code
// README documents for timeouts, so that a user's cancel and an expired timeout stay apart.
// A stop the user asked for (a cancel) or a deleted BackupConfiguration caused ends in its own
// phase, Cancelled, keeping SESSION_CANCELLED as its error (which says why). A SESSION_CANCELLED
// that nobody asked for (the agent shutting down) stays Failed.
import { ErrorCodes } from '../../common/errors.ts';
import type { SessionResult } from '../../common/protocol.ts';
import type { SessionStatus } from '../resources/types.ts';

export const DELETED_CONFIGURATION_MESSAGE = 'its BackupConfiguration was deleted';

export function resultAfterCancel(status: Pick<SessionStatus, 'cancelReason' | 'deadline'>, result: SessionResult): SessionResult {
  if (result.phase !== 'Failed' || result.error?.code !== ErrorCodes.SESSION_CANCELLED) return result;
  if (status.cancelReason === 'deleted') return { ...result, phase: 'Cancelled', error: { code: ErrorCodes.SESSION_CANCELLED, message: `${DELETED_CONFIGURATION_MESSAGE}: ${result.error.message}` } };
  if (status.cancelReason === 'requested') return { ...result, phase: 'Cancelled' };
  if (status.cancelReason !== 'timeout') return result;
  return { ...result, error: { code: ErrorCodes.SESSION_TIMEOUT, message: `session did not finish before its deadline ${status.deadline ?? '?'}: ${result.error.message}` } };
}
