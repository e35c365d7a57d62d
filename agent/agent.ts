// The agent's main loop: register, heartbeat, take one session at a time, run it with
// progress reports (which also carry the controller's cancel requests), report the result.
import { setImmediate } from 'node:timers/promises';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { ProgressResponse, SessionAssignment, SessionProgress, SessionResult } from '../common/protocol.ts';
import { MAX_TIMER_MS } from '../common/duration.ts';
import { setLongTimeout } from '../common/long-timeout.ts';
import { runtimeName } from '../common/runtime.ts';
import { runBackup } from './backup-runner.ts';
import { removeLeftoverOptionDirs } from './client-options-file.ts';
import type { AgentConfig } from './config.ts';
import { agentIdentity } from './config.ts';
import { ControllerClient } from './controller-client.ts';
import { retryPlan } from './controller-retry.ts';
import type { RetryPlan } from './controller-retry.ts';
import { BinlogArchiveSupervisor } from './binlog/archive-supervisor.ts';
import type { ArchiveRunner } from './binlog/archive-supervisor.ts';
import { archiveRunner } from './binlog/run-archive.ts';
import { SerialBeat } from './serial-beat.ts';
import { runPointInTimeRestore } from './pitr-restore.ts';
import { runRestore } from './restore-runner.ts';
import { registrationToken } from './registration-token.ts';
import { SIDESTASH_VERSION } from '../common/version.ts';
import { AsyncMutex } from '../common/async-mutex.ts';
import { Autonomy, OFFLINE_PLAN_REFRESH_MS } from './offline/autonomy.ts';
import { ResultDelivery, isDeferrable } from './result-delivery.ts';
import { sleep } from './offline/sleep.ts';
import { runWhenFree } from './offline/claim-keeper.ts';

/** The agent reports the product's version (common/version.ts). */
export const AGENT_VERSION = SIDESTASH_VERSION;
const POLL_WAIT_MS = 20_000;

export type SessionObserver = (a: SessionAssignment, result: SessionResult) => void | Promise<void>;

export class SidecarAgent {
  readonly #config: AgentConfig;
  readonly #log: Logger;
  readonly #client: ControllerClient;
  readonly #observers: SessionObserver[] = [];
  #heartbeatMs = 20_000;
  #registering: Promise<void> | undefined;
  readonly #archiveRunner: ArchiveRunner | undefined;
  /** One session at a time, whether the controller assigned it or the agent runs it offline. */
  readonly #sessionLock = new AsyncMutex();
  readonly #autonomy: Autonomy | undefined;

  /** archiveRunner: how a leased binlog archive runs (tests); default: the archiver (binlog/run-archive.ts). */
  readonly #results: ResultDelivery;
  /** Tries of one result before it is kept for later (result-delivery.ts). */
  readonly #resultAttempts: number;

  /** archiveRunner: how a leased binlog archive runs (tests); resultAttempts: tries of a result before it is kept (tests; default 4, ~7 s). */
  constructor(config: AgentConfig, log: Logger, options: { archiveRunner?: ArchiveRunner; resultAttempts?: number } = {}) {
    this.#config = config;
    this.#log = log;
    this.#archiveRunner = options.archiveRunner;
    this.#results = new ResultDelivery(log);
    this.#resultAttempts = options.resultAttempts ?? 4;
    this.#client = new ControllerClient(config.controllerUrl, { caCert: config.controllerCaCert });
    if (config.offline) {
      this.#autonomy = new Autonomy(config.offline, agentIdentity(config), this.#client, this.#sessionLock, (a, signal, l) => runBackup(config, a, { signal, log: l, onProgress: () => {} }), log.child({ component: 'autonomy' }));
    }
  }

  /** Called after each session with its result. */
  onSessionFinished(observer: SessionObserver): void {
    this.#observers.push(observer);
  }

