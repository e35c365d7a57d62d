import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPolicy, applyPolicyGrouped, parseTagList } from './retention.ts';
import type { RetentionPolicy, RetentionSnapshot } from './retention.ts';

function snaps(times: string[], extra: Partial<RetentionSnapshot> = {}): RetentionSnapshot[] {
  return times.map((time, i) => ({ id: `s${i}`, time, hostname: 'db-0', paths: ['/dumpfile.sql'], ...extra }));
}

const hourlyDay = snaps([
  '2026-03-01T00:10:00Z', '2026-03-01T00:40:00Z', '2026-03-01T01:10:00Z', '2026-03-01T02:10:00Z',
  '2026-03-02T00:10:00Z', '2026-03-02T23:59:59Z', '2026-03-03T00:00:00Z', '2026-03-09T12:00:00Z',
  '2026-04-01T00:00:00Z', '2027-01-01T00:00:00Z',
]);

const cases: { name: string; policy: RetentionPolicy; input: RetentionSnapshot[]; keep: string[] }[] = [
  { name: 'empty policy keeps all', policy: {}, input: hourlyDay, keep: ['s9', 's8', 's7', 's6', 's5', 's4', 's3', 's2', 's1', 's0'] },
  { name: 'keep-last 3', policy: { keepLast: 3 }, input: hourlyDay, keep: ['s9', 's8', 's7'] },
  { name: 'keep-last 3 (0.14)', policy: { keepLast: 3, keepOldestWithCountsLeft: false }, input: hourlyDay, keep: ['s9', 's8', 's7'] },
  { name: 'keep-last more than there are', policy: { keepLast: 20 }, input: hourlyDay, keep: ['s9', 's8', 's7', 's6', 's5', 's4', 's3', 's2', 's1', 's0'] },
  { name: 'keep-hourly 5 newest first, one per hour', policy: { keepHourly: 5 }, input: hourlyDay, keep: ['s9', 's8', 's7', 's6', 's5'] },
  // s1 and s0 share the hour 2026-03-01 00h: restic >= 0.16 keeps the oldest while counts are left.
  { name: 'keep-hourly 20 keeps oldest', policy: { keepHourly: 20 }, input: hourlyDay, keep: ['s9', 's8', 's7', 's6', 's5', 's4', 's3', 's2', 's1', 's0'] },
  { name: 'keep-hourly 20 (0.14)', policy: { keepHourly: 20, keepOldestWithCountsLeft: false }, input: hourlyDay, keep: ['s9', 's8', 's7', 's6', 's5', 's4', 's3', 's2', 's1'] },
  { name: 'keep-daily 3', policy: { keepDaily: 3 }, input: hourlyDay, keep: ['s9', 's8', 's7'] },
  { name: 'keep-daily 6 (0.14)', policy: { keepDaily: 6, keepOldestWithCountsLeft: false }, input: hourlyDay, keep: ['s9', 's8', 's7', 's6', 's5', 's3'] },
  // 2026-03-02 (Mon) starts ISO week 10; 2026-03-01 (Sun) is in week 9.
  { name: 'keep-weekly 4 (ISO weeks)', policy: { keepWeekly: 4 }, input: hourlyDay, keep: ['s9', 's8', 's7', 's6'] },
  { name: 'keep-weekly 5 (0.14)', policy: { keepWeekly: 5, keepOldestWithCountsLeft: false }, input: hourlyDay, keep: ['s9', 's8', 's7', 's6', 's3'] },
  { name: 'keep-monthly 2', policy: { keepMonthly: 2 }, input: hourlyDay, keep: ['s9', 's8'] },
  { name: 'keep-monthly 3 (0.14)', policy: { keepMonthly: 3, keepOldestWithCountsLeft: false }, input: hourlyDay, keep: ['s9', 's8', 's7'] },
  { name: 'keep-yearly 1', policy: { keepYearly: 1 }, input: hourlyDay, keep: ['s9'] },
  { name: 'keep-yearly 5 keeps oldest', policy: { keepYearly: 5 }, input: hourlyDay, keep: ['s9', 's8', 's0'] },
  { name: 'keep-yearly unlimited (-1)', policy: { keepYearly: -1 }, input: hourlyDay, keep: ['s9', 's8', 's0'] },
  { name: 'rules combine', policy: { keepLast: 1, keepDaily: 2, keepMonthly: 3, keepOldestWithCountsLeft: false }, input: hourlyDay, keep: ['s9', 's8', 's7'] },
  { name: 'rules combine 2', policy: { keepLast: 2, keepHourly: 3, keepWeekly: 2, keepOldestWithCountsLeft: false }, input: hourlyDay, keep: ['s9', 's8', 's7'] },
  {
    name: 'days are counted in the zone the snapshot recorded',
    policy: { keepDaily: 10, keepOldestWithCountsLeft: false },
    // The same instant on 2026-05-01 UTC, but 2026-05-02 in +02:00.
    input: snaps(['2026-05-01T23:30:00+00:00', '2026-05-02T01:40:00+02:00', '2026-05-02T10:00:00+02:00']),
    keep: ['s2', 's0'],
  },
  {
    name: 'tags keep without counting',
    policy: { keepLast: 1, keepTags: [['monthly']], keepOldestWithCountsLeft: false },
    input: [
      { id: 'a', time: '2026-01-01T00:00:00Z', tags: ['monthly'] },
      { id: 'b', time: '2026-01-02T00:00:00Z', tags: null },
      { id: 'c', time: '2026-01-03T00:00:00Z', tags: ['daily'] },
    ],
    keep: ['c', 'a'],
  },
  {
    name: 'several tag lists: a snapshot with all tags of any one list is kept',
    policy: { keepLast: 1, keepTags: [['gold'], ['silver', 'pinned']] },
    input: [
      { id: 'a', time: '2026-01-01T00:00:00Z', tags: ['silver'] },
      { id: 'b', time: '2026-01-02T00:00:00Z', tags: ['pinned', 'silver'] },
      { id: 'c', time: '2026-01-03T00:00:00Z', tags: ['gold'] },
      { id: 'd', time: '2026-01-04T00:00:00Z', tags: ['x'] },
    ],
    keep: ['d', 'c', 'b'],
  },
  {
    // restic's HasTags: an empty tag matches a snapshot without tags (Stash's own), and no tagged one.
    name: 'an empty tag keeps untagged snapshots only',
    policy: { keepLast: 1, keepTags: [[''], ['gold', '', 'silver']] },
    input: [
      { id: 'a', time: '2026-01-01T00:00:00Z', tags: null },
      { id: 'b', time: '2026-01-02T00:00:00Z', tags: ['gold', 'silver'] },
      { id: 'c', time: '2026-01-03T00:00:00Z' },
      { id: 'd', time: '2026-01-04T00:00:00Z', tags: ['x'] },
    ],
    keep: ['d', 'c', 'a'],
  },
  {
    name: 'times within one millisecond are ordered by their nanoseconds, whatever the input order',
    policy: { keepLast: 1 },
    input: [
      { id: 'earlier', time: '2027-01-05T10:00:00.123456788Z' },
      { id: 'later', time: '2027-01-05T11:00:00.123456789+01:00' },
    ],
    keep: ['later'],
  },
  { name: 'nothing to decide', policy: { keepLast: 1 }, input: [], keep: [] },
];

