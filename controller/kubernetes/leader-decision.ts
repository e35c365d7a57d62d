// What a candidate does with a coordination.k8s.io/v1 Lease, as client-go's leader election
// decides it, as a pure function: create it, acquire it, renew it, wait, or step down.
// Expiry is judged on this process's own clock from when it first saw the Lease's current
// record (observedAtMs), never on the holder's renewTime, so clock skew between replicas does
// not matter. A leader steps down when it has not renewed within renewDeadline (< leaseDuration),
// before any other candidate can take the Lease over: there are never two leaders.

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface ElectionInput {
  /** The Lease's spec; undefined: no Lease yet. */
  lease: LeaseRecord | undefined;
  /** When this process first saw the Lease's record as it is now (local clock). */
  observedAtMs: number;
  nowMs: number;
  identity: string;
  /** Our lease duration (written into the Lease; also for a Lease that says none). */
  leaseDurationMs: number;
  renewDeadlineMs: number;
  /** Whether this process leads now, and when it last renewed (or acquired). */
  leading: boolean;
  lastRenewMs?: number;
}

export type ElectionDecision =
  | { action: 'create'; record: LeaseRecord }
  | { action: 'acquire'; record: LeaseRecord }
  | { action: 'renew'; record: LeaseRecord }
  | { action: 'wait'; holder: string; expiresAtMs: number }
  | { action: 'step-down'; reason: 'renew-deadline' | 'lost-lease' };

/** A Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The Lease's own duration, or ours when it states none that makes sense. */
function durationMsOf(lease: LeaseRecord, fallbackMs: number): number {
  const s = lease.leaseDurationSeconds;
  return typeof s === 'number' && Number.isInteger(s) && s > 0 ? s * 1000 : fallbackMs;
}

export function decideLease(input: ElectionInput): ElectionDecision {
  const { lease, nowMs, identity } = input;
  if (input.leading && input.lastRenewMs !== undefined && nowMs - input.lastRenewMs > input.renewDeadlineMs) return { action: 'step-down', reason: 'renew-deadline' };
  const mine = (acquireMs: number | string | undefined, transitions: number): LeaseRecord => ({
    holderIdentity: identity,
    leaseDurationSeconds: Math.max(1, Math.round(input.leaseDurationMs / 1000)),
    acquireTime: typeof acquireMs === 'string' ? acquireMs : microTime(acquireMs ?? nowMs),
    renewTime: microTime(nowMs),
    leaseTransitions: transitions,
  });
  if (!lease) return { action: 'create', record: mine(nowMs, 0) };
  const holder = lease.holderIdentity ?? '';
  const transitions = Number.isInteger(lease.leaseTransitions) && lease.leaseTransitions! >= 0 ? lease.leaseTransitions! : 0;
  if (holder === identity) {
    return input.leading ? { action: 'renew', record: mine(lease.acquireTime ?? nowMs, transitions) } : { action: 'acquire', record: mine(nowMs, transitions) };
  }
  if (input.leading) return { action: 'step-down', reason: 'lost-lease' };
  const expiresAtMs = input.observedAtMs + durationMsOf(lease, input.leaseDurationMs);
  if (holder !== '' && expiresAtMs > nowMs) return { action: 'wait', holder, expiresAtMs };
  return { action: 'acquire', record: mine(nowMs, transitions + 1) };
}
