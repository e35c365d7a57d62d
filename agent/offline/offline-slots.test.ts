// When the agent runs a schedule itself (offline-slots.ts), on tables.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isOffline, offlineSlot } from './offline-slots.ts';

const T = Date.parse('2026-12-02T10:00:00Z');
const min = 60_000;

it('offline only after the threshold since the last answer, and never counting the agent\'s own downtime', () => {
  const f = T - 1000;
  const rows: [string, { nowMs: number; lastContactMs?: number; lastFailureMs?: number; startedMs: number }, boolean][] = [
    ['answered just now', { nowMs: T, lastContactMs: T - 1000, lastFailureMs: T - 2000, startedMs: T - 60 * min }, false],
    ['failing, silent for exactly the threshold', { nowMs: T, lastContactMs: T - 10 * min, lastFailureMs: f, startedMs: T - 60 * min }, false],
    ['failing, silent for longer', { nowMs: T, lastContactMs: T - 10 * min - 1, lastFailureMs: f, startedMs: T - 60 * min }, true],
    ['silent for longer but nothing failed (a long poll waiting)', { nowMs: T, lastContactMs: T - 10 * min - 1, startedMs: T - 60 * min }, false],
    ['silent for longer, answered after the last failure', { nowMs: T, lastContactMs: T - 10 * min - 1, lastFailureMs: T - 11 * min, startedMs: T - 60 * min }, false],
    ['never answered, started long ago', { nowMs: T, lastFailureMs: f, startedMs: T - 11 * min }, true],
    ['never answered, just started', { nowMs: T, lastFailureMs: f, startedMs: T - 1000 }, false],
    ['last answer a day ago, but the agent only just started (its own downtime)', { nowMs: T, lastContactMs: T - 24 * 60 * min, lastFailureMs: f, startedMs: T - min }, false],
  ];
  for (const [what, c, want] of rows) assert.equal(isOffline({ ...c, offlineAfterMs: 10 * min }), want, what);
});

it('the newest scheduled time not yet run, after its jitter; older missed times are not run one by one', () => {
  const hourly = { schedule: '0 * * * *' };
  const rows: [string, { lastSlotMs: number; nowMs: number; jitterMs: number }, ReturnType<typeof offlineSlot>][] = [
    ['due: 10:00 not run yet', { lastSlotMs: T - 60 * min, nowMs: T + 5000, jitterMs: 0 }, { run: T }],
    ['10:00 already run: wait for 11:00', { lastSlotMs: T, nowMs: T + 5000, jitterMs: 0 }, { waitUntilMs: T + 60 * min }],
    ['jitter not passed yet', { lastSlotMs: T - 60 * min, nowMs: T + 5000, jitterMs: 10_000 }, { waitUntilMs: T + 10_000 }],
    ['jitter passed', { lastSlotMs: T - 60 * min, nowMs: T + 10_000, jitterMs: 10_000 }, { run: T }],
    ['three missed: only the newest runs', { lastSlotMs: T - 3 * 60 * min, nowMs: T + 30 * min, jitterMs: 0 }, { run: T }],
    ['configuration new in the plan at 10:20: 10:00 was the controller\'s', { lastSlotMs: T + 20 * min, nowMs: T + 30 * min, jitterMs: 0 }, { waitUntilMs: T + 60 * min }],
  ];
  for (const [what, i, want] of rows) assert.deepEqual(offlineSlot({ schedule: hourly, ...i }), want, what);
});

it('a schedule\'s time zone is the controller\'s rule too (common/schedule.ts)', () => {
  // 02:00 in Berlin is 01:00 UTC in December.
  const d = offlineSlot({ schedule: { schedule: '0 2 * * *', timezone: 'Europe/Berlin' }, lastSlotMs: T - 48 * 60 * min, nowMs: T, jitterMs: 0 });
  assert.deepEqual(d, { run: Date.parse('2026-12-02T01:00:00Z') });
});
