// The Kubernetes API server's answers as the product's errors (common/errors.ts): callers branch
// on the code, never on the server's message. A metav1.Status body gives the reason, the
// causes' field paths (422) and Retry-After seconds (429, 5xx).
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { ErrorCode } from '../../common/errors.ts';

export interface StatusCause {
  field?: string;
  reason?: string;
  message?: string;
}

/** metav1.Status, the body of every failed request (and of a watch's ERROR event). */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The Status in a body, or undefined when the body is not one. */
export function asStatus(body: unknown): KubeStatus | undefined {
  return isObject(body) && body.kind === 'Status' ? (body as KubeStatus) : undefined;
}

function codeFor(status: number): { code: ErrorCode; retryable: boolean } {
  if (status === 404) return { code: ErrorCodes.NOT_FOUND, retryable: false };
  if (status === 409) return { code: ErrorCodes.CONFLICT, retryable: false };
  if (status === 410) return { code: ErrorCodes.RESOURCE_EXPIRED, retryable: false };
  if (status === 401) return { code: ErrorCodes.UNAUTHORIZED, retryable: false };
  if (status === 403) return { code: ErrorCodes.FORBIDDEN, retryable: false };
  if (status === 422) return { code: ErrorCodes.VALIDATION_FAILED, retryable: false };
  if (status === 429 || status >= 500) return { code: ErrorCodes.KUBE_UNAVAILABLE, retryable: true };
  return { code: ErrorCodes.INVALID_ARGUMENT, retryable: false };
}

/**
 * An HTTP status and body from the API server as an error. details: kubeStatus (the API
 * server's HTTP status; not `status`, which the HTTP API would answer its own client with), reason
 * (the Status reason, e.g. AlreadyExists vs Conflict for a 409), causes ({field, reason,
 * message}, 422), retryAfterMs (for the retry layer). A 409 Conflict (stale resourceVersion) is
 * not retryable as is: the caller reads again and decides again.
 */
export function kubeError(what: string, httpStatus: number, body: unknown, retryAfterHeader?: string): SidestashError {
  const status = asStatus(body);
  const { code, retryable } = codeFor(httpStatus);
  const causes = (status?.details?.causes ?? []).filter(isObject).map((c) => ({
    ...(typeof c.field === 'string' ? { field: c.field } : {}),
    ...(typeof c.reason === 'string' ? { reason: c.reason } : {}),
    ...(typeof c.message === 'string' ? { message: c.message } : {}),
  }));
  const retryAfterSeconds = status?.details?.retryAfterSeconds ?? (retryAfterHeader && /^\d{1,6}$/.test(retryAfterHeader) ? Number(retryAfterHeader) : undefined);
  const serverMessage = typeof status?.message === 'string' ? status.message : typeof body === 'string' ? body.slice(0, 300) : '';
  const fields = causes.filter((c) => c.field).map((c) => `${c.field}: ${c.message ?? c.reason ?? 'invalid'}`);
  const message = `${what}: HTTP ${httpStatus}${status?.reason ? ` ${status.reason}` : ''}${serverMessage ? `: ${serverMessage}` : ''}${fields.length > 0 && !serverMessage.includes(fields[0]!) ? ` (${fields.join('; ')})` : ''}`;
  return new SidestashError(code, message, {
    retryable,
    details: {
      kubeStatus: httpStatus,
      ...(status?.reason ? { reason: status.reason } : {}),
      ...(causes.length > 0 ? { causes } : {}),
      ...(retryAfterSeconds !== undefined && retryable ? { retryAfterMs: retryAfterSeconds * 1000 } : {}),
    },
  });
}

/** A request that got no answer (refused, reset, TLS, timeout) as a retryable error. */
export function kubeNetworkError(what: string, err: unknown): SidestashError {
  const code = (err as { code?: unknown } | undefined)?.code;
  const tls = typeof code === 'string' && /^(ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_)/.test(code);
  return new SidestashError(ErrorCodes.KUBE_UNAVAILABLE, `${what}: ${(err as Error)?.message ?? String(err)}${typeof code === 'string' ? ` (${code})` : ''}`, {
    // A certificate the CA does not vouch for will not change by trying again.
    retryable: !tls,
    cause: err,
  });
}
