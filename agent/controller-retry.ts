// How the agent waits after a failed call to the controller (registration or polling), and
// how loudly it says so: a pure plan, tested on a table.
// - The controller refused the token (401/403): a configuration error that waiting rarely
//   fixes, so an error that backs off exponentially from 5 s to 5 minutes.
// - The controller is unreachable (DNS, refused, timeout, 5xx): a warning, backing off from
//   1 s to 30 s, so that the agent is back soon after the controller is; a TLS failure is an
//   error (a certificate the agent does not trust is configuration too) on that schedule.
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import type { FetchFailureKind } from '../common/fetch-failure.ts';

export const AUTH_RETRY_BASE_MS = 5_000;
export const AUTH_RETRY_MAX_MS = 5 * 60_000;
export const UNREACHABLE_RETRY_BASE_MS = 1_000;
export const UNREACHABLE_RETRY_MAX_MS = 30_000;
export const NOT_LEADER_RETRY_MS = 1_000;

export interface RetryPlan {
  level: 'debug' | 'info' | 'warn' | 'error';
  delayMs: number;
  /** What to check, for the log line. */
  hint?: string;
}

const HINTS: Partial<Record<FetchFailureKind, string>> = {
  dns: 'check the host name in SIDESTASH_CONTROLLER_URL',
  refused: 'is the controller running and listening at SIDESTASH_CONTROLLER_URL?',
  tls: "trust the controller's CA with SIDESTASH_CONTROLLER_CA_FILE (a generated one is api-ca.crt beside the controller's database), or check the host name in SIDESTASH_CONTROLLER_URL against its certificate",
  timeout: 'the controller did not answer in time: check the network between agent and controller',
  unreachable: 'check the network between agent and controller',
};

function backoff(baseMs: number, maxMs: number, failures: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures, 1) - 1, 20));
}

/** The plan after the `failures`-th consecutive failure (1 for the first). */
export function retryPlan(err: unknown, failures: number, credential: 'enrolment-token' | 'service-account' = 'enrolment-token'): RetryPlan {
  if (isSidestashError(err, ErrorCodes.INVALID_CONFIG)) return { level: 'error', delayMs: backoff(UNREACHABLE_RETRY_BASE_MS, UNREACHABLE_RETRY_MAX_MS, failures), hint: 'the projected ServiceAccount token (volume sidestash-token) is missing or empty' };
  if (isSidestashError(err, ErrorCodes.UNAUTHORIZED) || isSidestashError(err, ErrorCodes.FORBIDDEN)) {
    const sa = credential === 'service-account';
    const hint = err.code === ErrorCodes.UNAUTHORIZED
      ? (sa ? "the controller does not accept this pod's ServiceAccount token (SIDESTASH_AGENT_TOKEN_FILE): it must be a projected token for audience sidestash, of this running pod, which must carry the sidestash.io/target annotation" : "the controller does not accept this agent's token: check SIDESTASH_AGENT_BOOTSTRAP_TOKEN against the controller's enrolment tokens (sidestash agenttoken list)")
      : (sa ? "this pod's sidestash.io/target annotation does not name these AppBindings (SIDESTASH_AGENT_TARGETS), or the agent's name is not its pod's" : "the enrolment token does not allow this agent's namespace or targets");
    return { level: 'error', delayMs: backoff(AUTH_RETRY_BASE_MS, AUTH_RETRY_MAX_MS, failures), hint };
  }
  // A controller replica that does not lead (Kubernetes mode): the leader is elected within a
  // lease duration; call again each second (its Retry-After), saying so once per streak.
  if (isSidestashError(err, ErrorCodes.NOT_LEADER)) return { level: failures === 1 ? 'info' : 'debug', delayMs: NOT_LEADER_RETRY_MS, hint: 'the call reached a controller replica that does not lead; the next call goes to another one' };
  const kind = isSidestashError(err, ErrorCodes.CONTROLLER_UNAVAILABLE) ? (err.details.cause as FetchFailureKind | undefined) : undefined;
  const hint = kind ? HINTS[kind] : undefined;
  return { level: kind === 'tls' ? 'error' : 'warn', delayMs: backoff(UNREACHABLE_RETRY_BASE_MS, UNREACHABLE_RETRY_MAX_MS, failures), ...(hint ? { hint } : {}) };
}
