// Edge autonomy (issue 15): while the controller cannot be reached for longer than
// SIDESTASH_OFFLINE_AFTER, the agent runs its targets' scheduled backups itself from the plan the
// controller gave it last (kept encrypted, agent-state.ts), one session at a time with the
// controller's (the session lock), each scheduled time at most once (offline-slots.ts), and
// reports each run once the controller answers again: before it asks for new work, so that the
// controller records the run (a BackupSession with trigger offline) instead of handing the same
// scheduled time out again. Restores are never run offline: they are an operator's decision.
import type { AsyncMutex } from '../../common/async-mutex.ts';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { setLongTimeout } from '../../common/long-timeout.ts';
import type { OfflineConfiguration, OfflineSessionReport } from '../../common/offline-protocol.ts';
import type { BackupAssignment, SessionAssignment, SessionResult } from '../../common/protocol.ts';
import { scheduledSessionName } from '../../common/scheduled-name.ts';
import type { ControllerClient } from '../controller-client.ts';
import { AgentStateStore } from './agent-state.ts';
import { isOffline, offlineSlot } from './offline-slots.ts';
import type { OfflineSettings } from './offline-settings.ts';
import { scheduledSlotOf } from './scheduled-slot.ts';
import { sleep } from './sleep.ts';

/** How often the agent asks the controller for its offline plan. */
export const OFFLINE_PLAN_REFRESH_MS = 60_000;
const TICK_MS = 1000;

export type BackupRun = (a: BackupAssignment, signal: AbortSignal, log: Logger) => Promise<SessionResult>;

export class Autonomy {
  readonly #settings: OfflineSettings;
  readonly #client: ControllerClient;
  readonly #lock: AsyncMutex;
  readonly #run: BackupRun;
  readonly #log: Logger;
  readonly #state: AgentStateStore;
  readonly #startedMs = Date.now();
  #offline = false;

  constructor(settings: OfflineSettings, identity: string, client: ControllerClient, sessionLock: AsyncMutex, run: BackupRun, log: Logger) {
    this.#settings = settings;
    this.#client = client;
    this.#lock = sessionLock;
    this.#run = run;
    this.#log = log;
    this.#state = new AgentStateStore(settings.stateDir, settings.keyMaterial, identity, log);
  }

  async load(): Promise<void> {
    await this.#state.load();
    const s = this.#state.state;
    this.#log.info('edge autonomy on', { stateDir: this.#settings.stateDir, offlineAfterMs: this.#settings.offlineAfterMs, key: this.#settings.keySource, configurations: s.plan?.configurations.length ?? 0, pendingReports: s.pendingReports.length });
  }

