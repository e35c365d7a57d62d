// Fires BackupSessions from each BackupConfiguration's cron schedule (schedule-timer.ts). Schedules are
// rebuilt when configurations change; a paused configuration has none. A firing while a
// session of the same configuration is Pending or Running is skipped (no overlap). A scheduled
// session is named after its configuration and scheduled time (scheduled-name.ts): the same
// run created twice (two replicas around a failover) conflicts instead of running twice.
// Time zones and DST: schedule.ts.
import type { Logger } from '../common/log.ts';
import { nextRunTimes, scheduledRunAt } from '../common/schedule.ts';
import { ScheduleTimer } from './schedule-timer.ts';
import type { TimerApi } from './schedule-timer.ts';
import { scheduleJitterMs } from './schedule-jitter.ts';
import { loopYielder } from './loop-yield.ts';
import type { BackupConfigurationSpec, BackupConfigurationStatus, BackupSessionSpec, Resource } from './resources/types.ts';
import { isMissedRun } from './sessions/missed-run.ts';
import { scheduledCreateConflict } from './sessions/scheduled-create-conflict.ts';
import { scheduledSessionName } from '../common/scheduled-name.ts';
import type { SessionManager } from './sessions/session-manager.ts';
import type { ResourceStore } from './store/resource-store.ts';
import { retryOnConflict } from './store/retry-on-conflict.ts';

/**
 * How late a run whose jittered start fell while no scheduler ran (a restart, a failover) is still
 * started by the next one: without the jitter it would have started before the stop.
 */
export const RESTART_CATCH_UP_MS = 60_000;

type Configuration = Resource<BackupConfigurationSpec, BackupConfigurationStatus>;

/** A configuration's schedule: its timer, and the configuration (as last synced) it fires for. */
interface Job {
  timer: ScheduleTimer;
  specJson: string;
  cfg: Configuration;
}

/** The same configuration (uid) firing at the same times: its job's timer can stay. */
function sameSchedule(a: Configuration, b: Configuration): boolean {
  return a.metadata.uid === b.metadata.uid && a.spec.schedule === b.spec.schedule && a.spec.timezone === b.spec.timezone;
}

export class Scheduler {
  readonly #store: ResourceStore;
  readonly #sessions: SessionManager;
  readonly #log: Logger;
  readonly #jobs = new Map<string, Job>();
  /** Runs waiting out their configuration's jitter (schedule-jitter.ts). */
  readonly #delayed = new Set<ReturnType<typeof setTimeout>>();
  /** Each configuration's firing in progress: firings of one configuration run one after another. */
  readonly #firing = new Map<string, Promise<void>>();
  readonly #maxJitterMs: number;
  /** No schedule built since construction or stop(): the next sync takes over runs waiting out their jitter. */
  #starting = true;
  /** The sync running, and the one more that calls made meanwhile share (sync()). */
  #syncing: Promise<void> | undefined;
  #syncAgain: Promise<void> | undefined;

  /** The clock and timers of the schedules (tests pass their own). */
  readonly #timers: TimerApi | undefined;

  /** maxJitterMs: how late a run may start after its scheduled time (SIDESTASH_SCHEDULE_JITTER); 0: at once. */
  constructor(store: ResourceStore, sessions: SessionManager, log: Logger, options: { maxJitterMs?: number; timers?: TimerApi } = {}) {
    this.#timers = options.timers;
    this.#store = store;
    this.#sessions = sessions;
    this.#log = log;
    this.#maxJitterMs = options.maxJitterMs ?? 0;
  }

