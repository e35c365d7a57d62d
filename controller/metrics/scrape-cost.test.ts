// What one /metrics scrape costs with many BackupConfigurations: the configurations are read
// once for all the per-configuration gauges, and a schedule's period is computed once per run of
// the schedule, however many configurations share it; the values are those computed afresh.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../metrics.ts';
import { nextRunTimes } from '../../common/schedule.ts';
import type { Resource } from '../resources/types.ts';
import { Store } from '../store/store.ts';
import { upsert } from '../store/upsert.ts';
import { schedulePeriodSeconds } from './configuration-samples.ts';

function fresh(spec: { schedule: string; timezone?: string }, nowMs: number): number | undefined {
  try {
    const [a, b] = nextRunTimes(spec, nowMs, 2);
    return a && b ? (b.getTime() - a.getTime()) / 1000 : undefined;
  } catch {
    return undefined;
  }
}

describe('/metrics scrape cost', () => {
  it('a schedule period kept per schedule is the one computed afresh, across runs and on irregular schedules', () => {
    const specs = [{ schedule: '0 3 * * 1-5' }, { schedule: '*/7 * * * *' }, { schedule: '0 3 * * 1-5', timezone: 'Europe/Berlin' }, { schedule: '30 2 * * *', timezone: 'Europe/Berlin' }, { schedule: 'not a schedule' }];
    // Friday 2026-03-06, around the 03:00 UTC run and on to Monday; and the DST change in Berlin (2026-03-29).
    const start = Date.parse('2026-03-06T02:58:00Z');
    const times = [0, 60_000, 119_999, 120_000, 120_001, 3_600_000, 3 * 86_400_000, 3 * 86_400_000 + 120_000, 23 * 86_400_000, 23 * 86_400_000 + 60_000].map((d) => start + d);
    for (const spec of specs) {
      for (const t of times) assert.equal(schedulePeriodSeconds(spec, t), fresh(spec, t), `${JSON.stringify(spec)} at ${new Date(t).toISOString()}`);
      // A clock that steps back is computed afresh too.
      for (const t of [...times].reverse()) assert.equal(schedulePeriodSeconds(spec, t), fresh(spec, t), `${JSON.stringify(spec)} at ${new Date(t).toISOString()} (backwards)`);
    }
  });

  it('one scrape reads the configurations once for all its gauges', async () => {
    const store = new Store(':memory:');
    for (let i = 0; i < 50; i++) {
      await upsert(store, { apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: `c-${i}`, namespace: 'default' }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: `db-${i}` } } } } as Resource);
    }
    let reads = 0;
    const sessionReads: string[] = [];
    const list = store.list.bind(store);
    store.list = ((kind: string, ...rest: unknown[]) => {
      if (kind === 'BackupConfiguration') reads++;
      if (kind === 'BackupSession' || kind === 'RestoreSession') sessionReads.push(kind);
      return (list as (...a: unknown[]) => unknown)(kind, ...rest);
    }) as Store['list'];
    const { registry } = createMetrics(store, 60_000);
    const text = await registry.metrics();
    assert.equal(reads, 1);
    assert.deepEqual(sessionReads.sort(), ['BackupSession', 'RestoreSession'], 'the sessions once too, for the per-phase counts and the oldest ages');
    assert.match(text, /^sidestash_sessions\{kind="BackupSession",phase="Pending"\} 0$/m);
    assert.match(text, /^sidestash_session_oldest_age_seconds\{kind="BackupSession",phase="Pending"\} 0$/m);
    assert.equal(text.split('\n').filter((l) => l.startsWith('sidestash_backup_schedule_period_seconds{')).length, 50);
    // The next scrape reads them again (a change in between is seen).
    await upsert(store, { apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'c-50', namespace: 'default' }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db-50' } } } } as Resource);
    const again = await registry.metrics();
    assert.equal(reads, 2);
    assert.equal(sessionReads.length, 4, 'and afresh at the next scrape');
    assert.equal(again.split('\n').filter((l) => l.startsWith('sidestash_backup_schedule_period_seconds{')).length, 51);
    store.close();
  });
});
