// A stored configuration whose schedule or zone croner cannot read (Kubernetes-native mode: the
// CRD's patterns pass "61 * * * *" and "Mars/Olympus", which only the controller's validation
// refuses, and kubectl apply reaches no controller) has no schedule; the others keep theirs. One
// that never fires ("0 0 30 2 *") is said in the log, not left silent.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLogger } from '../common/log.ts';
import type { BackupConfigurationStatus, Resource } from './resources/types.ts';
import { Scheduler } from './scheduler.ts';
import { SessionManager } from './sessions/session-manager.ts';
import { Store } from './store/store.ts';
import { upsert } from './store/upsert.ts';

const config = (name: string, schedule: string, timezone?: string) => ({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name, namespace: 'default' }, spec: { schedule, ...(timezone ? { timezone } : {}), repository: { name: 'repo' }, target: { ref: { name: 'db' } } } }) as Resource;

it('a configuration croner cannot read, or that never fires, is logged and left unscheduled; the ones after it are scheduled', async () => {
  const store = new Store(':memory:');
  const lines: string[] = [];
  const log = createLogger({}, { level: 'warn', write: (line: string) => lines.push(line) });
  const scheduler = new Scheduler(store, new SessionManager(store, log, { leaseMs: 60_000 }), log);
  try {
    await upsert(store, config('a-minute-61', '61 * * * *'));
    await upsert(store, config('b-no-such-zone', '0 3 * * *', 'Mars/Olympus'));
    await upsert(store, config('c-good', '0 4 * * *'));
    await upsert(store, config('d-never', '0 0 30 2 *'));
    await scheduler.sync();
    const good = await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'default', 'c-good');
    assert.match(good?.status?.nextScheduleTime ?? '', /T04:00:00/, 'the readable configuration is scheduled');
    for (const bad of ['a-minute-61', 'b-no-such-zone', 'd-never']) {
      const cfg = await store.get<unknown, BackupConfigurationStatus>('BackupConfiguration', 'default', bad);
      assert.equal(cfg?.status?.nextScheduleTime, undefined, bad);
      assert.ok(lines.some((l) => l.includes(`default/${bad}`)), `${bad} is logged: ${lines.join('')}`);
    }
  } finally {
    scheduler.stop();
    store.close();
  }
});
