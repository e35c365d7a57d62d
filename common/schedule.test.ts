// Schedules on a table: the documented default zone (UTC, whatever the process TZ) and the
// DST change days in Europe/Berlin (2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Cron } from 'croner';
import { PARSED_MAX, latestRunAt, nextRunTimes, parsedScheduleCount, scheduledRunAt, schedulesParsed } from './schedule.ts';

const iso = (dates: Date[]): string[] => dates.map((d) => d.toISOString());

const cases: { name: string; schedule: string; timezone?: string; from: string; want: string[] }[] = [
  {
    name: 'no timezone: UTC, not the process zone',
    schedule: '0 3 * * *',
    from: '2026-06-01T12:00:00Z',
    want: ['2026-06-02T03:00:00.000Z', '2026-06-03T03:00:00.000Z'],
  },
  {
    name: 'Berlin spring forward: 02:30 does not exist, runs once at 03:00 CEST',
    schedule: '30 2 * * *',
    timezone: 'Europe/Berlin',
    from: '2026-03-28T12:00:00Z',
    want: ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
  },
  {
    name: 'Berlin fall back: 02:30 occurs twice, runs once at the first (CEST)',
    schedule: '30 2 * * *',
    timezone: 'Europe/Berlin',
    from: '2026-10-24T12:00:00Z',
    want: ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
  },
  {
    name: 'Berlin, a time outside the change keeps its wall-clock time across it',
    schedule: '0 4 * * *',
    timezone: 'Europe/Berlin',
    from: '2026-03-28T12:00:00Z',
    want: ['2026-03-29T02:00:00.000Z', '2026-03-30T02:00:00.000Z'],
  },
  {
    name: 'an interval job runs at every wall-clock time that exists (spring: 02:xx skipped)',
    schedule: '0 * * * *',
    timezone: 'Europe/Berlin',
    from: '2026-03-28T23:30:00Z',
    want: ['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
  },
  {
    name: 'New York spring forward (2026-03-08): 02:30 runs at 03:00 EDT',
    schedule: '30 2 * * *',
    timezone: 'America/New_York',
    from: '2026-03-07T12:00:00Z',
    want: ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
  },
];

for (const c of cases) {
  it(c.name, () => {
    assert.deepEqual(iso(nextRunTimes(c, Date.parse(c.from), c.want.length)), c.want);
  });
}

it('answers from its shared parsed schedules as a fresh croner job of each would, the zone part of the key', () => {
  const schedules = ['0 3 * * *', '*/15 * * * *', '30 2 * * 1-5', '0 0 1 * *'];
  const zones = [undefined, 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
  for (let round = 0; round < 2; round++) {
    for (const schedule of schedules) {
      for (const timezone of zones) {
        const fresh = new Cron(schedule, { timezone: timezone ?? 'UTC', paused: true });
        for (const from of ['2026-03-07T12:00:00Z', '2026-03-29T00:59:59Z', '2026-10-25T00:30:00Z']) {
          const fromMs = Date.parse(from);
          const spec = { schedule, ...(timezone ? { timezone } : {}) };
          assert.deepEqual(iso(nextRunTimes(spec, fromMs, 3)), iso(fresh.nextRuns(3, new Date(fromMs))), `${schedule} ${timezone} ${from}`);
          assert.equal(scheduledRunAt(spec, fromMs), fresh.previousRuns(1, new Date(fromMs + 1))[0]!.getTime());
          assert.equal(latestRunAt(spec, fromMs), fresh.previousRuns(1, new Date(fromMs + 1))[0]!.getTime());
        }
      }
    }
  }
});

it(`keeps at most ${PARSED_MAX} parsed schedules`, () => {
  for (let m = 0; m < 60; m++) for (const h of [1, 2]) nextRunTimes({ schedule: `${m} ${h} * * *` }, 0, 1);
  assert.equal(parsedScheduleCount(), PARSED_MAX);
  // Asking again answers right (the count stays at the bound whether or not it parsed: the test below counts parses).
  assert.deepEqual(iso(nextRunTimes({ schedule: '59 2 * * *' }, Date.parse('2026-01-01T00:00:00Z'), 1)), ['2026-01-01T02:59:00.000Z']);
  assert.equal(parsedScheduleCount(), PARSED_MAX);
});

it('drops the least recently used parsed schedule, not the least recently parsed, and parses a kept one no more', () => {
  const key = (i: number) => ({ schedule: `${i % 60} ${10 + Math.floor(i / 60)} * * *`, timezone: 'Europe/Paris' });
  for (let i = 0; i < PARSED_MAX; i++) nextRunTimes(key(i), 0, 1);
  const parses = schedulesParsed();
  nextRunTimes(key(0), 0, 1); // kept: no parse, and now the most recently used
  assert.equal(schedulesParsed(), parses, 'a kept schedule is not parsed again');
  nextRunTimes(key(PARSED_MAX), 0, 1); // a new one: key(1), the least recently used, goes
  assert.equal(schedulesParsed(), parses + 1);
  nextRunTimes(key(0), 0, 1);
  assert.equal(schedulesParsed(), parses + 1, 'the first parsed but recently used stays');
  nextRunTimes(key(1), 0, 1);
  assert.equal(schedulesParsed(), parses + 2, 'the least recently used went');
  assert.equal(parsedScheduleCount(), PARSED_MAX);
});
