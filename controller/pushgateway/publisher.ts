// The controller's Pushgateway publisher: the one writer of session metrics, so that whoever
// decides a session's end (its agent, a lease expiry, a deadline, a refused configuration, no
// agent at all) the same Stash metrics go out, and a dead agent's sessions are reported too.
// - a finished session: its invoker's Stash group gets the session's metrics (POST), its
//   live-progress group is deleted;
// - a progress report: the invoker's progress group is replaced, at most every progressEveryMs;
// - a deleted BackupConfiguration or RestoreSession: both its groups are deleted;
// - reconcile() (every sweep): the newest finished session of each invoker is pushed once
//   per controller process, and again until a push succeeds, and deletes are retried until the
//   Pushgateway confirms them, so that neither a restart nor an outage leaves an older outcome
//   or a deleted invoker's group showing (a delete lost to a restart is not retried).
// Operations on one group run in order (a delete never overtakes the push before it); the
// calls themselves are handled one after another, in the order they came, as each reads the
// store (async) before it queues anything.
import { errorMessage, isSidestashError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { isFinalPhase } from '../../common/protocol.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { renderExposition } from './exposition.ts';
import { PROGRESS_JOB, progressGrouping, progressSamples } from './progress-metrics.ts';
import type { Grouping, PushgatewayClient } from './pushgateway-client.ts';
import { invokerOf, sessionFacts } from './session-facts.ts';
import type { AnySession } from './session-facts.ts';
import { stashJobName, stashMetrics } from './stash-metrics.ts';
import type { SessionKind } from './stash-metrics.ts';

export interface PublisherOptions {
  /** Minimum time between two progress pushes of one invoker (default 5 s). */
  progressEveryMs?: number;
}

const sessionKey = (s: AnySession): string => `${s.kind}/${s.metadata.namespace}/${s.metadata.name}/${s.metadata.uid ?? ''}/${s.status?.finishedAt ?? ''}`;

export class PushgatewayPublisher {
  readonly #client: PushgatewayClient;
  readonly #store: ResourceStore;
  readonly #log: Logger;
  readonly #progressEveryMs: number;
  readonly #stop = new AbortController();
  /** Per group: the tail of its queue of operations. */
  readonly #queues = new Map<string, Promise<void>>();
  /** Per Stash job: the session whose metrics the group holds (pushed by this process). */
  readonly #pushed = new Map<string, string>();
  readonly #pushing = new Set<string>();
  /** Deletes the Pushgateway has not confirmed yet, by group: reconcile() retries them. */
  readonly #pendingDeletes = new Map<string, { job: string; grouping: Grouping; what: string; inFlight: boolean }>();
  /** Per progress group: when it was last pushed, and a trailing push waiting for its turn. */
  readonly #progress = new Map<string, { lastMs: number; timer?: NodeJS.Timeout | undefined; ended: boolean }>();
  /** The calls (sessionFinished, sessionProgress, invokerDeleted, reconcile), handled in order. */
  #calls: Promise<void> = Promise.resolve();

  constructor(client: PushgatewayClient, store: ResourceStore, log: Logger, options: PublisherOptions = {}) {
    this.#client = client;
    this.#store = store;
    this.#log = log;
    this.#progressEveryMs = options.progressEveryMs ?? 5000;
  }

  #inOrder(fn: () => Promise<void> | void): Promise<void> {
    const next = this.#calls.then(fn).catch((err: unknown) => this.#log.warn('pushgateway: failed', { pushgateway: this.#client.url, err: errorMessage(err) }));
    this.#calls = next;
    return next;
  }

  #enqueue(group: string, what: string, op: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const next = (this.#queues.get(group) ?? Promise.resolve())
      .then(() => op(this.#stop.signal))
      .catch((err: unknown) => {
        if (this.#stop.signal.aborted) return;
        this.#log.warn('pushgateway: failed', { pushgateway: this.#client.url, group, what, code: isSidestashError(err) ? err.code : undefined, err: errorMessage(err) });
        throw err;
      });
    const tail = next.catch(() => {});
    this.#queues.set(group, tail);
    void tail.then(() => {
      if (this.#queues.get(group) === tail) this.#queues.delete(group);
    });
    return next;
  }

  /** Deletes a group, and keeps trying (reconcile) until the Pushgateway confirms it. */
  #deleteGroup(group: string, job: string, grouping: Grouping, what: string): Promise<void> {
    const entry = { job, grouping, what, inFlight: true };
    this.#pendingDeletes.set(group, entry);
    return this.#runDelete(group, entry);
  }

  #runDelete(group: string, entry: { job: string; grouping: Grouping; what: string; inFlight: boolean }): Promise<void> {
    entry.inFlight = true;
    return this.#enqueue(group, entry.what, (signal) => this.#client.deleteGroup(entry.job, entry.grouping, signal))
      .then(() => {
        if (this.#pendingDeletes.get(group) === entry) this.#pendingDeletes.delete(group);
      })
      .finally(() => {
        entry.inFlight = false;
      });
  }

  /** A newer push to the group supersedes a delete still waiting to be retried. */
  #supersedeDelete(group: string): void {
    const pending = this.#pendingDeletes.get(group);
    if (pending && !pending.inFlight) this.#pendingDeletes.delete(group);
  }

  /** Pushes a finished session's Stash metrics and deletes its progress group. */
  sessionFinished(s: AnySession): Promise<void> {
    return this.#inOrder(() => this.#sessionFinished(s));
  }

  async #sessionFinished(s: AnySession): Promise<void> {
    const inv = await invokerOf(this.#store, s);
    if (!inv) return;
    const grouping = progressGrouping(inv);
    const pkey = JSON.stringify(grouping);
    const p = this.#progress.get(pkey);
    if (p) {
      clearTimeout(p.timer);
      p.ended = true;
    }
    void this.#deleteGroup(`${PROGRESS_JOB}${pkey}`, PROGRESS_JOB, grouping, 'delete progress')
      .then(() => {
        if (this.#progress.get(pkey) === p) this.#progress.delete(pkey);
      })
      .catch(() => {});
    await this.#pushFinal(s);
  }

  async #pushFinal(s: AnySession): Promise<void> {
    const facts = await sessionFacts(this.#store, s);
    if (!facts) return;
    const job = stashJobName(facts.kind, facts.namespace, facts.invokerName);
    const key = sessionKey(s);
    this.#pushing.add(job);
    this.#supersedeDelete(job);
    void this.#enqueue(job, `push ${s.kind} ${s.metadata.namespace}/${s.metadata.name} (${facts.phase})`, async (signal) => {
      // The invoker may have been deleted while this waited: push nothing for it then.
      if (!(await sessionFacts(this.#store, s))) return;
      await this.#client.pushAdd(job, {}, await renderExposition(stashMetrics(facts)), signal);
      this.#pushed.set(job, key);
    })
      .catch(() => {})
      .finally(() => this.#pushing.delete(job));
  }

  /** A progress report of a Running session: its invoker's progress group, throttled. */
  sessionProgress(s: AnySession): Promise<void> {
    return this.#inOrder(() => this.#sessionProgress(s));
  }

  async #sessionProgress(s: AnySession): Promise<void> {
    const inv = await invokerOf(this.#store, s);
    const progress = s.status?.progress;
    if (!inv || !progress || s.status?.phase !== 'Running') return;
    const grouping = progressGrouping(inv);
    const pkey = JSON.stringify(grouping);
    const state = this.#progress.get(pkey) ?? { lastMs: 0, ended: false };
    if (state.ended) state.ended = false; // a new session of the same invoker
    this.#progress.set(pkey, state);
    clearTimeout(state.timer);
    const push = async (): Promise<void> => {
      state.timer = undefined;
      if (state.ended) return;
      state.lastMs = Date.now();
      // The newest report at the time of the push.
      const cur = (await this.#store.get(s.kind, s.metadata.namespace, s.metadata.name)) as AnySession | undefined;
      if (state.ended) return;
      if (cur?.status?.phase !== 'Running' || !cur.status.progress) return;
      const samples = progressSamples(inv, cur.metadata.name, cur.status.progress);
      this.#supersedeDelete(`${PROGRESS_JOB}${pkey}`);
      void this.#enqueue(`${PROGRESS_JOB}${pkey}`, 'push progress', async (signal) => {
        if (state.ended) return;
        await this.#client.pushAdd(PROGRESS_JOB, grouping, await renderExposition(samples), signal);
      }).catch(() => {});
    };
    const waitMs = state.lastMs + this.#progressEveryMs - Date.now();
    if (waitMs <= 0) await push();
    else {
      state.timer = setTimeout(() => void this.#inOrder(push), waitMs);
      state.timer.unref?.();
    }
  }

  /** A BackupConfiguration or RestoreSession was deleted: its groups go too. */
  invokerDeleted(kind: 'BackupConfiguration' | 'RestoreSession', namespace: string, name: string): Promise<void> {
    return this.#inOrder(() => this.#invokerDeleted(kind, namespace, name));
  }

  #invokerDeleted(kind: 'BackupConfiguration' | 'RestoreSession', namespace: string, name: string): void {
    const sessionKind: SessionKind = kind === 'BackupConfiguration' ? 'BackupSession' : 'RestoreSession';
    const job = stashJobName(sessionKind, namespace, name);
    const grouping = progressGrouping({ kind: sessionKind, namespace, invokerName: name });
    const pkey = JSON.stringify(grouping);
    const p = this.#progress.get(pkey);
    if (p) {
      clearTimeout(p.timer);
      p.ended = true;
    }
    this.#pushed.delete(job);
    void this.#deleteGroup(job, job, {}, `delete ${kind} ${namespace}/${name}`).catch(() => {});
    void this.#deleteGroup(`${PROGRESS_JOB}${pkey}`, PROGRESS_JOB, grouping, 'delete progress').catch(() => {});
  }

  /** Pushes each invoker's newest finished session unless this process already has. */
  reconcile(): Promise<void> {
    return this.#inOrder(() => this.#reconcile());
  }

  async #reconcile(): Promise<void> {
    const newest = new Map<string, AnySession>();
    const consider = (job: string, s: AnySession): void => {
      const cur = newest.get(job);
      if (!cur || (s.status?.finishedAt ?? '') > (cur.status?.finishedAt ?? '')) newest.set(job, s);
    };
    for (const s of (await this.#store.list('BackupSession')) as AnySession[]) {
      if (!isFinalPhase(s.status?.phase)) continue;
      const inv = await invokerOf(this.#store, s);
      if (inv) consider(stashJobName('BackupSession', inv.namespace, inv.invokerName), s);
    }
    for (const s of (await this.#store.list('RestoreSession')) as AnySession[]) {
      if (isFinalPhase(s.status?.phase)) consider(stashJobName('RestoreSession', s.metadata.namespace, s.metadata.name), s);
    }
    for (const [job, s] of newest) {
      if (this.#pushed.get(job) === sessionKey(s) || this.#pushing.has(job)) continue;
      await this.#pushFinal(s);
    }
    for (const [group, entry] of this.#pendingDeletes) if (!entry.inFlight) void this.#runDelete(group, entry).catch(() => {});
  }

  /** Resolves when every queued operation has run (tests; shutdown). */
  async idle(): Promise<void> {
    await this.#calls;
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()]);
  }

  /** Waits up to timeoutMs for queued operations, then abandons the rest. */
  async stop(timeoutMs = 5000): Promise<void> {
    for (const p of this.#progress.values()) clearTimeout(p.timer);
    const timer = setTimeout(() => this.#stop.abort(), timeoutMs);
    try {
      await this.idle();
    } finally {
      clearTimeout(timer);
      this.#stop.abort();
    }
  }
}
