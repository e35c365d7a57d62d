// Sessions created outside the controller (Kubernetes mode: `kubectl apply` of a BackupSession
// or RestoreSession, as Stash's instant backups and restores are) arrive without a status. The
// leader adopts each: it writes status.phase Pending through /status with the version it read,
// as the HTTP API's apply does on create, so that the claim queue, the pending timeout and
// kubectl get see it.
// A session the controller creates itself is written in two steps on the API server (the object,
// then its /status: the status subresource ignores a status on create), so a session without a
// status may be one a replica is creating right now: adopting it then would make that replica's
// /status write fail on the version. Adoption therefore waits (AdoptionQueue, settleMs) and reads
// the session again: a creator's second write comes within milliseconds, kubectl writes none.
// When a creator's second write is slower than settleMs anyway, adoption wins and the creator
// writes its status again over it (kubernetes-store.ts create): the session exists once, with
// the creator's status, and the creator does not take it for a failed create.
// A write that loses to another (CONFLICT) is left alone.
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import type { Resource, SessionStatus } from '../resources/types.ts';
import type { ResourceStore } from '../store/resource-store.ts';

export const SESSION_KINDS = ['BackupSession', 'RestoreSession'] as const;
/** How long a session without a status is left to its creator's /status write before it is adopted. */
export const ADOPTION_SETTLE_MS = 2000;

export function needsAdoption(r: Pick<Resource<unknown, unknown>, 'kind' | 'status'>): boolean {
  if (!(SESSION_KINDS as readonly string[]).includes(r.kind)) return false;
  const phase: unknown = (r.status as { phase?: unknown } | undefined)?.phase;
  return typeof phase !== 'string' || phase === '';
}

/** Adopts one session as read; true when this call wrote its Pending status. */
export async function adoptSession(store: ResourceStore, r: Resource<unknown, unknown>): Promise<boolean> {
  if (!needsAdoption(r)) return false;
  try {
    await store.updateStatus({ ...r, status: { phase: 'Pending' } satisfies SessionStatus }, { ifVersion: r.metadata.resourceVersion! });
    return true;
  } catch (err) {
    if (isSidestashError(err, ErrorCodes.CONFLICT) || isSidestashError(err, ErrorCodes.NOT_FOUND)) return false;
    throw err;
  }
}

export interface AdoptionQueueOptions {
  settleMs?: number;
  /** Waits settleMs (injectable for tests); rejects or resolves early when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => {
    clearTimeout(t);
    resolve();
  }, { once: true });
});

/** The leader's adoptions: each session once at a time, after it has settled, until the signal aborts. */
export class AdoptionQueue {
  readonly #store: ResourceStore;
  readonly #signal: AbortSignal;
  readonly #settleMs: number;
  readonly #sleep: NonNullable<AdoptionQueueOptions['sleep']>;
  readonly #waiting = new Map<string, Promise<boolean>>();

  constructor(store: ResourceStore, signal: AbortSignal, options: AdoptionQueueOptions = {}) {
    this.#store = store;
    this.#signal = signal;
    this.#settleMs = options.settleMs ?? ADOPTION_SETTLE_MS;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  /** Adopts `r` once it has settled and still has no status; resolves true when it was adopted here. */
  consider(r: Pick<Resource<unknown, unknown>, 'kind' | 'metadata' | 'status'>): Promise<boolean> {
    if (!needsAdoption(r)) return Promise.resolve(false);
    const key = `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
    const waiting = this.#waiting.get(key);
    if (waiting) return waiting;
    const done = (async () => {
      try {
        await this.#sleep(this.#settleMs, this.#signal);
        if (this.#signal.aborted) return false;
        const cur = await this.#store.get(r.kind as (typeof SESSION_KINDS)[number], r.metadata.namespace, r.metadata.name);
        return cur !== undefined && !this.#signal.aborted && (await adoptSession(this.#store, cur));
      } finally {
        this.#waiting.delete(key);
      }
    })();
    this.#waiting.set(key, done);
    return done;
  }

  /** Considers every session without a status (a new leader's first pass); resolves with how many were adopted. */
  async considerAll(): Promise<number> {
    const found: Promise<boolean>[] = [];
    for (const kind of SESSION_KINDS) for (const s of await this.#store.list(kind)) found.push(this.consider(s));
    return (await Promise.all(found)).filter(Boolean).length;
  }
}
