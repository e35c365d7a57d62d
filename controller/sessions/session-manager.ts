// Session lifecycle: Pending -> Running (claimed by an agent, under a lease) -> Succeeded,
// Failed or Cancelled (stopped on request: a cancel, its BackupConfiguration deleted). A Running session whose agent stops renewing the lease is failed (AGENT_LOST),
// one past its deadline is cancelled and then failed (SESSION_TIMEOUT): none stays Running.
// A Pending session that no online agent serves fails after the pending timeout (NO_AGENT,
// pending-outcome.ts); the sessions of a deleted BackupConfiguration end (endSessionsOf).
// Every terminal transition goes through #finish, which emits 'finished' and records the
// outcome on the BackupConfiguration's status (configuration-outcome.ts).
import { EventEmitter } from 'node:events';
import { ErrorCodes, SidestashError, errorMessage } from '../../common/errors.ts';
import { freeName } from '../../common/generate-name.ts';
import type { Logger } from '../../common/log.ts';
import { isFinalPhase } from '../../common/protocol.ts';
import type { SessionAssignment, SessionProgress, SessionResult } from '../../common/protocol.ts';
import { DEFAULT_BACKUP_HISTORY_LIMIT } from '../resources/types.ts';
import type { BackupConfigurationSpec, BackupConfigurationStatus, BackupSessionSpec, Resource, RestoreSessionSpec, SessionStatus } from '../resources/types.ts';
import type { AgentRecord, Store } from '../store/store.ts';
import { backupAssignment, restoreAssignment } from './assignment.ts';
import { configurationStatusAfter } from './configuration-outcome.ts';
import { configurationOf, isSessionOf } from './invoker-of.ts';
import { recordRepositoryBackup } from './repository-stats.ts';
import { pendingOutcome } from './pending-outcome.ts';
import { pendingReason } from './pending-reason.ts';
import { clearReadDataCheckPending, markReadDataCheckPending, recordRepositoryIntegrity } from './repository-integrity.ts';
import { suspiciousShrinkOf } from './suspicious-shrink.ts';
import { DELETED_CONFIGURATION_MESSAGE, resultAfterCancel } from './timeout-outcome.ts';
import { isAgentOnline } from '../agents/agent-online.ts';

export type SessionKind = 'BackupSession' | 'RestoreSession';
type Session = Resource<BackupSessionSpec | RestoreSessionSpec, SessionStatus>;

export interface SessionManagerOptions {
  leaseMs: number;
  /** After a deadline, how long the agent gets to stop before the session is failed anyway. */
  cancelGraceMs?: number;
  /** How long a Pending session waits while no online agent serves its target (default 5 minutes). */
  pendingTimeoutMs?: number;
  now?: () => number;
}

export interface SessionEvents {
  finished: [session: Session];
  /** An agent's progress report was recorded. */
  progress: [session: Session];
  changed: [];
}

export class SessionManager extends EventEmitter<SessionEvents> {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #leaseMs: number;
  readonly #graceMs: number;
  readonly #pendingTimeoutMs: number;
  readonly #now: () => number;
  /** Target "namespace/appbinding" -> the last sweep that saw an online agent serving it. */
  readonly #servedAt = new Map<string, number>();
  /** When this manager (the controller process) started: no agent could report before. */
  readonly #watchingSinceMs: number;

  constructor(store: Store, log: Logger, options: SessionManagerOptions) {
    super();
    this.#store = store;
    this.#log = log;
    this.#leaseMs = options.leaseMs;
    this.#graceMs = options.cancelGraceMs ?? 60_000;
    this.#pendingTimeoutMs = options.pendingTimeoutMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
    this.#watchingSinceMs = this.#now();
  }

