// Session lifecycle: Pending -> Running (claimed by an agent, under a lease) -> Succeeded,
// Failed or Cancelled (stopped on request: a cancel, its BackupConfiguration deleted). A Running session whose agent stops renewing the lease is failed (AGENT_LOST),
// one past its deadline is cancelled and then failed (SESSION_TIMEOUT): none stays Running.
// A Pending session that no online agent serves fails after the pending timeout (NO_AGENT,
// pending-outcome.ts); the sessions of a deleted BackupConfiguration end (endSessionsOf).
// Every terminal transition goes through #finish, which emits 'finished' and records the
// outcome on the BackupConfiguration's status (configuration-outcome.ts).
//
// Concurrency (resource-store.ts offers per-object compare-and-swap only): every status change
// is a write with the resourceVersion just read, re-read and re-decided on CONFLICT
// (retryOnConflict). A claim is the swap Pending -> Running: of two claimers exactly one wins,
// the other skips the session. What one object's version cannot protect, no two active
// sessions of one configuration and the claim queue's order, is guarded by one in-process
// mutex (#queue) around creating and claiming; across controller replicas it relies on only
// the leader creating and assigning sessions. Scheduled sessions have deterministic names
// (scheduled-name.ts), so that a scheduled run created twice conflicts on create.
import { EventEmitter } from 'node:events';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../../common/errors.ts';
import { freeName } from '../../common/generate-name.ts';
import type { Logger } from '../../common/log.ts';
import type { SessionAssignment, SessionProgress, SessionResult } from '../../common/protocol.ts';
import { DEFAULT_BACKUP_HISTORY_LIMIT } from '../resources/types.ts';
import type { BackupConfigurationSpec, BackupConfigurationStatus, BackupSessionSpec, Resource, RestoreSessionSpec, SessionPhase, SessionStatus } from '../resources/types.ts';
import type { AgentDirectory, AgentRecord } from '../store/agent-directory.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { isStaleVersion, retryOnConflict } from '../store/retry-on-conflict.ts';
import { backupAssignment, restoreAssignment } from './assignment.ts';
import { AsyncMutex } from '../../common/async-mutex.ts';
import { claimQueue } from './claim-queue.ts';
import { PendingSessions } from './pending-sessions.ts';
import { configurationStatusAfter } from './configuration-outcome.ts';
import { runningPercent } from './progress-percent.ts';
import { finishedStatus } from './finished-status.ts';
import { configurationOf, isSessionOf, sessionTarget } from './invoker-of.ts';
import { recordRepositoryBackup } from './repository-stats.ts';
import { withPendingReasons } from './pending-reasons.ts';
import { clearReadDataCheckPending, markReadDataCheckPending, recordRepositoryIntegrity } from './repository-integrity.ts';
import { sessionsBeyondHistory } from './session-history.ts';
import { derivedWriteDurability } from './finish-durability.ts';
import type { DerivedWrite } from './finish-durability.ts';
import { sweepPending, sweepRunning } from './session-sweeps.ts';
import { DELETED_CONFIGURATION_MESSAGE, resultAfterCancel } from './timeout-outcome.ts';

export type SessionKind = 'BackupSession' | 'RestoreSession';
export type Session = Resource<BackupSessionSpec | RestoreSessionSpec, SessionStatus>;
/** The resource store, and the sqlite agent directory beside it. */
export type SessionStore = ResourceStore & AgentDirectory;

export interface SessionManagerOptions {
  leaseMs: number;
  /** After a deadline, how long the agent gets to stop before the session is failed anyway. */
  cancelGraceMs?: number;
  /** How long a Pending session waits while no online agent serves its target (default 5 minutes). */
  pendingTimeoutMs?: number;
  now?: () => number;
}

export interface SessionEvents {
  /** An agent claimed the session (Pending -> Running). */
  started: [session: Session];
  finished: [session: Session];
  /** An agent's progress report was recorded. */
  progress: [session: Session];
}

export interface FinishOptions {
  /** When it ended, when that was before now (a backup an agent ran offline and reports later). */
  finishedAtMs?: number;
}

