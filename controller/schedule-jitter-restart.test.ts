// A run waiting out its jitter (schedule-jitter.ts) when the controller stops is not lost: the
// controller that starts next (a restart in sqlite mode, where no catch-up runs; a new leader
// term) still starts it at its scheduled time plus the jitter, once, under its scheduled name.
// The real store, session manager and scheduler (croner); the clock is node:test's mock timers,
// so that the cron's firing and the jitter pass without waiting.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { createLogger } from '../common/log.ts';
import { runLeaderWork } from './leader-work.ts';
import { ResourceService } from './resources/resource-service.ts';
import { scheduleJitterMs } from './schedule-jitter.ts';
import { Scheduler } from './scheduler.ts';
import { scheduledSessionName } from '../common/scheduled-name.ts';
import { SessionManager } from './sessions/session-manager.ts';
import { SqliteStore } from './store/sqlite-store.ts';

const quiet = createLogger({}, { level: 'error', write: () => {} });
const MAX_JITTER_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** 2026-03-10 02:00 UTC: the daily slot the test's configuration runs at. */
const SLOT_MS = Date.UTC(2026, 2, 10, 2, 0, 0);

/** Lets the scheduler's store calls (promises) settle between clock steps. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function advance(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 1000) {
    mock.timers.tick(Math.min(1000, left));
    await settle();
  }
}

describe('schedule jitter across a controller restart', () => {
  it('a run still waiting out its jitter when the controller stops is started by the next controller, once', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: SLOT_MS - 5_000 });
    const store = new SqliteStore(':memory:');
    try {
      // A configuration whose runs start at least 10 minutes after their scheduled time, and one
      // whose runs start within 5 (the jitter hashes the uid, which the store chooses: created
      // until one fits).
      const withJitter = async (prefix: string, fits: (ms: number) => boolean): Promise<{ name: string; jitterMs: number }> => {
        for (let i = 0; ; i++) {
          const name = `${prefix}-${i}`;
          await store.create({
            apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration',
            metadata: { name, namespace: 'shop', creationTimestamp: new Date(SLOT_MS - DAY_MS).toISOString() },
            spec: { schedule: '0 2 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } },
          });
          const uid = (await store.get('BackupConfiguration', 'shop', name))?.metadata.uid ?? '';
          const jitterMs = scheduleJitterMs(`shop/${name}/${uid}`, MAX_JITTER_MS, DAY_MS);
          if (fits(jitterMs)) return { name, jitterMs };
          await store.delete('BackupConfiguration', 'shop', name);
        }
      };
      const { name, jitterMs } = await withJitter('late', (ms) => ms >= 600_000);
      const early = await withJitter('early', (ms) => ms < 290_000);

      const first = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet, { maxJitterMs: MAX_JITTER_MS });
      await first.sync();
      // 02:00: the cron fires; the run waits out its jitter. Five minutes later the controller stops.
      await advance(5_000 + 300_000);
      // The cron did fire: the run with the shorter jitter started.
      assert.deepEqual((await store.list('BackupSession')).map((s) => s.metadata.name), [scheduledSessionName(early.name, SLOT_MS)]);
      first.stop();

      // A minute later the next controller starts (sqlite mode: no catch-up).
      await advance(60_000);
      const second = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet, { maxJitterMs: MAX_JITTER_MS });
      await second.sync();
      try {
        // Past the slot's jitter, well before the next day's slot.
        await advance(jitterMs - 365_000 + 60_000);
        const sessions = (await store.list('BackupSession')).map((s) => s.metadata.name).sort();
        assert.deepEqual(sessions, [scheduledSessionName(early.name, SLOT_MS), scheduledSessionName(name, SLOT_MS)].sort(), 'the 02:00 run was lost with the stopped controller');
        await advance(120_000);
        assert.equal((await store.list('BackupSession')).length, 2, 'each started once');
      } finally {
        second.stop();
      }
    } finally {
      store.close();
      mock.timers.reset();
    }
  });
});

describe('schedule jitter across a short controller restart', () => {
  it('a run whose start time fell while the controller was restarting is started by the next controller, once', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: SLOT_MS - 5_000 });
    const store = new SqliteStore(':memory:');
    try {
      // A configuration whose 02:00 run starts between 02:05:10 and 02:05:50.
      let name = '';
      let jitterMs = 0;
      for (let i = 0; !(jitterMs >= 310_000 && jitterMs <= 350_000); i++) {
        if (name) await store.delete('BackupConfiguration', 'shop', name);
        name = `nightly-${i}`;
        await store.create({
          apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration',
          metadata: { name, namespace: 'shop', creationTimestamp: new Date(SLOT_MS - DAY_MS).toISOString() },
          spec: { schedule: '0 2 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } },
        });
        const uid = (await store.get('BackupConfiguration', 'shop', name))?.metadata.uid ?? '';
        jitterMs = scheduleJitterMs(`shop/${name}/${uid}`, MAX_JITTER_MS, DAY_MS);
      }
      const first = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet, { maxJitterMs: MAX_JITTER_MS });
      await first.sync();
      // The controller stops at 02:05 and is back at 02:06 (a rollout): the run was due meanwhile.
      await advance(5_000 + 300_000);
      first.stop();
      await advance(60_000);
      assert.deepEqual(await store.list('BackupSession'), []);
      const second = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet, { maxJitterMs: MAX_JITTER_MS });
      await second.sync();
      try {
        await advance(1_000);
        assert.deepEqual((await store.list('BackupSession')).map((s) => s.metadata.name), [scheduledSessionName(name, SLOT_MS)], 'the 02:00 run, due during the restart, was skipped');
        await advance(600_000);
        assert.equal((await store.list('BackupSession')).length, 1, 'started once');
      } finally {
        second.stop();
      }
    } finally {
      store.close();
      mock.timers.reset();
    }
  });
});

describe('schedule jitter across a failover (Kubernetes mode: the catch-up)', () => {
  it('a new leader\'s catch-up leaves a run still waiting out its jitter to start at its time, once', async () => {
    // The old leader died a minute after 02:00; the new one takes over a minute later.
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: SLOT_MS + 120_000 });
    const store = new SqliteStore(':memory:');
    const sessions = new SessionManager(store, quiet, { leaseMs: 60_000 });
    const scheduler = new Scheduler(store, sessions, quiet, { maxJitterMs: MAX_JITTER_MS });
    const ac = new AbortController();
    try {
      let name = '';
      let jitterMs = 0;
      for (let i = 0; jitterMs < 600_000; i++) {
        if (name) await store.delete('BackupConfiguration', 'shop', name);
        name = `nightly-${i}`;
        await store.create({
          apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration',
          metadata: { name, namespace: 'shop', creationTimestamp: new Date(SLOT_MS - DAY_MS).toISOString() },
          spec: { schedule: '0 2 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } },
        });
        const uid = (await store.get('BackupConfiguration', 'shop', name))?.metadata.uid ?? '';
        jitterMs = scheduleJitterMs(`shop/${name}/${uid}`, MAX_JITTER_MS, DAY_MS);
      }
      const host = { log: quiet, store, sessions, scheduler, resources: new ResourceService(store), pushgateway: undefined };
      await runLeaderWork(host, ac.signal, { sweepIntervalMs: 5_000, kubernetes: { catchUpWindowMs: 10 * 60_000, onConfigurationChanged: async () => {} } });
      await advance(10_000);
      assert.deepEqual(await store.list('BackupSession'), [], 'the catch-up started the run before its jitter had passed (the storm the jitter spreads)');
      await advance(jitterMs - 130_000 + 1_000);
      assert.deepEqual((await store.list('BackupSession')).map((s) => s.metadata.name), [scheduledSessionName(name, SLOT_MS)]);
      await advance(60_000);
      assert.equal((await store.list('BackupSession')).length, 1, 'started once');
    } finally {
      ac.abort();
      store.close();
      mock.timers.reset();
    }
  });
});

describe('schedule jitter and a configuration replaced meanwhile', () => {
  it('a configuration deleted and created again while its run waits out the jitter does not get the old one\'s run', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: SLOT_MS - 5_000 });
    const store = new SqliteStore(':memory:');
    const scheduler = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet, { maxJitterMs: MAX_JITTER_MS });
    try {
      const spec = { schedule: '0 2 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } };
      let name = '';
      let jitterMs = 0;
      for (let i = 0; jitterMs < 600_000; i++) {
        if (name) await store.delete('BackupConfiguration', 'shop', name);
        name = `nightly-${i}`;
        await store.create({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name, namespace: 'shop', creationTimestamp: new Date(SLOT_MS - DAY_MS).toISOString() }, spec });
        const uid = (await store.get('BackupConfiguration', 'shop', name))?.metadata.uid ?? '';
        jitterMs = scheduleJitterMs(`shop/${name}/${uid}`, MAX_JITTER_MS, DAY_MS);
      }
      await scheduler.sync();
      await advance(5_000 + 60_000);
      // A minute after 02:00 the configuration is deleted and applied again: another one (new uid), created after the slot.
      await store.delete('BackupConfiguration', 'shop', name);
      await scheduler.sync();
      await store.create({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name, namespace: 'shop' }, spec: { ...spec, dumpArgs: ['--all-databases'] } });
      await scheduler.sync();
      await advance(jitterMs);
      assert.deepEqual(await store.list('BackupSession'), [], 'the new configuration ran the deleted one\'s 02:00 backup');
    } finally {
      scheduler.stop();
      store.close();
      mock.timers.reset();
    }
  });
});