  #iso(ms = this.#now()): string {
    return new Date(ms).toISOString();
  }

  #save(s: Session): Session {
    const stored = this.#store.put(s);
    this.emit('changed');
    return stored;
  }

  #sessionsOf(kind: SessionKind): Session[] {
    return this.#store.list(kind) as Session[];
  }

  /**
   * Creates a BackupSession unless one of the configuration is Pending or Running (no overlap),
   * named `name` (CONFLICT when taken) or `<configuration>-<5 random characters>` (generate-name.ts).
   */
  createBackupSession(namespace: string, configName: string, trigger: 'schedule' | 'manual', name?: string): Session | undefined {
    return this.#store.transaction(() => {
      const cfg = this.#store.get('BackupConfiguration', namespace, configName);
      // A predecessor of the same name still running does not block this configuration.
      const active = this.#sessionsOf('BackupSession').find(
        (s) => s.metadata.namespace === namespace && (s.spec as BackupSessionSpec).invoker.name === configName && (s.status?.phase === 'Pending' || s.status?.phase === 'Running') && (!cfg || isSessionOf(s, cfg)),
      );
      if (active) return undefined;
      const taken = (n: string): boolean => this.#store.get('BackupSession', namespace, n) !== undefined;
      if (name !== undefined && taken(name)) throw new SidestashError(ErrorCodes.CONFLICT, `BackupSession ${namespace}/${name} already exists; choose another name or leave it out`);
      return this.#save({
        apiVersion: 'sidestash.io/v1',
        kind: 'BackupSession',
        metadata: { name: name ?? freeName(`${configName}-`, taken), namespace, labels: { 'sidestash.io/invoker': configName }, creationTimestamp: this.#iso() },
        spec: { invoker: { kind: 'BackupConfiguration', name: configName, ...(cfg?.metadata.uid ? { uid: cfg.metadata.uid } : {}) }, trigger },
        status: { phase: 'Pending' },
      });
    });
  }

  /** Claims the oldest Pending session for one of the agent's targets; undefined if none. */
  claimNext(agent: AgentRecord): SessionAssignment | undefined {
    return this.#store.transaction(() => {
      const pending = [...this.#sessionsOf('BackupSession'), ...this.#sessionsOf('RestoreSession')]
        .filter((s) => s.status?.phase === 'Pending')
        .sort((a, b) => (a.metadata.resourceVersion ?? 0) - (b.metadata.resourceVersion ?? 0));
      for (const s of pending) {
        const target = `${s.metadata.namespace}/${this.#resolvedTarget(s) ?? ''}`;
        if (!agent.targets.includes(target)) continue;
        const now = this.#now();
        let assignment: SessionAssignment;
        let status: SessionStatus;
        // A session whose resources are broken fails alone, with its reason; the others are still served.
        try {
          assignment = s.kind === 'BackupSession' ? backupAssignment(this.#store, s as Resource<BackupSessionSpec, unknown>, now) : restoreAssignment(this.#store, s as Resource<RestoreSessionSpec, unknown>, now);
          status = { phase: 'Running', agent: agent.name, startedAt: this.#iso(now), leaseExpiresAt: this.#iso(now + this.#leaseMs) };
          if (assignment.deadlineMs !== undefined) status.deadline = this.#iso(assignment.deadlineMs);
        } catch (err) {
          this.#finish(s, { phase: 'Failed', error: { code: (err as SidestashError).code ?? ErrorCodes.INVALID_CONFIG, message: errorMessage(err) } });
          continue;
        }
        this.#save({ ...s, status });
        if (assignment.kind === 'BackupSession' && assignment.integrityCheck?.readDataSubset !== undefined) markReadDataCheckPending(this.#store, s.metadata.namespace, assignment.repositoryName, s.metadata.name, this.#iso(now));
        this.#log.info('session assigned', { kind: s.kind, session: `${s.metadata.namespace}/${s.metadata.name}`, agent: agent.name });
        return assignment;
      }
      return undefined;
    });
  }

  /** The session's AppBinding name; undefined when its BackupConfiguration does not exist. */
  #resolvedTarget(s: Session): string | undefined {
    if (s.kind === 'RestoreSession') return (s.spec as RestoreSessionSpec).target.ref.name;
    return configurationOf(this.#store, s)?.spec.target.ref.name;
  }

  #running(kind: SessionKind, ns: string, name: string, agent: string): Session {
    const s = this.#store.get(kind, ns, name) as Session | undefined;
    if (!s) throw new SidestashError(ErrorCodes.NOT_FOUND, `${kind} ${ns}/${name} not found`);
    if (s.status?.agent !== agent) throw new SidestashError(ErrorCodes.FORBIDDEN, `${kind} ${ns}/${name} is not assigned to agent ${agent}`);
    if (s.status.phase !== 'Running') throw new SidestashError(ErrorCodes.CONFLICT, `${kind} ${ns}/${name} is ${s.status.phase}, not Running`);
    return s;
  }

  /** The session, if it is Running and assigned to `agent`: else NOT_FOUND, FORBIDDEN or CONFLICT. */
  runningSession(kind: SessionKind, ns: string, name: string, agent: string): Session {
    return this.#running(kind, ns, name, agent);
  }

  /** Renews the lease of a Running session of `agent` (its result could not be checked yet, and will come again). */
  renewLease(kind: SessionKind, ns: string, name: string, agent: string): void {
    this.#store.transaction(() => {
      const s = this.#running(kind, ns, name, agent);
      this.#save({ ...s, status: { ...s.status!, leaseExpiresAt: this.#iso(this.#now() + this.#leaseMs) } });
    });
  }

  /** Records progress and renews the lease; returns whether the agent should cancel. */
  progress(kind: SessionKind, ns: string, name: string, agent: string, p: SessionProgress): { cancel: boolean } {
    return this.#store.transaction(() => {
      const s = this.#running(kind, ns, name, agent);
      const now = this.#now();
      const status: SessionStatus = { ...s.status!, leaseExpiresAt: this.#iso(now + this.#leaseMs), progress: { ...p, updatedAt: this.#iso(now) } };
      this.emit('progress', this.#save({ ...s, status }));
      return { cancel: status.cancelRequested === true };
    });
  }

  complete(kind: SessionKind, ns: string, name: string, agent: string, result: SessionResult): Session {
    return this.#store.transaction(() => {
      const s = this.#running(kind, ns, name, agent);
      return this.#finish(s, resultAfterCancel(s.status!, result));
    });
  }

  #finish(s: Session, result: SessionResult): Session {
    const now = this.#now();
    const status: SessionStatus = { ...(s.status ?? { phase: 'Pending' }), phase: result.phase, finishedAt: this.#iso(now) };
    delete status.leaseExpiresAt;
    if (status.startedAt) status.durationSeconds = result.durationSeconds ?? (now - Date.parse(status.startedAt)) / 1000;
    if (result.snapshotId !== undefined) status.snapshotId = result.snapshotId;
    if (result.bytesRead !== undefined) status.bytesRead = result.bytesRead;
    if (result.bytesStored !== undefined) status.bytesStored = result.bytesStored;
    if (result.retention !== undefined) status.retention = result.retention;
    if (result.repositoryStats !== undefined) status.repositoryStats = result.repositoryStats;
    if (result.error !== undefined) status.error = result.error;
    if (result.processingSeconds !== undefined) status.processingSeconds = result.processingSeconds;
    if (result.files !== undefined) status.files = result.files;
    const shrink = suspiciousShrinkOf(result);
    if (shrink) status.suspiciousShrink = shrink;
    if (s.kind === 'BackupSession') clearReadDataCheckPending(this.#store, s.metadata.namespace, s.metadata.name);
    if (result.integrity !== undefined && result.phase === 'Succeeded' && s.kind === 'BackupSession') {
      status.integrity = result.integrity;
      recordRepositoryIntegrity(this.#store, s as Resource<BackupSessionSpec, unknown>, result.integrity, this.#iso(now));
    }
    const saved = this.#save({ ...s, status });
    this.#log.info('session finished', { kind: s.kind, session: `${s.metadata.namespace}/${s.metadata.name}`, phase: result.phase, error: result.error });
    if (s.kind === 'BackupSession') {
      recordRepositoryBackup(this.#store, saved as Resource<BackupSessionSpec, SessionStatus>);
      this.#recordOnConfiguration(saved);
      this.#pruneHistory(s.metadata.namespace, (s.spec as BackupSessionSpec).invoker.name);
    }
    this.emit('finished', saved);
    return saved;
  }

  /**
   * The sessions among `items`, Pending ones with status.reason and status.message saying why
   * they wait (pending-reason.ts), computed from the store now; nothing is written.
   */
  withPendingReasons<T extends Resource>(items: readonly T[]): T[] {
    if (!items.some((r) => (r.kind === 'BackupSession' || r.kind === 'RestoreSession') && (r.status as SessionStatus | undefined)?.phase === 'Pending')) return [...items];
    const agents = this.#store.listAgents();
    const all = [...this.#sessionsOf('BackupSession'), ...this.#sessionsOf('RestoreSession')];
    const refOf = (s: Session) => ({ kind: s.kind as SessionKind, namespace: s.metadata.namespace, name: s.metadata.name });
    const running = all.filter((s) => s.status?.phase === 'Running' && s.status.agent !== undefined).map((s) => ({ ...refOf(s), agent: s.status!.agent! }));
    // The claim queue: oldest resourceVersion first (claimNext).
    const pending = all.filter((s) => s.status?.phase === 'Pending').sort((a, b) => (a.metadata.resourceVersion ?? 0) - (b.metadata.resourceVersion ?? 0)).map((s) => ({ s, target: this.#resolvedTarget(s) }));
    const now = this.#now();
    return items.map((r) => {
      if (r.kind !== 'BackupSession' && r.kind !== 'RestoreSession') return r;
      const s = r as unknown as Session;
      if (s.status?.phase !== 'Pending') return r;
      const appBinding = this.#resolvedTarget(s);
      const mine = pending.findIndex((p) => p.s.kind === s.kind && p.s.metadata.namespace === s.metadata.namespace && p.s.metadata.name === s.metadata.name);
      const ahead = pending.slice(0, Math.max(mine, 0)).filter((p) => p.target !== undefined && p.target === appBinding && p.s.metadata.namespace === s.metadata.namespace).map((p) => refOf(p.s));
      const why = pendingReason({
        target: appBinding === undefined ? undefined : `${s.metadata.namespace}/${appBinding}`,
        ...(appBinding === undefined ? { missing: `BackupConfiguration ${s.metadata.namespace}/${(s.spec as BackupSessionSpec).invoker.name}` } : {}),
        agents, running, ahead, nowMs: now, onlineMs: this.#leaseMs,
      });
      return { ...r, status: { ...s.status, reason: why.reason, message: why.message } };
    });
  }

  /** Asks a session to stop: Pending ones fail at once, Running ones when the agent hears of it. */
  cancel(kind: SessionKind, ns: string, name: string): Session {
    return this.#store.transaction(() => {
      const s = this.#store.get(kind, ns, name) as Session | undefined;
      if (!s) throw new SidestashError(ErrorCodes.NOT_FOUND, `${kind} ${ns}/${name} not found`);
      if (s.status?.phase === 'Pending') return this.#finish(s, { phase: 'Cancelled', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'cancelled before it started' } });
      if (s.status?.phase !== 'Running') throw new SidestashError(ErrorCodes.CONFLICT, `${kind} ${ns}/${name} has already finished`);
      return this.#save({ ...s, status: { ...s.status, cancelRequested: true, cancelReason: s.status.cancelReason ?? 'requested' } });
    });
  }

  #recordOnConfiguration(s: Session): void {
    const cfg = configurationOf<BackupConfigurationStatus>(this.#store, s);
    if (cfg) this.#store.put({ ...cfg, status: configurationStatusAfter(cfg.status, { name: s.metadata.name, status: s.status! }) });
  }

  /**
   * A BackupConfiguration was deleted: its Pending sessions end Cancelled at once (SESSION_CANCELLED),
   * its Running ones are asked to stop (cancelReason 'deleted'; they end Cancelled too).
   */
  endSessionsOf(ns: string, configName: string): void {
    for (const s of this.#sessionsOf('BackupSession')) {
      if (s.metadata.namespace !== ns || (s.spec as BackupSessionSpec).invoker.name !== configName) continue;
      this.#store.transaction(() => {
        const cur = this.#store.get('BackupSession', ns, s.metadata.name) as Session | undefined;
        if (cur?.status?.phase === 'Pending') this.#finish(cur, { phase: 'Cancelled', error: { code: ErrorCodes.SESSION_CANCELLED, message: `${DELETED_CONFIGURATION_MESSAGE} before the session started` } });
        else if (cur?.status?.phase === 'Running' && !cur.status.cancelRequested) this.#save({ ...cur, status: { ...cur.status, cancelRequested: true, cancelReason: 'deleted' } });
      });
    }
  }

  /** Fails Pending sessions no online agent serves (pending-outcome.ts). */
  #sweepPending(now: number): void {
    const agents = this.#store.listAgents();
    for (const a of agents) if (isAgentOnline(a, now, this.#leaseMs)) for (const t of a.targets) this.#servedAt.set(t, now);
    for (const kind of ['BackupSession', 'RestoreSession'] as const) {
      for (const s of this.#sessionsOf(kind)) {
        if (s.status?.phase !== 'Pending') continue;
        const appBinding = this.#resolvedTarget(s);
        const target = appBinding === undefined ? undefined : `${s.metadata.namespace}/${appBinding}`;
        const createdAtMs = Date.parse(s.metadata.creationTimestamp ?? '');
        const remembered = target === undefined ? undefined : this.#servedAt.get(target);
        const outcome = pendingOutcome({
          target, createdAtMs: Number.isFinite(createdAtMs) ? createdAtMs : 0, watchingSinceMs: this.#watchingSinceMs, agents, nowMs: now, onlineMs: this.#leaseMs, timeoutMs: this.#pendingTimeoutMs,
          ...(remembered === undefined ? {} : { rememberedServedAtMs: remembered }),
          ...(target === undefined ? { missing: `BackupConfiguration ${s.metadata.namespace}/${(s.spec as BackupSessionSpec).invoker.name}` } : {}),
        });
        if (outcome.action !== 'fail') continue;
        this.#store.transaction(() => {
          const cur = this.#store.get(kind, s.metadata.namespace, s.metadata.name) as Session | undefined;
          if (cur?.status?.phase === 'Pending') this.#finish(cur, { phase: 'Failed', error: outcome.error });
        });
      }
    }
  }

  /** Fails sessions whose agent is gone, whose deadline passed, or that no agent serves. Called periodically. */
  sweep(): void {
    const now = this.#now();
    for (const kind of ['BackupSession', 'RestoreSession'] as const) {
      for (const s of this.#sessionsOf(kind)) {
        if (s.status?.phase !== 'Running') continue;
        this.#store.transaction(() => {
          const cur = this.#store.get(kind, s.metadata.namespace, s.metadata.name) as Session | undefined;
          if (cur?.status?.phase !== 'Running') return;
          const st = cur.status;
          if (st.leaseExpiresAt && Date.parse(st.leaseExpiresAt) < now) {
            this.#finish(cur, { phase: 'Failed', error: { code: ErrorCodes.AGENT_LOST, message: `agent ${st.agent ?? '?'} stopped reporting (lease expired at ${st.leaseExpiresAt})` } });
          } else if (st.deadline && Date.parse(st.deadline) < now) {
            if (Date.parse(st.deadline) + this.#graceMs < now) {
              this.#finish(cur, { phase: 'Failed', error: { code: ErrorCodes.SESSION_TIMEOUT, message: `session did not finish before its deadline ${st.deadline}` } });
            } else if (!st.cancelRequested) {
              this.#save({ ...cur, status: { ...st, cancelRequested: true, cancelReason: 'timeout' } });
            }
          }
        });
      }
    }
    this.#sweepPending(now);
  }

  /** An agent (re)registered: whatever it was running is lost. */
  failSessionsOfAgent(agent: string, reason: string): void {
    for (const kind of ['BackupSession', 'RestoreSession'] as const) {
      for (const s of this.#sessionsOf(kind)) {
        if (s.status?.phase === 'Running' && s.status.agent === agent) {
          this.#store.transaction(() => this.#finish(s, { phase: 'Failed', error: { code: ErrorCodes.AGENT_LOST, message: reason } }));
        }
      }
    }
  }

  #pruneHistory(ns: string, configName: string): void {
    const cfg = this.#store.get<BackupConfigurationSpec, unknown>('BackupConfiguration', ns, configName);
    const limit = cfg?.spec.backupHistoryLimit ?? DEFAULT_BACKUP_HISTORY_LIMIT;
    const finished = this.#sessionsOf('BackupSession')
      .filter((s) => s.metadata.namespace === ns && (s.spec as BackupSessionSpec).invoker.name === configName && isFinalPhase(s.status?.phase))
      .sort((a, b) => (b.metadata.resourceVersion ?? 0) - (a.metadata.resourceVersion ?? 0));
    for (const s of finished.slice(limit)) this.#store.delete('BackupSession', ns, s.metadata.name);
  }
}
