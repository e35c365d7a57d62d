// The Pending sessions and the target each is for, kept from the store's change feed, so that an
// agent's long-poll costs what the Pending sessions of its own targets cost: claimNext read every
// session of every kind on every poll, every second and at every write, and every write woke
// every poll (a fleet of 2,000 agents, each configuration keeping its history, made that millions
// of documents parsed a second). Now a poll wakes only when a session of one of its targets
// becomes claimable (onClaimable), and claimNext reads only the Pending sessions that may be its.
//
// What is kept only narrows the search; claimNext still reads each candidate and decides on it as
// before. A BackupSession's target comes from its configuration, read after the session arrives:
// until then it is a candidate for every agent. A configuration changed while a session of it
// waits is read again; the whole picture is read again from the store every maxAgeMs (a change
// feed that missed an event, as a Kubernetes watch may across a re-list, delays a claim by at
// most that long, never makes one wrong).
import type { BackupSessionSpec, Resource, RestoreSessionSpec, SessionStatus } from '../resources/types.ts';
import type { ResourceEvent, ResourceStore } from '../store/resource-store.ts';
import { sessionTarget } from './invoker-of.ts';

type Session = Resource<BackupSessionSpec | RestoreSessionSpec, SessionStatus>;

interface Entry {
  kind: 'BackupSession' | 'RestoreSession';
  namespace: string;
  name: string;
  /** The BackupConfiguration of a BackupSession. */
  invoker: string | undefined;
  /** "namespace/appbinding"; undefined while it is being read; null when there is none (no configuration). */
  target: string | null | undefined;
  /** Counts reads of the target, so that only the latest one is kept. */
  reads: number;
}

const SESSION_KINDS = ['BackupSession', 'RestoreSession'] as const;

export class PendingSessions {
  readonly #store: ResourceStore;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(target: string | undefined) => void>();
  #readAtMs = -Infinity;

  constructor(store: ResourceStore, options: { maxAgeMs?: number; now?: () => number } = {}) {
    this.#store = store;
    this.#maxAgeMs = options.maxAgeMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    store.watch((e) => this.#changed(e));
  }

  /** Calls `fn` with a target when a session of it may have become claimable (undefined: any target's). */
  onClaimable(fn: (target: string | undefined) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #claimable(target: string | undefined): void {
    for (const fn of [...this.#listeners]) fn(target);
  }

  #stale(): boolean {
    return this.#now() - this.#readAtMs >= this.#maxAgeMs;
  }

  /** Whether a Pending session may be for one of `targets` (true when unsure). */
  mayServe(targets: readonly string[]): boolean {
    if (this.#stale()) return true;
    for (const e of this.#entries.values()) if (e.target === undefined || (e.target !== null && targets.includes(e.target))) return true;
    return false;
  }

  /** The Pending sessions that may be for one of `targets`, as stored now. */
  async sessions(targets: readonly string[]): Promise<Session[]> {
    if (this.#stale()) await this.#readAll();
    const out: Session[] = [];
    for (const e of [...this.#entries.values()]) {
      if (e.target === null || (e.target !== undefined && !targets.includes(e.target))) continue;
      const s = (await this.#store.get(e.kind, e.namespace, e.name)) as Session | undefined;
      if (s?.status?.phase === 'Pending') out.push(s);
    }
    return out;
  }

  async #readAll(): Promise<void> {
    const readAtMs = this.#now();
    const all = (await Promise.all(SESSION_KINDS.map((k) => this.#store.list<BackupSessionSpec | RestoreSessionSpec, SessionStatus>(k)))).flat();
    this.#entries.clear();
    for (const s of all) if (s.status?.phase === 'Pending') this.#add(s);
    this.#readAtMs = readAtMs;
  }

  #changed(e: ResourceEvent): void {
    const r = e.resource as Session;
    if (r.kind === 'BackupSession' || r.kind === 'RestoreSession') {
      const key = `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
      if (e.type !== 'DELETED' && r.status?.phase === 'Pending') {
        if (!this.#entries.has(key)) this.#add(r);
      } else {
        this.#entries.delete(key);
      }
    } else if (r.kind === 'BackupConfiguration') {
      // Its waiting sessions' target may have changed.
      for (const entry of this.#entries.values()) if (entry.invoker === r.metadata.name && entry.namespace === r.metadata.namespace) this.#readTarget(entry, r.metadata.namespace);
    }
  }

  #add(s: Session): void {
    const { namespace, name } = s.metadata;
    const invoker = s.kind === 'BackupSession' ? (s.spec as BackupSessionSpec).invoker?.name : undefined;
    const entry: Entry = { kind: s.kind as Entry['kind'], namespace, name, invoker, target: undefined, reads: 0 };
    this.#entries.set(`${s.kind}/${namespace}/${name}`, entry);
    this.#readTarget(entry, namespace, s);
  }

  /** Reads the entry's target (a RestoreSession names it; a BackupSession's configuration does), then says it is claimable. */
  #readTarget(entry: Entry, namespace: string, session?: Session): void {
    const read = ++entry.reads;
    entry.target = undefined;
    void (async () => {
      const s = session ?? ((await this.#store.get(entry.kind, namespace, entry.name)) as Session | undefined);
      return s ? sessionTarget(this.#store, s) : undefined;
    })().then(
      (t) => {
        if (entry.reads !== read) return;
        entry.target = t === undefined ? null : `${namespace}/${t}`;
        if (entry.target !== null) this.#claimable(entry.target);
      },
      () => {
        // Unread: a candidate for every agent until the next full read.
        if (entry.reads === read) this.#claimable(undefined);
      },
    );
  }
}
