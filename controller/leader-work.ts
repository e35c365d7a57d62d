// The controller's leader-only work: the scheduler, the session sweeps (lease expiry, pending
// timeout, deadlines), the references and configuration outcomes rebuilt at start, and the
// Pushgateway's reconcile. In sqlite mode the one controller always leads; in Kubernetes mode
// this runs while the replica holds the Lease, under the signal the elector gives
// (onStartedLeading) and stops synchronously when it aborts, before the Lease is released.
// A new leader in Kubernetes mode also hears of BackupConfiguration changes from the store's
// watch (kubectl apply reaches no replica's HTTP API) and catches up a scheduled run missed
// while no replica led (missed-run.ts), and adopts sessions kubectl created without a status
// (session-adoption.ts).
import { errorMessage } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { PushgatewayPublisher } from './pushgateway/publisher.ts';
import type { ResourceService } from './resources/resource-service.ts';
import type { Scheduler } from './scheduler.ts';
import { backfillConfigurationStatus } from './sessions/configuration-backfill.ts';
import { AdoptionQueue } from './sessions/session-adoption.ts';
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

/** Runs the leader's work until `signal` aborts; resolves once the start-up steps are done. */
export async function runLeaderWork(c: LeaderWorkHost, signal: AbortSignal, o: LeaderWorkOptions): Promise<void> {
  let scheduled = false;
  // The start-up steps below count as the first sweep.
  let sweeping = true;
  const tick = async (): Promise<void> => {
    try {
      await c.sessions.sweep();
      if (!scheduled && !signal.aborted) {
        await c.scheduler.sync();
        scheduled = true;
        if (signal.aborted) c.scheduler.stop();
      }
      await c.pushgateway?.reconcile();
    } catch (err) {
      c.log.error('session sweep failed', { err: errorMessage(err) });
    }
  };
  const sweeper = setInterval(() => {
    if (sweeping || signal.aborted) return; // the previous sweep is still running
    sweeping = true;
    void tick().finally(() => (sweeping = false));
  }, o.sweepIntervalMs);
  const adoption = o.kubernetes ? new AdoptionQueue(c.store, signal) : undefined;
  const unwatch = o.kubernetes
    ? c.store.watch((e) => {
      if (signal.aborted) return;
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
    c.scheduler.stop();
  };
  if (signal.aborted) return stop();
  signal.addEventListener('abort', stop, { once: true });
  if (o.kubernetes) c.sessions.watchingSinceMs = Date.now();
  try {
    if (adoption) {
      void adoption.considerAll().then((adopted) => {
        if (adopted > 0) c.log.info('sessions created through the API server adopted (Pending)', { sessions: adopted });
      }, (err: unknown) => c.log.warn('could not adopt sessions created through the API server', { err: errorMessage(err) }));
    }
    const backfilled = await backfillConfigurationStatus(c.store);
    if (backfilled > 0) c.log.info('configuration outcomes rebuilt from session history', { configurations: backfilled });
    await c.sessions.sweep();
    await c.resources.refreshReferences();
    if (signal.aborted) return;
    await c.scheduler.sync();
    scheduled = true;
    if (o.kubernetes && !signal.aborted) await c.scheduler.catchUp(o.kubernetes.catchUpWindowMs);
  } catch (err) {
    // Kubernetes mode: the API server may be briefly away; the sweeper's ticks try again.
    sweeping = false;
    if (!o.kubernetes) throw err;
    c.log.error('starting the leader\'s work failed; retrying with the next sweep', { err: errorMessage(err) });
  }
  sweeping = false;
  if (signal.aborted) c.scheduler.stop();
  else void c.pushgateway?.reconcile();
}
