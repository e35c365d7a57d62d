// A configuration changed (not its schedule) while its timer is due but has not run yet (the event
// loop busy with the cron minute's other firings) keeps that run: the sync rebuilt its job from
// the clock's now, whose next firing time is the one after, and the due run was never made.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLogger } from '../common/log.ts';
import { scheduledSessionName } from '../common/scheduled-name.ts';
import type { BackupSessionSpec, Resource } from './resources/types.ts';
import type { TimerApi } from './schedule-timer.ts';
import { Scheduler } from './scheduler.ts';
import { SessionManager } from './sessions/session-manager.ts';
import { Store } from './store/store.ts';
import { upsert } from './store/upsert.ts';

const quiet = createLogger({}, { level: 'error' });

/** A clock and timers that move only when told to. */
class FakeTimers implements TimerApi {
  nowMs = Date.parse('2026-06-01T10:00:30Z');
  readonly pending = new Map<number, { atMs: number; fn: () => void }>();
  #id = 0;
  now = (): number => this.nowMs;
  set = (fn: () => void, delayMs: number): unknown => (this.pending.set(++this.#id, { atMs: this.nowMs + delayMs, fn }), this.#id);
  clear = (handle: unknown): void => void this.pending.delete(handle as number);
  runDue(): void {
    for (const [id, t] of [...this.pending].sort((a, b) => a[1].atMs - b[1].atMs)) {
      if (t.atMs > this.nowMs || !this.pending.has(id)) continue;
      this.pending.delete(id);
      t.fn();
    }
  }
}

const config = (timeout?: string) => ({
  apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'nightly', namespace: 'shop' },
  spec: { schedule: '1 10 * * *', ...(timeout ? { timeout } : {}), repository: { name: 'repo' }, target: { ref: { name: 'db' } } },
}) as Resource;

it('a configuration changed, its schedule not, while its timer is due still makes the due run', async () => {
  const store = new Store(':memory:');
  const timers = new FakeTimers();
  const scheduler = new Scheduler(store, new SessionManager(store, quiet, { leaseMs: 60_000 }), quiet, { timers });
  try {
    await upsert(store, config());
    await scheduler.sync();
    // Due at 10:01:00; the event loop gets to it 300 ms late, after a sync of a changed spec.
    timers.nowMs = Date.parse('2026-06-01T10:01:00.300Z');
    await upsert(store, config('2h'));
    await scheduler.sync();
    timers.runDue();
    const want = scheduledSessionName('nightly', Date.parse('2026-06-01T10:01:00Z'));
    let sessions: Resource<BackupSessionSpec>[] = [];
    // The firing is asynchronous (store reads and writes): turns of the event loop, not a time.
    for (let turn = 0; turn < 200 && sessions.length === 0; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      sessions = await store.list<BackupSessionSpec>('BackupSession');
    }
    assert.deepEqual(sessions.map((s) => s.metadata.name), [want]);
  } finally {
    scheduler.stop();
    store.close();
  }
});
