// The API server's refusals as the resource store's errors (controller/store/resource-store.ts):
// kube-errors.ts maps every 409 to CONFLICT, not retryable; the store tells them apart by the
// Status reason: Conflict (a stale resourceVersion, a failed delete precondition) is retryable
// (read again, decide again: retry-on-conflict.ts), AlreadyExists (the name is taken) is not.
// A 422 (Invalid: the CRD's schema, a label the server refuses) is VALIDATION_FAILED with
// details.errors [{ field, message }], the shape the HTTP API reports its own field errors in.
// A 401 or 403 is the API server refusing the controller's own credentials or RBAC: KUBE_DENIED
// (HTTP 502 from the controller), so that a CLI user is not told their own token was refused.
// A refused Secret write says what to do instead: the chart lets the controller only read Secrets
// unless kubernetes.secretWrites is true, so the user creates the Secret with kubectl.
import { ErrorCodes, isSidestashError, SidestashError } from '../../common/errors.ts';
import type { Kind } from '../resources/types.ts';

interface Cause {
  field?: string;
  reason?: string;
  message?: string;
}

/** What the store was doing when the API server answered: a write of this kind. */
export interface StoreWrite {
  kind: Kind;
}

/** The advice a KUBE_DENIED error gives: specific for Secret writes, general otherwise. */
export function deniedAdvice(write: StoreWrite | undefined): string {
  if (write?.kind === 'Secret') {
    return 'the Kubernetes API server refused the controller writing a Secret (the chart lets it only read Secrets by default): create the Secret with kubectl (kubectl apply -f), or set the chart\'s kubernetes.secretWrites: true';
  }
  return 'the Kubernetes API server refused the controller (check its ServiceAccount and RBAC)';
}

export function storeError(err: unknown, write?: StoreWrite): unknown {
  if (!isSidestashError(err)) return err;
  if (err.code === ErrorCodes.CONFLICT) {
    const stale = err.details.reason !== 'AlreadyExists';
    if (stale === err.retryable) return err;
    return new SidestashError(ErrorCodes.CONFLICT, err.message, { retryable: stale, details: err.details, cause: err });
  }
  if ((err.code === ErrorCodes.UNAUTHORIZED || err.code === ErrorCodes.FORBIDDEN) && typeof err.details.kubeStatus === 'number') {
    return new SidestashError(ErrorCodes.KUBE_DENIED, `${deniedAdvice(write)}: ${err.message}`, { retryable: false, details: { kubeStatus: err.details.kubeStatus }, cause: err });
  }
  if (err.code === ErrorCodes.VALIDATION_FAILED) {
    const causes = (Array.isArray(err.details.causes) ? err.details.causes : []) as Cause[];
    const errors = causes.map((c) => ({ field: c.field ?? '', message: c.message ?? c.reason ?? 'invalid' }));
    return new SidestashError(ErrorCodes.VALIDATION_FAILED, err.message, { retryable: false, details: { ...err.details, errors }, cause: err });
  }
  return err;
}

/** A write whose `ifVersion` is not the stored version (found by the store before it wrote). */
export function staleVersion(what: string, ifVersion: string, stored: string | undefined): SidestashError {
  return new SidestashError(ErrorCodes.CONFLICT, `${what} changed since it was read (resourceVersion ${ifVersion}, now ${stored ?? 'unknown'})`, { retryable: true, details: { reason: 'Conflict' } });
}
