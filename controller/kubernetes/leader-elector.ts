// Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics (defaults: lease
// 15 s, renew deadline 10 s, retry period 2 s). Each round reads the Lease, decides purely
// (leader-decision.ts) and writes with the Lease's resourceVersion, so that of two candidates
// writing the same version one gets CONFLICT and stays a follower. While leading, a timer steps
// down at the renew deadline even if a request hangs; leader-only work runs under the signal
// given to onStartedLeading, which aborts when this process stops leading. On a graceful stop
// the Lease is released (no holder) so that another replica takes over within a retry period.
import { hostname } from 'node:os';
import { ErrorCodes, errorMessage, isSidestashError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import type { Logger } from '../../common/log.ts';
import { sleep } from '../../common/backend/retry.ts';
import type { KubeClient } from './kube-client.ts';
import { decideLease, microTime } from './leader-decision.ts';
import type { LeaseRecord } from './leader-decision.ts';
import { Leases } from './resource-type.ts';
import type { KubeObject } from './resource-type.ts';

export interface Lease extends KubeObject {
  spec?: LeaseRecord;
}

export type StepDownReason = 'renew-deadline' | 'lost-lease' | 'released' | 'stopped';

export interface LeaderElectorOptions {
  namespace: string;
  /** The Lease's name, e.g. sidestash-controller. */
  name: string;
  /** Default: POD_NAME or the host name, an underscore and a random suffix (client-go's form). */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Release the Lease when run()'s signal aborts (default true). False: as if the process died. */
  releaseOnStop?: boolean;
  /** Leader-only work starts here; `signal` aborts (reason: the StepDownReason) when leading ends. */
  onStartedLeading?: (signal: AbortSignal) => void;
  onStoppedLeading?: (reason: StepDownReason) => void;
  /** Another holder was seen (or '' once the Lease is released). */
  onNewLeader?: (identity: string) => void;
  log?: Logger;
}

export function defaultIdentity(env: Record<string, string | undefined> = process.env): string {
  const suffix = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex');
  return `${env.POD_NAME || hostname()}_${suffix}`;
}

export class LeaderElector {
  readonly identity: string;
  readonly #client: KubeClient;
  readonly #o: Required<Pick<LeaderElectorOptions, 'namespace' | 'name' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs' | 'releaseOnStop'>> & LeaderElectorOptions;
  readonly #log: Logger;
  #leading: AbortController | undefined;
  #lastRenewMs: number | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #observed: { key: string; atMs: number } | undefined;
  #holder = '';

  constructor(client: KubeClient, options: LeaderElectorOptions) {
    const o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, releaseOnStop: true, ...options };
    if (!(o.leaseDurationMs > o.renewDeadlineMs && o.renewDeadlineMs > o.retryPeriodMs && o.retryPeriodMs > 0)) {
      throw new RangeError(`leader election needs leaseDuration > renewDeadline > retryPeriod > 0 (got ${o.leaseDurationMs}, ${o.renewDeadlineMs}, ${o.retryPeriodMs} ms)`);
    }
    this.#client = client;
    this.#o = o;
    this.identity = options.identity ?? defaultIdentity();
    this.#log = options.log ?? createLogger({ component: 'leader-election', lease: `${o.namespace}/${o.name}`, identity: this.identity });
  }

  /** Whether this process leads now. */
  get leading(): boolean {
    return this.#leading !== undefined;
  }

  /** The holder last seen in the Lease ('' when none). */
  get holder(): string {
    return this.#holder;
  }

  #startLeading(nowMs: number): void {
    this.#lastRenewMs = nowMs;
    this.#armDeadline();
    if (this.#leading) return;
    this.#leading = new AbortController();
    this.#setHolder(this.identity);
    this.#log.info('became the leader');
    this.#o.onStartedLeading?.(this.#leading.signal);
  }

  #armDeadline(): void {
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => this.#stopLeading('renew-deadline'), this.#o.renewDeadlineMs);
    (this.#deadline as { unref?: () => void }).unref?.();
  }

  #stopLeading(reason: StepDownReason): void {
    clearTimeout(this.#deadline);
    const leading = this.#leading;
    if (!leading) return;
    this.#leading = undefined;
    this.#lastRenewMs = undefined;
    if (reason === 'renew-deadline' || reason === 'lost-lease') this.#log.warn('stepped down: no longer the leader', { reason });
    else this.#log.info('stopped leading', { reason });
    leading.abort(reason);
    this.#o.onStoppedLeading?.(reason);
  }

  #setHolder(holder: string): void {
    if (holder === this.#holder) return;
    this.#holder = holder;
    if (holder !== this.identity) this.#o.onNewLeader?.(holder);
  }

  /** One round: read, decide, write. Returns when the next round is due (ms from now). */
  async #round(): Promise<number> {
    const nowMs = Date.now();
    // A request may not outlive the renew deadline of a leader.
    const budgetMs = this.#lastRenewMs !== undefined ? Math.max(1, this.#lastRenewMs + this.#o.renewDeadlineMs - nowMs) : this.#o.renewDeadlineMs;
    const signal = AbortSignal.timeout(budgetMs);
    let lease: Lease | undefined;
    try {
      lease = await this.#client.get<Lease>(Leases, this.#o.namespace, this.#o.name, signal);
    } catch (err) {
      if (!isSidestashError(err, ErrorCodes.NOT_FOUND)) throw err;
    }
    const key = lease ? `${lease.metadata.resourceVersion}|${JSON.stringify(lease.spec ?? {})}` : '';
    if (!this.#observed || this.#observed.key !== key) this.#observed = { key, atMs: Date.now() };
    if (lease) this.#setHolder(lease.spec?.holderIdentity ?? '');
    const decision = decideLease({
      lease: lease ? (lease.spec ?? {}) : undefined, observedAtMs: this.#observed.atMs, nowMs: Date.now(), identity: this.identity,
      leaseDurationMs: this.#o.leaseDurationMs, renewDeadlineMs: this.#o.renewDeadlineMs, leading: this.leading, ...(this.#lastRenewMs !== undefined ? { lastRenewMs: this.#lastRenewMs } : {}),
    });
    switch (decision.action) {
      case 'step-down':
        this.#stopLeading(decision.reason);
        return this.#o.retryPeriodMs;
      case 'wait':
        return Math.min(this.#o.retryPeriodMs * (1 + Math.random() * 0.2), Math.max(1, decision.expiresAtMs - Date.now()));
      case 'create': {
        const sentMs = Date.now();
        await this.#client.create<Lease>(Leases, { metadata: { name: this.#o.name, namespace: this.#o.namespace }, spec: decision.record }, signal);
        this.#startLeading(sentMs);
        return this.#o.retryPeriodMs;
      }
      default: {
        const sentMs = Date.now();
        await this.#client.replace<Lease>(Leases, { ...lease!, spec: decision.record }, signal);
        if (decision.action === 'acquire') this.#log.info('acquired the lease', { previous: lease!.spec?.holderIdentity ?? '', transitions: decision.record.leaseTransitions });
        this.#startLeading(sentMs);
        return this.#o.retryPeriodMs;
      }
    }
  }

  /** Campaigns (and leads) until the signal aborts; then releases the Lease if it leads. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let nextMs = this.#o.retryPeriodMs;
      try {
        nextMs = await this.#round();
      } catch (err) {
        // CONFLICT: another candidate wrote first; anything else: try again next period. A
        // leader that keeps failing steps down at its renew deadline (the timer).
        if (this.leading || !isSidestashError(err, ErrorCodes.CONFLICT)) this.#log.warn('leader election round failed', { error: errorMessage(err), code: isSidestashError(err) ? err.code : undefined });
      }
      await sleep(nextMs, signal).catch(() => {});
    }
    if (!this.leading) return;
    // Leader-only work is told to stop first (no new work starts; what is in flight may still
    // finish: leader-work.ts's header); then the Lease goes.
    this.#stopLeading(this.#o.releaseOnStop ? 'released' : 'stopped');
    if (this.#o.releaseOnStop) await this.#release();
  }

  /** Gives the Lease up (holder '', duration 1 s) so that another candidate takes it at once. */
  async #release(): Promise<void> {
    try {
      const signal = AbortSignal.timeout(this.#o.renewDeadlineMs);
      const lease = await this.#client.get<Lease>(Leases, this.#o.namespace, this.#o.name, signal);
      if (lease.spec?.holderIdentity === this.identity) {
        const nowMs = Date.now();
        await this.#client.replace<Lease>(Leases, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: microTime(nowMs), renewTime: microTime(nowMs) } }, signal);
      }
    } catch (err) {
      this.#log.warn('could not release the lease; another replica takes over when it expires', { error: errorMessage(err) });
    }
  }
}
