// The jitter is at most a tenth of the schedule's period (README: SIDESTASH_SCHEDULE_JITTER), so
// that a run never starts after the next one is due. For a schedule whose runs are not evenly
// spaced (01:00 and 02:00 daily), the period that bounds a run's jitter is the time to the run
// after it: the 01:00 run starts by 01:06, never after 02:00. The real store, session manager and
// scheduler (croner) on node:test's mock clock.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { createLogger } from '../common/log.ts';
import { scheduleJitterMs } from './schedule-jitter.ts';
import { Scheduler } from './scheduler.ts';
import { scheduledSessionName } from '../common/scheduled-name.ts';
import { SessionManager } from './sessions/session-manager.ts';
import { SqliteStore } from './store/sqlite-store.ts';

const quiet = createLogger({}, { level: 'error', write: () => {} });
const MAX_JITTER_MS = 2 * 3_600_000;
const HOUR_MS = 3_600_000;
/** 2026-03-10 01:00 UTC. */
const ONE_AM_MS = Date.UTC(2026, 2, 10, 1, 0, 0);

async function advance(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 1000) {
    mock.timers.tick(Math.min(1000, left));
    for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('schedule jitter on a schedule with uneven gaps', () => {
  it('the 01:00 run of "0 1,2 * * *" starts within a tenth of the hour to the 02:00 run', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: ONE_AM_MS - 5_000 });
    const store = new SqliteStore(':memory:');
    const scheduler = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet, { maxJitterMs: MAX_JITTER_MS });
    try {
      // A configuration that draws a delay of over an hour from a 2 h bound (its uid is chosen by the store: created until one does).
      let name = '';
      for (let i = 0; ; i++) {
        name = `twice-${i}`;
        await store.create({
          apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration',
          metadata: { name, namespace: 'shop', creationTimestamp: new Date(ONE_AM_MS - 86_400_000).toISOString() },
          spec: { schedule: '0 1,2 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } },
        });
        const uid = (await store.get('BackupConfiguration', 'shop', name))?.metadata.uid ?? '';
        if (scheduleJitterMs(`shop/${name}/${uid}`, MAX_JITTER_MS, undefined) > HOUR_MS) break;
        await store.delete('BackupConfiguration', 'shop', name);
      }
      await scheduler.sync();
      // 01:00, then a tenth of the hour to 02:00 (and a second).
      await advance(5_000 + HOUR_MS / 10 + 1_000);
      const names = (await store.list('BackupSession')).map((s) => s.metadata.name);
      assert.deepEqual(names, [scheduledSessionName(name, ONE_AM_MS)], 'the 01:00 run has not started 6 minutes after 01:00');
    } finally {
      scheduler.stop();
      store.close();
      mock.timers.reset();
    }
  });
});