  #lastContactMs(): number | undefined {
    const a = this.#client.lastContactMs;
    const b = this.#state.state.lastContactMs;
    return a === undefined ? b : b === undefined ? a : Math.max(a, b);
  }

  /**
   * Now on the controller's clock, as its last answer showed it (agent-state.ts keeps it across
   * restarts): scheduled times are the controller's, so that an agent whose clock runs ahead does
   * not run a time the controller has not reached (it would refuse the report, then hand the same
   * time out again). Durations (how long it has been unreachable) stay on the agent's own clock.
   */
  #controllerNowMs(): number {
    return Date.now() + (this.#client.clockOffsetMs ?? this.#state.state.clockOffsetMs ?? 0);
  }

  isOffline(nowMs = Date.now()): boolean {
    const last = this.#lastContactMs();
    const failed = this.#client.lastFailureMs;
    return isOffline({ nowMs, startedMs: this.#startedMs, offlineAfterMs: this.#settings.offlineAfterMs, ...(last === undefined ? {} : { lastContactMs: last }), ...(failed === undefined ? {} : { lastFailureMs: failed }) });
  }

  /** Whether offline runs wait to be reported (the poll loop reports them first). */
  hasPendingReports(): boolean {
    return this.#state.state.pendingReports.length > 0;
  }

  /** Fetches the plan and keeps it; a configuration new to it starts from now (its past is the controller's). */
  async refreshPlan(signal: AbortSignal): Promise<void> {
    const plan = await this.#client.offlinePlan(signal);
    const configurations = Array.isArray(plan.configurations) ? plan.configurations : [];
    const now = this.#controllerNowMs();
    await this.#state.update((s) => {
      s.plan = { configurations, fetchedAt: new Date(now).toISOString() };
      s.lastContactMs = this.#client.lastContactMs ?? Date.now();
      if (this.#client.clockOffsetMs !== undefined) s.clockOffsetMs = this.#client.clockOffsetMs;
      const uids = new Set(configurations.map((c) => c.uid));
      for (const uid of Object.keys(s.lastSlotMs)) if (!uids.has(uid)) delete s.lastSlotMs[uid];
      for (const c of configurations) s.lastSlotMs[c.uid] ??= now;
    });
  }

  /** A session the controller assigned ran (or is about to): its scheduled time, if it has one, is not run again offline. */
  async recordOnlineRun(a: SessionAssignment): Promise<void> {
    const cfg = a.kind === 'BackupSession' ? this.#configuration(a.invoker) : undefined;
    const slot = cfg && a.kind === 'BackupSession' ? scheduledSlotOf(a.invoker, a.name) : undefined;
    await this.#state.update((s) => {
      s.lastContactMs = this.#client.lastContactMs ?? Date.now();
      if (cfg && slot !== undefined) s.lastSlotMs[cfg.uid] = Math.max(s.lastSlotMs[cfg.uid] ?? 0, slot);
    });
  }

  /** Whether an assigned session is a scheduled time this agent already ran offline (its report then records it). */
  ranOffline(a: SessionAssignment): boolean {
    if (a.kind !== 'BackupSession') return false;
    return this.#state.state.pendingReports.some((r) => r.configuration === a.invoker && scheduledSessionName(r.configuration, Date.parse(r.scheduledAt)) === a.name);
  }

  #configuration(name: string): OfflineConfiguration | undefined {
    return this.#state.state.plan?.configurations.find((c) => c.name === name);
  }

  /**
   * Reports the offline runs, oldest first (call with the session lock held). A report the
   * controller refuses for good is dropped with an error in the log (its snapshot stays in the
   * repository); one it cannot take now stays, and the error is thrown.
   */
  async flushReports(signal: AbortSignal): Promise<void> {
    for (;;) {
      const report = this.#state.state.pendingReports[0];
      if (!report) return;
      try {
        const recorded = await this.#client.reportOfflineSession(report, signal);
        this.#log.info('offline backup recorded by the controller', { configuration: report.configuration, scheduledAt: report.scheduledAt, session: recorded.session, phase: recorded.phase });
      } catch (err) {
        if (!isSidestashError(err) || err.retryable || err.code === ErrorCodes.UNAUTHORIZED || err.code === ErrorCodes.ABORTED) throw err;
        this.#log.error('the controller refused an offline backup\'s report; dropped (its snapshot stays in the repository)', { configuration: report.configuration, scheduledAt: report.scheduledAt, snapshotId: report.result.snapshotId, code: err.code, err: errorMessage(err) });
      }
      await this.#state.update((s) => {
        const i = s.pendingReports.indexOf(report);
        if (i >= 0) s.pendingReports.splice(i, 1);
      });
    }
  }

  /** Runs until the signal aborts: every second, whether a scheduled backup is due offline. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#tick(signal);
      } catch (err) {
        if (!signal.aborted) this.#log.error('offline scheduling failed', { err: errorMessage(err) });
      }
      await sleep(TICK_MS, signal);
    }
  }

  async #tick(signal: AbortSignal): Promise<void> {
    const offline = this.isOffline();
    if (offline !== this.#offline) {
      this.#offline = offline;
      if (offline) this.#log.warn('the controller has been unreachable for longer than SIDESTASH_OFFLINE_AFTER; running scheduled backups on this agent', { lastContact: new Date(this.#lastContactMs() ?? this.#startedMs).toISOString(), configurations: this.#state.state.plan?.configurations.length ?? 0 });
      else this.#log.info('the controller answers again; scheduled backups come from it');
    }
    if (!offline) return;
    for (const cfg of this.#state.state.plan?.configurations ?? []) {
      if (signal.aborted) return;
      // Each configuration on its own: one that cannot be scheduled here does not stop the others.
      try {
        const nowMs = this.#controllerNowMs();
        const decision = offlineSlot({ schedule: { schedule: cfg.schedule, ...(cfg.timezone ? { timezone: cfg.timezone } : {}) }, jitterMs: cfg.jitterMs, lastSlotMs: this.#state.state.lastSlotMs[cfg.uid] ?? nowMs, nowMs });
        if ('run' in decision) await this.#lock.run(() => this.#runSlot(cfg, decision.run, signal));
      } catch (err) {
        if (!signal.aborted) this.#log.error('offline scheduling failed', { configuration: cfg.name, err: errorMessage(err) });
      }
    }
  }

  /** Runs one scheduled time (the session lock held); recorded as run, and as failed, before it starts: a crash loses neither. */
  async #runSlot(cfg: OfflineConfiguration, slotMs: number, signal: AbortSignal): Promise<void> {
    // The controller may have come back, or a session may have run this time, while the lock was awaited.
    if (!this.isOffline() || (this.#state.state.lastSlotMs[cfg.uid] ?? 0) >= slotMs) return;
    const startedMs = Date.now();
    const name = scheduledSessionName(cfg.name, slotMs);
    const log = this.#log.child({ session: `${cfg.assignment.namespace}/${name}`, kind: 'BackupSession', trigger: 'offline' });
    const report: OfflineSessionReport = {
      configuration: cfg.name,
      configurationUid: cfg.uid,
      scheduledAt: new Date(slotMs).toISOString(),
      startedAt: new Date(this.#controllerNowMs()).toISOString(),
      result: { phase: 'Failed', error: { code: ErrorCodes.AGENT_LOST, message: 'the agent stopped while it ran this backup offline' } },
    };
    const before = this.#state.state.lastSlotMs[cfg.uid];
    // Not on disk (a full disk): not marked either, so nothing runs, nothing is reported, and the time is tried again.
    await this.#state.update((s) => {
      s.lastSlotMs[cfg.uid] = slotMs;
      s.pendingReports.push(report);
    }, (s) => {
      if (before === undefined) delete s.lastSlotMs[cfg.uid];
      else s.lastSlotMs[cfg.uid] = before;
      const i = s.pendingReports.indexOf(report);
      if (i >= 0) s.pendingReports.splice(i, 1);
    });
    const ac = new AbortController();
    const stop = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    const deadline = cfg.timeoutMs === undefined ? undefined : setLongTimeout(() => ac.abort(new SidestashError(ErrorCodes.SESSION_TIMEOUT, 'session deadline reached')), cfg.timeoutMs);
    let result: SessionResult;
    try {
      log.info('offline backup started', { scheduledAt: report.scheduledAt });
      result = await this.#run({ ...cfg.assignment, kind: 'BackupSession', name, ...(cfg.timeoutMs === undefined ? {} : { deadlineMs: startedMs + cfg.timeoutMs }) }, ac.signal, log);
    } catch (err) {
      const code = isSidestashError(ac.signal.reason, ErrorCodes.SESSION_TIMEOUT) ? ErrorCodes.SESSION_TIMEOUT : isSidestashError(err) ? err.code : 'SIDESTASH_INTERNAL';
      result = { phase: 'Failed', error: { code, message: errorMessage(err) }, durationSeconds: (Date.now() - startedMs) / 1000 };
    } finally {
      deadline?.clear();
      signal.removeEventListener('abort', stop);
    }
    // Stopped with the agent: the provisional report (failed, agent lost) stays and says so.
    if (signal.aborted && result.phase !== 'Succeeded') return;
    log[result.phase === 'Succeeded' ? 'info' : 'error']('offline backup finished', { phase: result.phase, snapshotId: result.snapshotId, error: result.error });
    await this.#state.update(() => {
      report.result = result;
    });
  }
}
