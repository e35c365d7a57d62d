// The catch-up rule of a new leader, on a table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMissedRun } from './missed-run.ts';
import type { MissedRunInput } from './missed-run.ts';

const now = Date.parse('2026-12-01T12:00:30Z');
const at = Date.parse('2026-12-01T12:00:00Z');
const base: MissedRunInput = { scheduledMs: at, nowMs: now, windowMs: 60_000 };

describe('isMissedRun', () => {
  const table: [string, Partial<MissedRunInput>, boolean][] = [
    ['never fired, recent', {}, true],
    ['fired before the scheduled time (the previous run)', { lastScheduleMs: at - 60_000 }, true],
    ['already fired for this time', { lastScheduleMs: at + 200 }, false],
    ['fired exactly at it', { lastScheduleMs: at }, false],
    ['older than the window', { nowMs: at + 61_000 }, false],
    ['so recent that the timer fires it', { nowMs: at + 500 }, false],
    ['the configuration was created after it', { createdMs: at + 1 }, false],
    ['created before it', { createdMs: at - 1 }, true],
    ['unparseable times are ignored', { lastScheduleMs: Number.NaN, createdMs: Number.NaN }, true],
  ];
  for (const [name, change, want] of table) it(name, () => assert.equal(isMissedRun({ ...base, ...change }), want));
});
