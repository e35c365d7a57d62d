// The leader's start-up steps in Kubernetes mode are tried again until they succeed: a new leader
// whose first round fails (the API server briefly away) still catches up the scheduled run missed
// while no replica led, once, under its scheduled name. The real store, session manager,
// scheduler and resource service; the store fails its first N lists.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import { runLeaderWork } from './leader-work.ts';
import { ResourceService } from './resources/resource-service.ts';
import type { Kind, Resource } from './resources/types.ts';
import { Scheduler } from './scheduler.ts';
import { scheduledSessionName } from '../common/scheduled-name.ts';
import { SessionManager } from './sessions/session-manager.ts';
import type { ListOptions } from './store/resource-store.ts';
import { SqliteStore } from './store/sqlite-store.ts';
import { until as untilValue } from '../test/helpers/until.ts';

// The failures this test causes are logged as errors: not printed here.
const quiet = createLogger({}, { level: 'error', write: () => {} });

/** A store whose first `failures` lists fail as the API server being away would. */
class FlakyStore extends SqliteStore {
  failures = 0;
  lists = 0;
  onCreate: ((r: Resource<unknown, unknown>) => void) | undefined;
  override create<S, T>(resource: Resource<S, T>): Promise<Resource<S, T>> {
    this.onCreate?.(resource as Resource<unknown, unknown>);
    return super.create(resource);
  }
  override list<S = Record<string, unknown>, T = Record<string, unknown>>(kind: Kind, options?: ListOptions): Promise<Resource<S, T>[]> {
    this.lists++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new SidestashError(ErrorCodes.KUBE_UNAVAILABLE, 'the API server is away', { retryable: true }));
    }
    return super.list<S, T>(kind, options);
  }
}

const until = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => untilValue(what, probe, 30_000, 20);

/** Daily at the minute two minutes ago (UTC): its latest run fell two minutes before the leader took over. */
function missedSchedule(): { schedule: string; missedMs: number } {
  const missed = new Date(Date.now() - 120_000);
  missed.setUTCSeconds(0, 0);
  return { schedule: `${missed.getUTCMinutes()} ${missed.getUTCHours()} * * *`, missedMs: missed.getTime() };
}

async function createConfiguration(store: SqliteStore, name: string, schedule: string): Promise<void> {
  await store.create({
    apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration',
    metadata: { name, namespace: 'shop', creationTimestamp: new Date(Date.now() - 86_400_000).toISOString() },
    spec: { schedule, repository: { name: 'repo' }, target: { ref: { name: 'db' } } },
  });
}

describe('leader work (Kubernetes mode): a failed start-up is retried', () => {
  for (const failures of [0, 1, 2, 3, 4]) {
    it(`the missed scheduled run is caught up once though the first ${failures} list(s) fail`, async () => {
      const store = new FlakyStore(':memory:');
      const sessions = new SessionManager(store, quiet, { leaseMs: 60_000 });
      const scheduler = new Scheduler(store, sessions, quiet);
      const ac = new AbortController();
      try {
        const { schedule, missedMs } = missedSchedule();
        await createConfiguration(store, 'nightly', schedule);
        store.failures = failures;
        const host = { log: quiet, store, sessions, scheduler, resources: new ResourceService(store), pushgateway: undefined };
        await runLeaderWork(host, ac.signal, { sweepIntervalMs: 20, kubernetes: { catchUpWindowMs: 10 * 60_000, onConfigurationChanged: async () => {} } });
        const name = scheduledSessionName('nightly', missedMs);
        const session = await until('the caught-up session', async () => store.get<unknown, { phase?: string }>('BackupSession', 'shop', name));
        assert.equal(session.status?.phase, 'Pending');
        // Caught up once: later rounds do not create it again (nor another).
        const listsThen = store.lists;
        await until('more rounds', async () => (store.lists > listsThen + 10 ? true : undefined));
        assert.deepEqual((await store.list('BackupSession')).map((s) => s.metadata.name), [name]);
        const cfg = await store.get<unknown, { lastScheduleTime?: string; lastSessionName?: string }>('BackupConfiguration', 'shop', 'nightly');
        assert.equal(cfg?.status?.lastSessionName, name);
      } finally {
        ac.abort();
        store.close();
      }
    });
  }
});

describe('leader work (Kubernetes mode): stepping down', () => {
  it('the catch-up fires no further run once the term ends (the one in flight completes; its name is deterministic)', async () => {
    const store = new FlakyStore(':memory:');
    const sessions = new SessionManager(store, quiet, { leaseMs: 60_000 });
    const scheduler = new Scheduler(store, sessions, quiet);
    const ac = new AbortController();
    try {
      const { schedule } = missedSchedule();
      for (const name of ['one', 'two', 'three']) await createConfiguration(store, name, schedule);
      // The term ends while the first caught-up session is being created.
      store.onCreate = (r) => {
        if (r.kind === 'BackupSession') ac.abort('lost-lease');
      };
      const host = { log: quiet, store, sessions, scheduler, resources: new ResourceService(store), pushgateway: undefined };
      await runLeaderWork(host, ac.signal, { sweepIntervalMs: 20, kubernetes: { catchUpWindowMs: 10 * 60_000, onConfigurationChanged: async () => {} } });
      assert.equal((await store.list('BackupSession')).length, 1);
    } finally {
      ac.abort();
      store.close();
    }
  });
});