export class SessionManager extends EventEmitter<SessionEvents> {
  readonly store: SessionStore;
  readonly #log: Logger;
  readonly leaseMs: number;
  readonly graceMs: number;
  readonly pendingTimeoutMs: number;
  readonly now: () => number;
  /** Target "namespace/appbinding" -> the last sweep that saw an online agent serving it. */
  readonly servedAt = new Map<string, number>();
  /** When this manager (the controller process, or in Kubernetes mode its leadership) started: no agent could report to it before. */
  watchingSinceMs: number;
  /** Creating and claiming, one at a time in this process (see the header). */
  readonly #queue = new AsyncMutex();
  /** The Pending sessions by target, which claimNext searches (pending-sessions.ts). */
  readonly pending: PendingSessions;

  constructor(store: SessionStore, log: Logger, options: SessionManagerOptions) {
    super();
    this.store = store;
    this.#log = log;
    this.leaseMs = options.leaseMs;
    this.graceMs = options.cancelGraceMs ?? 60_000;
    this.pendingTimeoutMs = options.pendingTimeoutMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.watchingSinceMs = this.now();
    this.pending = new PendingSessions(store, { now: this.now });
  }

  #iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  /**
   * Writes a session's status with the version it was read at (CONFLICT, retryable, when stale);
   * relaxed: a write the agent's next report makes again (resource-store.ts Precondition.durability).
   */
  async #setStatus(s: Session, status: SessionStatus, durability?: 'relaxed'): Promise<Session> {
    return this.store.updateStatus({ ...s, status }, { ifVersion: s.metadata.resourceVersion!, ...(durability ? { durability } : {}) });
  }

  /** Runs `fn` under the lock that creating and claiming sessions take (offline runs: controller/offline/). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#queue.run(fn);
  }

  /** Reads the session and lets `decide` act on it; decided again on fresh state when another write came first. */
  withSession<T>(kind: SessionKind, ns: string, name: string, decide: (cur: Session | undefined) => Promise<T>): Promise<T> {
    return retryOnConflict(async () => decide((await this.store.get(kind, ns, name)) as Session | undefined));
  }

  /** Sessions of a kind, narrowed by namespace, phase and configuration (read so by the store: the history's finished sessions are not decoded). */
  async sessionsOf(kind: SessionKind, filter: { namespace?: string; phases?: readonly SessionPhase[]; invoker?: string } = {}): Promise<Session[]> {
    return (await this.store.list(kind, filter)) as Session[];
  }

  /**
   * Creates a BackupSession unless one of the configuration is Pending or Running (no overlap),
   * named `name` (CONFLICT when taken) or `<configuration>-<5 random characters>` (generate-name.ts).
   */
  createBackupSession(namespace: string, configName: string, trigger: 'schedule' | 'manual', name?: string): Promise<Session | undefined> {
    return this.#queue.run(async () => {
      const cfg = await this.store.get('BackupConfiguration', namespace, configName);
      // This configuration's sessions only (its history: backupHistoryLimit), not the namespace's.
      const mine = await this.sessionsOf('BackupSession', { namespace, invoker: configName });
      // A predecessor of the same name still running does not block this configuration.
      const active = mine.find((s) => (s.status?.phase === 'Pending' || s.status?.phase === 'Running') && (!cfg || isSessionOf(s, cfg)));
      if (active) return undefined;
      const taken = new Set(mine.map((s) => s.metadata.name));
      const exists = (n: string): SidestashError => new SidestashError(ErrorCodes.CONFLICT, `BackupSession ${namespace}/${n} already exists; choose another name or leave it out`);
      if (name !== undefined && (await this.store.exists('BackupSession', namespace, name))) throw exists(name);
      // A generated name another configuration's session holds (the store refuses the create) is chosen again.
      for (let attempt = 1; ; attempt++) {
        const chosen = name ?? freeName(`${configName}-`, (n) => taken.has(n));
        try {
          const saved = (await this.store.create({
            apiVersion: 'sidestash.io/v1',
            kind: 'BackupSession',
            metadata: { name: chosen, namespace, labels: { 'sidestash.io/invoker': configName }, creationTimestamp: this.#iso() },
            spec: { invoker: { kind: 'BackupConfiguration', name: configName, ...(cfg?.metadata.uid ? { uid: cfg.metadata.uid } : {}) }, trigger },
            status: { phase: 'Pending' },
          })) as Session;
          return saved;
        } catch (err) {
          // Created meanwhile by another writer (another replica's scheduled run, say).
          if (isSidestashError(err, ErrorCodes.CONFLICT) && !err.retryable) {
            if (name !== undefined || attempt >= 5) throw exists(chosen);
            taken.add(chosen);
            continue;
          }
          throw err;
        }
      }
    });
  }

  /** Claims the oldest Pending session for one of the agent's targets; undefined if none. */
  claimNext(agent: AgentRecord): Promise<SessionAssignment | undefined> {
    if (!this.pending.mayServe(agent.targets)) return Promise.resolve(undefined);
    return this.#queue.run(async () => {
      const pending = claimQueue(await this.pending.sessions(agent.targets));
      for (const s of pending) {
        const target = `${s.metadata.namespace}/${(await sessionTarget(this.store, s)) ?? ''}`;
        if (!agent.targets.includes(target)) continue;
        const now = this.now();
        let assignment: SessionAssignment;
        let status: SessionStatus;
        // A session whose resources are broken fails alone, with its reason; the others are still served.
        try {
          assignment = s.kind === 'BackupSession' ? await backupAssignment(this.store, s as Resource<BackupSessionSpec, unknown>, now) : await restoreAssignment(this.store, s as Resource<RestoreSessionSpec, unknown>, now);
          status = { phase: 'Running', agent: agent.name, startedAt: this.#iso(now), leaseExpiresAt: this.#iso(now + this.leaseMs) };
          if (assignment.deadlineMs !== undefined) status.deadline = this.#iso(assignment.deadlineMs);
        } catch (err) {
          await this.#unlessChanged(this.finish(s, { phase: 'Failed', error: { code: (err as SidestashError).code ?? ErrorCodes.INVALID_CONFIG, message: errorMessage(err) } }));
          continue;
        }
        // The swap Pending -> Running: a session changed since it was read (claimed, cancelled) is skipped.
        const claimed = await this.#unlessChanged(this.#setStatus(s, status));
        if (!claimed) continue;
        this.emit('started', claimed);
        // Advisory (a missing marker costs at most one more data read): never the claim's failure, which would strand the session Running.
        if (assignment.kind === 'BackupSession' && assignment.integrityCheck?.readDataSubset !== undefined) {
          await markReadDataCheckPending(this.store, s.metadata.namespace, assignment.repositoryName, s.metadata.name, this.#iso(now)).catch((err: unknown) => this.#log.warn('could not mark the read-data check pending', { session: `${s.metadata.namespace}/${s.metadata.name}`, err: errorMessage(err) }));
        }
        this.#log.info('session assigned', { kind: s.kind, session: `${s.metadata.namespace}/${s.metadata.name}`, agent: agent.name });
        return assignment;
      }
      return undefined;
    });
  }

  /** `write`'s result, or undefined when the object changed or went since it was read. */
  async #unlessChanged<T>(write: Promise<T>): Promise<T | undefined> {
    try {
      return await write;
    } catch (err) {
      if (isStaleVersion(err) || isSidestashError(err, ErrorCodes.NOT_FOUND)) return undefined;
      throw err;
    }
  }

  #checkRunning(cur: Session | undefined, kind: SessionKind, ns: string, name: string, agent: string): Session {
    if (!cur) throw new SidestashError(ErrorCodes.NOT_FOUND, `${kind} ${ns}/${name} not found`);
    if (cur.status?.agent !== agent) throw new SidestashError(ErrorCodes.FORBIDDEN, `${kind} ${ns}/${name} is not assigned to agent ${agent}`);
    if (cur.status.phase !== 'Running') throw new SidestashError(ErrorCodes.CONFLICT, `${kind} ${ns}/${name} is ${cur.status.phase}, not Running`);
    return cur;
  }

  /** The session, if it is Running and assigned to `agent`: else NOT_FOUND, FORBIDDEN or CONFLICT. */
  async runningSession(kind: SessionKind, ns: string, name: string, agent: string): Promise<Session> {
    return this.#checkRunning((await this.store.get(kind, ns, name)) as Session | undefined, kind, ns, name, agent);
  }

  /** Renews the lease of a Running session of `agent` (its result could not be checked yet, and will come again). */
  async renewLease(kind: SessionKind, ns: string, name: string, agent: string): Promise<void> {
    await this.withSession(kind, ns, name, async (cur) => {
      const s = this.#checkRunning(cur, kind, ns, name, agent);
      return this.#setStatus(s, { ...s.status!, leaseExpiresAt: this.#iso(this.now() + this.leaseMs) }, 'relaxed');
    });
  }

  /** Records progress and renews the lease; returns whether the agent should cancel. */
  async progress(kind: SessionKind, ns: string, name: string, agent: string, p: SessionProgress): Promise<{ cancel: boolean }> {
    const saved = await this.withSession(kind, ns, name, async (cur) => {
      const s = this.#checkRunning(cur, kind, ns, name, agent);
      const now = this.now();
      const percent = runningPercent(p);
      // Relaxed: lost with the power, the next report (every few seconds) writes it again.
      return this.#setStatus(s, { ...s.status!, leaseExpiresAt: this.#iso(now + this.leaseMs), progress: { ...p, updatedAt: this.#iso(now), ...(percent === undefined ? {} : { percent }) } }, 'relaxed');
    });
    this.emit('progress', saved);
    return { cancel: saved.status?.cancelRequested === true };
  }

  complete(kind: SessionKind, ns: string, name: string, agent: string, result: SessionResult, options: FinishOptions = {}): Promise<Session> {
    return this.withSession(kind, ns, name, async (cur) => {
      const s = this.#checkRunning(cur, kind, ns, name, agent);
      return this.finish(s, resultAfterCancel(s.status!, result), options);
    });
  }

  /**
   * Ends session `s` (as read, at its version: CONFLICT, retryable, when it changed since) with
   * `result`; then records it on its Repository and BackupConfiguration and prunes the history.
   */
  async finish(s: Session, result: SessionResult, options: FinishOptions = {}): Promise<Session> {
    const now = options.finishedAtMs ?? this.now();
    const saved = await this.#setStatus(s, finishedStatus(s.status, s.kind, result, now));
    this.#log.info('session finished', { kind: s.kind, session: `${s.metadata.namespace}/${s.metadata.name}`, phase: result.phase, error: result.error });
    if (s.kind === 'BackupSession') {
      // The outcome is stored; what follows derives from it, each a write of its own that fails
      // alone. The configuration's outcome is also replayed by every sweep (replayUnrecordedOutcomes),
      // so a failure here or a crash right after the session's write loses none of it.
      // Synced writes first, then the relaxed ones, the configuration's before the prune that
      // could delete the session it records: finish-durability.ts says which and why.
      const session = `${s.metadata.namespace}/${s.metadata.name}`;
      const durability = (write: DerivedWrite): 'relaxed' | undefined => derivedWriteDurability(write, { integrityOk: saved.status?.integrity?.ok });
      const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn();
        } catch (err) {
          this.#log.error(`session finished, but ${what} failed`, { session, err: errorMessage(err) });
        }
      };
      await step('clearing its read-data marker', () => clearReadDataCheckPending(this.store, s.metadata.namespace, s.metadata.name));
      if (saved.status?.integrity !== undefined) await step('recording its integrity check on the Repository', () => recordRepositoryIntegrity(this.store, s as Resource<BackupSessionSpec, unknown>, saved.status!.integrity!, this.#iso(now), durability('integrity')));
      await step('recording it on its Repository', () => recordRepositoryBackup(this.store, saved as Resource<BackupSessionSpec, SessionStatus>, durability('repositoryBackup')));
      await step('recording it on its BackupConfiguration', () => this.#recordOnConfiguration(saved, durability('configuration')));
      await step('pruning the session history', () => this.#pruneHistory(s.metadata.namespace, (s.spec as BackupSessionSpec).invoker.name, durability('prune')));
    }
    this.emit('finished', saved);
    return saved;
  }

  /** The sessions among `items`, Pending ones with status.reason and status.message saying why they wait (pending-reasons.ts). */
  withPendingReasons<T extends Resource>(items: readonly T[]): Promise<T[]> {
    return withPendingReasons(items, { store: this.store, agents: this.store, nowMs: this.now(), onlineMs: this.leaseMs });
  }

  /** Asks a session to stop: Pending ones fail at once, Running ones when the agent hears of it. */
  cancel(kind: SessionKind, ns: string, name: string): Promise<Session> {
    return this.withSession(kind, ns, name, async (s) => {
      if (!s) throw new SidestashError(ErrorCodes.NOT_FOUND, `${kind} ${ns}/${name} not found`);
      if (s.status?.phase === 'Pending') return this.finish(s, { phase: 'Cancelled', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'cancelled before it started' } });
      if (s.status?.phase !== 'Running') throw new SidestashError(ErrorCodes.CONFLICT, `${kind} ${ns}/${name} has already finished`);
      return this.requestCancel(s, s.status.cancelReason ?? 'requested');
    });
  }

  /** Asks the agent of Running session `s` (as read: CONFLICT, retryable, when it changed) to stop. */
  requestCancel(s: Session, reason: NonNullable<SessionStatus['cancelReason']>): Promise<Session> {
    return this.#setStatus(s, { ...s.status!, cancelRequested: true, cancelReason: reason });
  }

  async #recordOnConfiguration(s: Session, durability?: 'relaxed'): Promise<void> {
    await retryOnConflict(async () => {
      const cfg = await configurationOf<BackupConfigurationStatus>(this.store, s);
      // Once per session: a replay (replayUnrecordedOutcomes) or a retry does not count it twice.
      // A session that ended without running and was then taken over by an agent's offline run
      // of its scheduled time (controller/offline/) counts again when its phase changed.
      if (cfg && (cfg.status?.lastFinishedSession !== s.metadata.name || cfg.status.lastFinishedPhase !== s.status?.phase)) await this.store.updateStatus({ ...cfg, status: configurationStatusAfter(cfg.status, { name: s.metadata.name, status: s.status! }) }, { ifVersion: cfg.metadata.resourceVersion!, ...(durability ? { durability } : {}) });
    });
  }

  /**
   * A BackupConfiguration was deleted: its Pending sessions end Cancelled at once (SESSION_CANCELLED),
   * its Running ones are asked to stop (cancelReason 'deleted'; they end Cancelled too).
   */
  async endSessionsOf(ns: string, configName: string): Promise<void> {
    for (const s of await this.sessionsOf('BackupSession', { namespace: ns, invoker: configName, phases: ['Pending', 'Running'] })) {
      await this.withSession('BackupSession', ns, s.metadata.name, async (cur) => {
        if (cur?.status?.phase === 'Pending') await this.finish(cur, { phase: 'Cancelled', error: { code: ErrorCodes.SESSION_CANCELLED, message: `${DELETED_CONFIGURATION_MESSAGE} before the session started` } });
        else if (cur?.status?.phase === 'Running' && !cur.status.cancelRequested) await this.requestCancel(cur, 'deleted');
      });
    }
  }

  /** Fails sessions whose agent is gone, whose deadline passed, or that no agent serves. Called periodically. */
  async sweep(): Promise<void> {
    const now = this.now();
    await sweepRunning(this, now);
    await sweepPending(this, now);
  }

  /** An agent (re)registered or stopped: whatever it was running is lost. */
  async failSessionsOfAgent(agent: string, reason: string): Promise<void> {
    for (const kind of ['BackupSession', 'RestoreSession'] as const) {
      for (const s of await this.sessionsOf(kind, { phases: ['Running'] })) {
        if (s.status?.agent !== agent) continue;
        await this.withSession(kind, s.metadata.namespace, s.metadata.name, async (cur) => {
          if (cur?.status?.phase === 'Running' && cur.status.agent === agent) await this.finish(cur, { phase: 'Failed', error: { code: ErrorCodes.AGENT_LOST, message: reason } });
        });
      }
    }
  }

  async #pruneHistory(ns: string, configName: string, durability?: 'relaxed'): Promise<void> {
    const cfg = await this.store.get<BackupConfigurationSpec, unknown>('BackupConfiguration', ns, configName);
    const mine = await this.sessionsOf('BackupSession', { namespace: ns, invoker: configName });
    for (const s of sessionsBeyondHistory(mine, cfg?.spec.backupHistoryLimit ?? DEFAULT_BACKUP_HISTORY_LIMIT)) await this.store.delete('BackupSession', ns, s.metadata.name, durability ? { durability } : {});
  }
}