  /** The cron's firing: the run starts its configuration's jitter later, named after its scheduled time. */
  #scheduled(cfg: Resource<BackupConfigurationSpec, BackupConfigurationStatus>, firedAtMs: number): void {
    this.#startAfterJitter(cfg, scheduledRunAt(cfg.spec, firedAtMs), firedAtMs);
  }

  /** Starts the run scheduled at `scheduledMs` once its configuration's jitter after it has passed. */
  #startAfterJitter(cfg: Resource<BackupConfigurationSpec, BackupConfigurationStatus>, scheduledMs: number, nowMs: number): void {
    const { namespace, name, uid } = cfg.metadata;
    const delayMs = Math.max(0, scheduledMs + this.#jitterMs(cfg, scheduledMs) - nowMs);
    if (delayMs === 0) {
      void this.#fire(namespace, name, scheduledMs);
      return;
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(timer);
      // Only for the configuration it was scheduled for: one deleted and applied again meanwhile is another.
      void this.#fire(namespace, name, scheduledMs, uid);
    }, delayMs);
    this.#delayed.add(timer);
  }

  #jitterMs(cfg: Resource<BackupConfigurationSpec, BackupConfigurationStatus>, scheduledMs: number): number {
    const { namespace, name, uid } = cfg.metadata;
    return scheduleJitterMs(`${namespace}/${name}/${uid ?? ''}`, this.#maxJitterMs, schedulePeriodMs(cfg.spec, scheduledMs));
  }

  /**
   * A scheduler that starts (the controller's start, a new leader term) takes over the runs the
   * previous one left waiting out their jitter: the latest scheduled run that was not started
   * (lastScheduleTime older) starts when its jitter ends, as it would have, or at once when that
   * time fell at most RESTART_CATCH_UP_MS ago (a restart or failover while it was due). Its name
   * is deterministic: a run the previous one did start conflicts.
   */
  #resumeWaiting(cfg: Resource<BackupConfigurationSpec, BackupConfigurationStatus>, nowMs: number): void {
    const scheduledMs = scheduledRunAt(cfg.spec, nowMs);
    if (scheduledMs >= nowMs || scheduledMs + this.#jitterMs(cfg, scheduledMs) + RESTART_CATCH_UP_MS < nowMs) return;
    const last = cfg.status?.lastScheduleTime === undefined ? Number.NaN : Date.parse(cfg.status.lastScheduleTime);
    if (last >= scheduledMs) return;
    const created = cfg.metadata.creationTimestamp === undefined ? Number.NaN : Date.parse(cfg.metadata.creationTimestamp);
    if (created > scheduledMs) return;
    this.#log.info('taking over a scheduled run that was waiting out its jitter when the previous scheduler stopped', { configuration: `${cfg.metadata.namespace}/${cfg.metadata.name}`, scheduledAt: new Date(scheduledMs).toISOString() });
    this.#startAfterJitter(cfg, scheduledMs, nowMs);
  }


  /**
   * (Re)builds the schedules from the stored configurations. Calls while one runs share one more
   * run after it (which reads what they changed): applying n configurations at once (a fleet's
   * `apply -f dir/`) read and compared all of them n times, holding the event loop for seconds.
   */
  sync(): Promise<void> {
    if (!this.#syncing) {
      const run = this.#syncNow();
      this.#syncing = run;
      const clear = (): void => {
        if (this.#syncing === run) this.#syncing = undefined;
      };
      run.then(clear, clear);
      return run;
    }
    this.#syncAgain ??= this.#syncing.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      this.#syncAgain = undefined;
      return this.sync();
    });
    return this.#syncAgain;
  }

  async #syncNow(): Promise<void> {
    const configs = await this.#store.list<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration');
    const seen = new Set<string>();
    const pause = loopYielder();
    for (const cfg of configs) {
      await pause();
      const key = `${cfg.metadata.namespace}/${cfg.metadata.name}`;
      seen.add(key);
      // The uid too: a configuration deleted and applied again with the same spec (both seen by one
      // sync) is another one, and the job built for the old one fires for the old uid only.
      const specJson = JSON.stringify([cfg.metadata.uid ?? null, cfg.spec]);
      const existing = this.#jobs.get(key);
      if (existing?.specJson === specJson) continue;
      // The same configuration, its schedule unchanged: the job keeps its timer and fires with the new
      // spec. Rebuilt, its timer started from now: a firing due but not yet run (the event loop busy
      // at the cron minute) was lost.
      if (existing && !cfg.spec.paused && sameSchedule(existing.cfg, cfg)) {
        existing.cfg = cfg;
        existing.specJson = specJson;
        await this.#recordNext(cfg, existing.timer);
        continue;
      }
      existing?.timer.stop();
      this.#jobs.delete(key);
      if (cfg.spec.paused) continue;
      let timer: ScheduleTimer;
      const job = { specJson, cfg } as Job;
      try {
        timer = new ScheduleTimer(cfg.spec, (firedAtMs) => this.#scheduled(job.cfg, firedAtMs), this.#timers);
      } catch (err) {
        // Stored without the controller's validation (kubectl apply in Kubernetes-native mode, where the
        // CRD's patterns pass "61 * * * *" or an unknown zone): this one has no schedule, the others keep theirs.
        this.#log.error('the configuration\'s schedule cannot be read; it is not scheduled', { configuration: key, schedule: cfg.spec.schedule, timezone: cfg.spec.timezone, err });
        continue;
      }
      job.timer = timer;
      this.#jobs.set(key, job);
      if (timer.nextRun() === null) this.#log.warn('the configuration\'s schedule has no time after now: it never fires', { configuration: key, schedule: cfg.spec.schedule, timezone: cfg.spec.timezone });
      if (this.#starting && !existing) this.#resumeWaiting(cfg, Date.now());
      await this.#recordNext(cfg, timer);
    }
    for (const [key, job] of this.#jobs) {
      if (!seen.has(key)) {
        job.timer.stop();
        this.#jobs.delete(key);
      }
    }
    this.#starting = false;
  }

  async #recordNext(cfg: Resource<BackupConfigurationSpec, BackupConfigurationStatus>, timer: ScheduleTimer, fired?: { at: string; session?: string; skipped?: boolean }): Promise<void> {
    await retryOnConflict(async () => {
      const cur = await this.#store.get<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration', cfg.metadata.namespace, cfg.metadata.name);
      if (!cur) return;
      const status: BackupConfigurationStatus = { ...(cur.status ?? {}) };
      const next = timer.nextRun();
      if (next) status.nextScheduleTime = next.toISOString();
      if (fired) {
        status.lastScheduleTime = fired.at;
        if (fired.session) status.lastSessionName = fired.session;
        if (fired.skipped) status.skippedOverlaps = (status.skippedOverlaps ?? 0) + 1;
      }
      await this.#store.updateStatus({ ...cur, status }, { ifVersion: cur.metadata.resourceVersion! });
    });
  }

  /**
   * A new leader's catch-up (missed-run.ts): the latest scheduled run of each configuration that
   * fell within `windowMs` before now and was not fired is fired now, under its scheduled name.
   */
  async catchUp(windowMs: number, nowMs = Date.now()): Promise<void> {
    const configs = await this.#store.list<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration');
    for (const cfg of configs) {
      if (cfg.spec.paused || !this.#jobs.has(`${cfg.metadata.namespace}/${cfg.metadata.name}`)) continue;
      const scheduledMs = scheduledRunAt(cfg.spec, nowMs);
      const last = cfg.status?.lastScheduleTime === undefined ? undefined : Date.parse(cfg.status.lastScheduleTime);
      const created = cfg.metadata.creationTimestamp === undefined ? undefined : Date.parse(cfg.metadata.creationTimestamp);
      if (!isMissedRun({ scheduledMs, nowMs, windowMs, ...(last === undefined ? {} : { lastScheduleMs: last }), ...(created === undefined ? {} : { createdMs: created }) })) continue;
      // Still waiting out its jitter: not missed; this scheduler's first sync took it over (#resumeWaiting).
      if (scheduledMs + this.#jitterMs(cfg, scheduledMs) > nowMs) continue;
      this.#log.info('catching up a scheduled run missed while no controller led', { configuration: `${cfg.metadata.namespace}/${cfg.metadata.name}`, scheduledAt: new Date(scheduledMs).toISOString() });
      await this.#fire(cfg.metadata.namespace, cfg.metadata.name, scheduledMs);
    }
  }

  /**
   * Fires one run, after any firing of the same configuration still in progress: a new leader's
   * catch-up and its take-over of a run waiting out its jitter can both fire the same scheduled
   * time, and concurrently both found no session by its name, so that the second found the
   * first's session active and counted a skipped overlap that never was.
   */
  #fire(namespace: string, name: string, scheduledMs?: number, uid?: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const run = (this.#firing.get(key) ?? Promise.resolve()).then(() => this.#fireNow(namespace, name, scheduledMs, uid));
    this.#firing.set(key, run);
    const clear = (): void => {
      if (this.#firing.get(key) === run) this.#firing.delete(key);
    };
    run.then(clear, clear);
    return run;
  }

  async #fireNow(namespace: string, name: string, scheduledMs?: number, uid?: string): Promise<void> {
    const key = `${namespace}/${name}`;
    const job = this.#jobs.get(key);
    try {
      const cfg = await this.#store.get<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration', namespace, name);
      if (!job || !cfg || cfg.spec.paused) return;
      if (uid !== undefined && cfg.metadata.uid !== uid) return;
      const firedAtMs = Date.now();
      const sessionName = scheduledSessionName(name, scheduledMs ?? scheduledRunAt(cfg.spec, firedAtMs));
      const existing = await this.#store.get<BackupSessionSpec>('BackupSession', namespace, sessionName);
      // The name is cut to 63 characters: another configuration whose name starts with the same 52
      // holds it for the same time. That session is not this run: it gets a generated name.
      const othersName = existing !== undefined && existing.spec?.invoker?.name !== name;
      if (existing && !othersName) {
        this.#log.info('scheduled backup session already created (by another controller)', { configuration: key, session: sessionName });
        return;
      }
      if (othersName) this.#log.warn('the scheduled session name is another configuration\'s (names cut to 63 characters): this run gets a generated name', { configuration: key, session: sessionName, holder: existing.spec?.invoker?.name });
      let session;
      try {
        session = await this.#sessions.createBackupSession(namespace, name, 'schedule', othersName ? undefined : sessionName);
      } catch (err) {
        const conflict = scheduledCreateConflict(err);
        if (conflict === undefined) throw err;
        if (conflict === 'already-created') this.#log.info('scheduled backup session already created (by another controller)', { configuration: key, session: sessionName });
        else this.#log.warn('scheduled backup session not created: what it was created from changed meanwhile (a stale version)', { configuration: key, session: sessionName, err });
        return;
      }
      if (session) this.#log.info('scheduled backup session created', { configuration: key, session: session.metadata.name });
      else this.#log.warn('schedule fired while a session is still active; skipped', { configuration: key });
      await this.#recordNext(cfg, job.timer, { at: new Date(firedAtMs).toISOString(), ...(session ? { session: session.metadata.name } : { skipped: true }) });
    } catch (err) {
      this.#log.error('scheduling failed', { configuration: key, err });
    }
  }

  stop(): void {
    for (const job of this.#jobs.values()) job.timer.stop();
    this.#jobs.clear();
    for (const timer of this.#delayed) clearTimeout(timer);
    this.#delayed.clear();
    this.#starting = true;
  }
}

/** The time from the run scheduled at `scheduledMs` to the schedule's next one (undefined when it cannot be read). */
function schedulePeriodMs(spec: BackupConfigurationSpec, scheduledMs: number): number | undefined {
  try {
    const [next] = nextRunTimes(spec, scheduledMs, 1);
    return next ? next.getTime() - scheduledMs : undefined;
  } catch {
    return undefined;
  }
}
