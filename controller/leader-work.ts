// The controller's leader-only work: the scheduler, the session sweeps (lease expiry, pending
// timeout, deadlines), the references and configuration outcomes rebuilt at start, and the
// Pushgateway's reconcile. In sqlite mode the one controller always leads; in Kubernetes mode
// this runs while the replica holds the Lease, under the signal the elector gives
// (onStartedLeading). When it aborts (before the Lease is released) no new work starts: the
// timers, the watch and the cron schedules stop at once, a round takes no further step, and
// the catch-up fires no further run (scheduler.stop() empties its schedules, which the catch-up
// and each firing check). Work already in flight is not interrupted and may finish after the
// step-down: a firing past that check, an agent call being answered (claiming a session, a
// report), a session's finishing writes. None of it can double a run: every write is a
// compare-and-swap on the resourceVersion read, and a scheduled session's name is
// deterministic, so the next leader's create of the same run conflicts.
// A new leader in Kubernetes mode also hears of BackupConfiguration changes from the store's
// watch (kubectl apply reaches no replica's HTTP API) and catches up a scheduled run missed
// while no replica led (missed-run.ts), and adopts sessions kubectl created without a status
// (session-adoption.ts).
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { PushgatewayPublisher } from './pushgateway/publisher.ts';
import type { ResourceService } from './resources/resource-service.ts';
import type { Scheduler } from './scheduler.ts';
import { backfillConfigurationStatus, replayUnrecordedOutcomes } from './sessions/configuration-backfill.ts';
import { AdoptionQueue } from './sessions/session-adoption.ts';
import { ReferenceRefresher } from './resources/reference-refresher.ts';
import type { SessionManager, SessionStore } from './sessions/session-manager.ts';

export interface LeaderWorkHost {
  readonly log: Logger;
  readonly store: SessionStore;
  readonly sessions: SessionManager;
  readonly scheduler: Scheduler;
  readonly resources: ResourceService;
  readonly pushgateway: PushgatewayPublisher | undefined;
}

export interface LeaderWorkOptions {
  sweepIntervalMs: number;
  /** Kubernetes mode: follow BackupConfigurations through the store's watch and catch up missed runs within this window. */
  kubernetes?: { catchUpWindowMs: number; onConfigurationChanged: (namespace: string, name: string, change: 'applied' | 'deleted') => Promise<void> };
}

/**
 * Runs the leader's work until `signal` aborts; resolves once the first round is done. The
 * start-up steps (configuration backfill, session sweep, reference refresh, schedules, and in
 * Kubernetes mode the catch-up of a missed run) run in the first round; in Kubernetes mode one
 * that fails (the API server briefly away) is tried again with each sweep until it succeeds,
 * so that a missed scheduled run is caught up however the first round went. The catch-up
 * window counts from the takeover, so a late retry still covers what fell before it.
 */
export async function runLeaderWork(c: LeaderWorkHost, signal: AbortSignal, o: LeaderWorkOptions): Promise<void> {
  const takeoverMs = Date.now();
  const done = { backfill: false, references: false, schedules: false, catchUp: o.kubernetes === undefined };
  // One round: the start-up steps not yet done, in order (the backfill before the first sweep
  // ends a session, the sweep before the catch-up, so an expired session does not count as an
  // overlap), each on its own: one failing does not hold back the others. The first round of
  // the sqlite mode throws instead (the controller does not start).
  const round = async (first: boolean): Promise<void> => {
    const step = async (what: string, fn: () => Promise<unknown>): Promise<boolean> => {
      if (signal.aborted) return false;
      try {
        await fn();
        return true;
      } catch (err) {
        if (first && !o.kubernetes) throw err;
        c.log.error(first ? `${what} failed; retrying with the next sweep` : `${what} failed`, { err: errorMessage(err) });
        return false;
      }
    };
    if (!done.backfill) {
      done.backfill = await step('rebuilding configuration outcomes', async () => {
        const backfilled = await backfillConfigurationStatus(c.store);
        if (backfilled > 0) c.log.info('configuration outcomes rebuilt from session history', { configurations: backfilled });
      });
    }
    const swept = await step('session sweep', () => c.sessions.sweep());
    // Outcomes a finish could not record on its configuration (a failed write, a crash between the two).
    if (done.backfill) {
      await step('replaying unrecorded session outcomes', async () => {
        const replayed = await replayUnrecordedOutcomes(c.store);
        if (replayed > 0) c.log.warn('session outcomes recorded late on their configurations', { configurations: replayed });
      });
    }
    if (!done.references) done.references = await step('refreshing missing references', () => c.resources.refreshReferences());
    if (!done.schedules) {
      done.schedules = await step('scheduling', () => c.scheduler.sync());
      if (signal.aborted) c.scheduler.stop();
    }
    if (o.kubernetes && done.schedules && swept && !done.catchUp) {
      done.catchUp = await step('catching up missed scheduled runs', () => c.scheduler.catchUp(o.kubernetes!.catchUpWindowMs + (Date.now() - takeoverMs)));
    }
    if (!first) await step('the Pushgateway\'s reconcile', async () => c.pushgateway?.reconcile());
  };
  // The first round counts as the first sweep.
  let sweeping = true;
  const sweeper = setInterval(() => {
    if (sweeping || signal.aborted) return; // the previous round is still running
    sweeping = true;
    void round(false).finally(() => (sweeping = false));
  }, o.sweepIntervalMs);
  const adoption = o.kubernetes ? new AdoptionQueue(c.store, signal) : undefined;
  // kubectl apply reaches no HTTP API: the leader refreshes missing references from the watch (sessions' progress aside).
  const references = o.kubernetes ? new ReferenceRefresher((ns) => c.resources.refreshReferences(ns), c.log) : undefined;
  const unwatch = o.kubernetes
    ? c.store.watch((e) => {
      if (signal.aborted) return;
      if (e.resource.kind !== 'BackupSession') references!.touch(e.resource.metadata.namespace);
      if (e.type !== 'DELETED') {
        void adoption!.consider(e.resource).catch((err: unknown) => c.log.warn('could not adopt a session created through the API server', { session: `${e.resource.metadata.namespace}/${e.resource.metadata.name}`, err: errorMessage(err) }));
      }
      if (e.resource.kind !== 'BackupConfiguration') return;
      void o.kubernetes!.onConfigurationChanged(e.resource.metadata.namespace, e.resource.metadata.name, e.type === 'DELETED' ? 'deleted' : 'applied');
    })
    : undefined;
  const stop = (): void => {
    clearInterval(sweeper);
    unwatch?.();
    references?.stop();
    c.scheduler.stop();
  };
  if (signal.aborted) return stop();
  signal.addEventListener('abort', stop, { once: true });
  if (o.kubernetes) c.sessions.watchingSinceMs = Date.now();
  if (adoption) {
    void adoption.considerAll().then((adopted) => {
      if (adopted > 0) c.log.info('sessions created through the API server adopted (Pending)', { sessions: adopted });
    }, (err: unknown) => c.log.warn('could not adopt sessions created through the API server', { err: errorMessage(err) }));
  }
  try {
    await round(true);
  } catch (err) {
    stop();
    throw err;
  } finally {
    sweeping = false;
  }
  if (signal.aborted) c.scheduler.stop();
  else void c.pushgateway?.reconcile();
}