  async #register(signal: AbortSignal): Promise<void> {
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        const credential = await registrationToken(this.#config);
        const reg = await this.#client.register({ name: this.#config.name, namespace: this.#config.namespace, targets: this.#config.targets, version: AGENT_VERSION }, credential, signal);
        const hb = reg.heartbeatIntervalMs;
        this.#heartbeatMs = typeof hb === 'number' && hb >= 1000 && hb <= MAX_TIMER_MS ? hb : 20_000;
        this.#log.info('registered with controller', { controller: this.#config.controllerUrl, agent: `${reg.namespace}/${reg.name}`, targets: reg.targets, runtime: runtimeName() });
        return;
      } catch (err) {
        if (signal.aborted) return;
        const plan = this.#logRetry('registration failed; retrying', err, failures);
        await sleep(plan.delayMs, signal);
      }
    }
  }

  /**
   * Registers again, once however many calls ask at the same time: the controller no longer
   * knows this agent (401: a new leader after a failover, or its credential's re-verification is
   * due). The agent presents its current agent token, so a running session stays its own.
   */
  #reregister(signal: AbortSignal): Promise<void> {
    return (this.#registering ??= this.#register(signal).finally(() => (this.#registering = undefined)));
  }

  /** A failed progress report or heartbeat: register again on 401; a replica that does not lead is no news. */
  #callFailed(what: string, err: unknown, signal: AbortSignal, log: Logger): void {
    if (isSidestashError(err, ErrorCodes.UNAUTHORIZED)) {
      log.info(`${what}: the controller asks this agent to register again`);
      void this.#reregister(signal);
    } else if (isSidestashError(err, ErrorCodes.NOT_LEADER)) {
      log.debug(`${what}: reached a controller replica that does not lead`, { err: errorMessage(err) });
    } else {
      log.warn(`${what} failed`, { err: errorMessage(err) });
    }
  }

  /** Logs a failed call to the controller with its URL, cause and what to check; returns how long to wait. */
  #logRetry(msg: string, err: unknown, failures: number): RetryPlan {
    const plan = retryPlan(err, failures, this.#config.tokenFile === undefined ? 'enrolment-token' : 'service-account');
    const details = isSidestashError(err) ? err.details : {};
    this.#log[plan.level](msg, {
      url: typeof details.url === 'string' ? details.url : this.#config.controllerUrl,
      ...(typeof details.cause === 'string' ? { cause: details.cause } : {}),
      ...(typeof details.status === 'number' ? { status: details.status } : {}),
      err: errorMessage(err),
      code: isSidestashError(err) ? err.code : undefined,
      attempt: failures,
      retryInMs: plan.delayMs,
      ...(plan.hint ? { hint: plan.hint } : {}),
    });
    return plan;
  }

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    // Credentials a killed run left behind in its option files.
    const leftovers = await removeLeftoverOptionDirs(this.#config.tmpDir, agentIdentity(this.#config));
    if (leftovers > 0) this.#log.warn('removed option files left by an earlier run', { removed: leftovers, tmpDir: this.#config.tmpDir });
    if (this.#config.ignoredPushgatewayUrl) {
      this.#log.warn('SIDESTASH_PUSHGATEWAY_URL is ignored: the controller pushes session metrics now (set SIDESTASH_PUSHGATEWAY_URL on the controller)', { pushgateway: this.#config.ignoredPushgatewayUrl });
    }
    // Edge autonomy runs schedules while the controller cannot be reached, even before this agent could register.
    await this.#autonomy?.load();
    const autonomyRun = this.#autonomy?.run(signal);
    await this.#register(signal);
    // The registration's connection back in the fetch's pool first (serial-beat.ts): the first
    // sync and the long poll, made at once, then use it and one more, not two more.
    await setImmediate();
    const refreshPlan = (): void => {
      this.#autonomy?.refreshPlan(signal).catch((err: unknown) => this.#callFailed('fetching the offline plan', err, signal, this.#log));
    };
    refreshPlan();
    const planTimer = this.#autonomy ? setInterval(refreshPlan, OFFLINE_PLAN_REFRESH_MS) : undefined;
    // Binlog archives (point-in-time recovery) the controller leases to this agent: synced at
    // each heartbeat; an archive whose lease is not renewed stops (archive-supervisor.ts).
    const archives = new BinlogArchiveSupervisor(this.#archiveRunner ?? archiveRunner(this.#config), this.#log.child({ component: 'binlog' }), { targets: this.#config.targets });
    let syncing = false;
    const syncArchives = async (): Promise<void> => {
      if (syncing) return;
      syncing = true;
      try {
        const reports = archives.reports();
        const sentAt = Date.now();
        const assigned = await this.#client.syncBinlogArchives(reports, signal);
        archives.delivered(reports);
        archives.apply(assigned, sentAt);
      } catch (err) {
        this.#callFailed('binlog archive sync', err, signal, this.#log);
      } finally {
        syncing = false;
      }
    };
    void syncArchives();
    // The sync (its lease is counted from when it is sent), then the heartbeat: one after the
    // other, so that they share one kept connection beside the long poll's (serial-beat.ts).
    const sendHeartbeat = (): Promise<void> => this.#client.heartbeat(signal).catch((err: unknown) => this.#callFailed('heartbeat', err, signal, this.#log));
    const beat = new SerialBeat([syncArchives, sendHeartbeat]);
    const heartbeat = setInterval(() => beat.tick(), this.#heartbeatMs);
    try {
      let pollFailures = 0;
      while (!signal.aborted) {
        let assignment: SessionAssignment | undefined;
        let step = 'polling the controller';
        try {
          // Backups run offline are reported before new work is asked for, so that the controller records them instead of handing their scheduled times out again.
          // A controller that answers but cannot take one now (503: it cannot reach the repository to
          // check it) does not hold back new work, a restore perhaps: it is sent again at the next poll.
          step = 'sending a kept session result';
          if (this.#results.pending > 0) await this.#results.flush((a, r) => this.#sendResult(a, r, signal)).catch(answeredButRefused(this.#log, step));
          step = 'reporting offline backups';
          const autonomy = this.#autonomy;
          if (autonomy?.hasPendingReports()) await this.#sessionLock.run(() => autonomy.flushReports(signal)).catch(answeredButRefused(this.#log, step));
          step = 'polling the controller';
          assignment = await this.#client.nextSession(POLL_WAIT_MS, signal);
          pollFailures = 0;
        } catch (err) {
          if (signal.aborted) break;
          if (isSidestashError(err, ErrorCodes.UNAUTHORIZED)) {
            await this.#reregister(signal);
            continue;
          }
          const plan = this.#logRetry(`${step} failed`, err, ++pollFailures);
          await sleep(plan.delayMs, signal);
          continue;
        }
        const a = assignment;
        if (a) {
          // An offline backup may hold the lock: the claim is kept meanwhile (offline/claim-keeper.ts).
          const keep = (): Promise<ProgressResponse> => this.#client.progress(a, { bytesDumped: 0, bytesStored: 0, rateBytesPerSecond: 0 }, signal);
          await runWhenFree(this.#sessionLock, keep, this.#heartbeatMs, async (claim) => {
            const autonomy = this.#autonomy;
            if (autonomy?.ranOffline(a)) {
              // Claimed while the same scheduled time ran offline: its report records the run.
              this.#log.info('assigned a scheduled backup this agent already ran offline; reporting that run instead', { session: `${a.namespace}/${a.name}` });
              await autonomy.flushReports(signal).catch((err: unknown) => this.#callFailed('reporting offline backups', err, signal, this.#log));
              return;
            }
            if (claim.state !== 'ok') {
              const log = this.#log.child({ session: `${a.namespace}/${a.name}`, kind: a.kind });
              if (claim.state === 'lost') return log.warn('the controller no longer assigns this session to this agent; not started', { err: errorMessage(claim.err) });
              log.warn('the controller cancelled this session while it waited for the one before; not started');
              await this.#client.result(a, { phase: 'Failed', error: { code: ErrorCodes.SESSION_CANCELLED, message: 'cancelled before it started' } }, signal).catch((err: unknown) => this.#callFailed('reporting a cancelled session', err, signal, log));
              return;
            }
            await autonomy?.recordOnlineRun(a).catch((err: unknown) => this.#log.warn('could not write the agent state', { err: errorMessage(err) }));
            await this.#runSession(a, signal);
          });
        }
      }
    } finally {
      clearInterval(heartbeat);
      // No call after this (a due beat would sync after the archives stopped, or call after deregistering).
      beat.stop();
      if (planTimer) clearInterval(planTimer);
      await beat.idle();
      await autonomyRun;
      this.#results.abandon();
      await archives.stopAll();
      await this.#client.deregister().catch((err: unknown) => this.#log.warn('could not deregister; the controller frees the name after a lease period', { err: errorMessage(err) }));
      await this.#client.close();
    }
  }

  /** Sends a result; a controller that no longer knows this agent (a new leader) hears it after the agent registers again. */
  async #sendResult(a: SessionAssignment, result: SessionResult, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#client.result(a, result, signal, this.#resultAttempts);
        return;
      } catch (err) {
        if (!isSidestashError(err, ErrorCodes.UNAUTHORIZED) || attempt >= 3 || signal.aborted) throw err;
        this.#log.info('reporting the result: the controller asks this agent to register again', { session: `${a.namespace}/${a.name}` });
        await this.#reregister(signal);
      }
    }
  }

  async #runSession(a: SessionAssignment, agentSignal: AbortSignal): Promise<void> {
    const log = this.#log.child({ session: `${a.namespace}/${a.name}`, kind: a.kind });
    const ac = new AbortController();
    const stop = (): void => ac.abort(agentSignal.reason);
    agentSignal.addEventListener('abort', stop, { once: true });
    // A deadline beyond a timer's range is waited for in steps (a plain setTimeout would fire at once).
    const deadlineTimer = typeof a.deadlineMs === 'number' ? setLongTimeout(() => ac.abort(new SidestashError(ErrorCodes.SESSION_TIMEOUT, 'session deadline reached')), a.deadlineMs - Date.now()) : undefined;
    let sending = false;
    const onProgress = (p: SessionProgress): void => {
      if (sending) return;
      sending = true;
      this.#client
        .progress(a, p, agentSignal)
        .then((r) => {
          if (r.cancel && !ac.signal.aborted) {
            log.warn('controller asked to cancel the session');
            ac.abort(new Error('cancelled by the controller'));
          }
        })
        .catch((err: unknown) => this.#callFailed('progress report', err, agentSignal, log))
        .finally(() => (sending = false));
    };
    let result: SessionResult;
    const started = Date.now();
    try {
      log.info('session started');
      onProgress({ bytesDumped: 0, bytesStored: 0, rateBytesPerSecond: 0 });
      const hooks = { signal: ac.signal, log, onProgress };
      result = a.kind === 'BackupSession' ? await runBackup(this.#config, a, hooks) : a.pointInTime ? await runPointInTimeRestore(this.#config, a, hooks) : await runRestore(this.#config, a, hooks);
    } catch (err) {
      const stopped = ac.signal.aborted && !isSidestashError(err) ? ErrorCodes.SESSION_CANCELLED : isSidestashError(err) ? err.code : 'SIDESTASH_INTERNAL';
      // Stopped by its own deadline: the documented timeout code, not a user's cancel.
      const code = stopped === ErrorCodes.SESSION_CANCELLED && isSidestashError(ac.signal.reason, ErrorCodes.SESSION_TIMEOUT) ? ErrorCodes.SESSION_TIMEOUT : stopped;
      log.error('session failed', { code, err: errorMessage(err) });
      result = { phase: 'Failed', error: { code, message: errorMessage(err) }, durationSeconds: (Date.now() - started) / 1000 };
    } finally {
      deadlineTimer?.clear();
      agentSignal.removeEventListener('abort', stop);
    }
    try {
      await this.#sendResult(a, result, agentSignal);
      log.info('session finished', { phase: result.phase, snapshotId: result.snapshotId });
    } catch (err) {
      // The controller cannot take it now: kept, and sent before the next poll (result-delivery.ts).
      if (isDeferrable(err) && !agentSignal.aborted) this.#results.keep({ assignment: a, result }, err);
      else log.error('could not report the session result', { err: errorMessage(err) });
    }
    for (const o of this.#observers) {
      try {
        await o(a, result);
      } catch (err) {
        log.warn('session observer failed', { err: errorMessage(err) });
      }
    }
  }
}

/** A catch for sending what the agent kept: rethrows unless the controller answered (5xx), which is logged and passed over. */
function answeredButRefused(log: Logger, step: string): (err: unknown) => void {
  return (err) => {
    const status = isSidestashError(err) ? err.details.status : undefined;
    if (typeof status !== 'number' || status < 500 || isSidestashError(err, ErrorCodes.NOT_LEADER)) throw err;
    log.warn(`${step}: the controller cannot take it now; asking for new work meanwhile`, { status, err: errorMessage(err) });
  };
}