describe('retention policy (restic ApplyPolicy)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const d = applyPolicy(c.input, c.policy);
      assert.deepEqual(d.keep.map((s) => s.id), c.keep);
      assert.equal(d.keep.length + d.remove.length, c.input.length);
      for (const s of d.keep) assert.ok(d.reasons.get(s.id)?.length);
    });
  }

  it('gives restic\'s reasons: tag lists as restic prints them, "oldest" for a snapshot kept only as the oldest', () => {
    const d = applyPolicy(snaps(['2026-01-01T00:00:00Z', '2026-01-01T05:00:00Z', '2026-01-02T00:00:00Z'], { tags: ['silver', 'pinned'] }), {
      keepDaily: 5, keepLast: 1, keepTags: [['silver', 'pinned']],
    });
    assert.deepEqual(d.reasons.get('s2'), ['has tags [silver, pinned]', 'last snapshot', 'daily snapshot']);
    assert.deepEqual(d.reasons.get('s1'), ['has tags [silver, pinned]', 'daily snapshot']);
    assert.deepEqual(d.reasons.get('s0'), ['has tags [silver, pinned]', 'oldest daily snapshot']);
  });

  it('parses a --keep-tag value as restic does', () => {
    assert.deepEqual(parseTagList(' a , b'), ['a', 'b']);
    assert.deepEqual(parseTagList('a,,b'), ['a', '', 'b']);
    assert.deepEqual(parseTagList(''), ['']);
  });

  it('groups by host and paths', () => {
    const a = snaps(['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'], { hostname: 'a' }).map((s) => ({ ...s, id: `a${s.id}` }));
    const b = snaps(['2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z'], { hostname: 'b' }).map((s) => ({ ...s, id: `b${s.id}` }));
    const d = applyPolicyGrouped([...a, ...b], { keepLast: 1 });
    assert.deepEqual(d.keep.map((s) => s.id).sort(), ['as1', 'bs1']);
    assert.deepEqual(d.remove.map((s) => s.id).sort(), ['as0', 'bs0']);
  });
});
