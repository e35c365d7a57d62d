import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BinlogFileRecord } from './archive-layout.ts';
import { SERVER_AGENT_CLOCK_MARGIN_MS } from './archive-layout.ts';
import { planBinlogRetention } from './binlog-retention.ts';
import type { KeptDump } from './binlog-retention.ts';

const H = 3600;
const T = 1_796_000_000; // unix seconds
const rec = (id: string, file: string, o: Partial<BinlogFileRecord> = {}): BinlogFileRecord => ({
  snapshotId: `${id}${'0'.repeat(64 - id.length)}`, time: '2026-12-01T00:00:00Z', chain: 'aaaaaaaaaaaaaaaa', file, sequence: Number(file.split('.')[1]), serverId: 1, endPosition: 1000, closed: true,
  firstEventTime: T - 10 * H, lastEventTime: T - 9 * H, gtidStart: [], gtidEnd: [], ...o,
});
const dump = (id: string, file: string, takenS: number): KeptDump => ({ snapshotId: `${id}${'0'.repeat(64 - id.length)}`, coordinates: { file, position: 400, gtid: [] }, takenAtMs: takenS * 1000 });
const ids = (rs: { snapshotId: string }[]) => rs.map((r) => r.snapshotId.replace(/0+$/, '')).sort();

describe('binlog retention', () => {
  it('forgets the closed files that ended before the oldest kept dump, and keeps every file from it on', () => {
    const records = [
      rec('a1', 'mysql-bin.000001', { lastEventTime: T - 30 * H }),
      rec('a2', 'mysql-bin.000002', { lastEventTime: T - 26 * H }),
      rec('a3', 'mysql-bin.000003', { firstEventTime: T - 25 * H, lastEventTime: T - 2 * H }), // holds the dump's coordinates
      rec('a4', 'mysql-bin.000004', { closed: false, firstEventTime: T - 2 * H, lastEventTime: T }),
    ];
    const plan = planBinlogRetention([dump('d2', 'mysql-bin.000003', T - 1 * H), dump('d1', 'mysql-bin.000003', T - 24 * H)], records);
    assert.deepEqual(ids(plan.forget.map((f) => f.record)), ['a1', 'a2']);
    assert.deepEqual(ids(plan.keep), ['a3', 'a4']);
    assert.match(plan.forget[0]!.reason, /ended before the oldest kept dump \(d1/);
  });

  const table: [string, KeptDump[], BinlogFileRecord[], string[]][] = [
    ['no kept dump with coordinates: nothing goes', [], [rec('a1', 'mysql-bin.000001', { lastEventTime: T - 100 * H })], []],
    ['within the clock margin of the dump: kept', [dump('d', 'mysql-bin.000009', T)], [rec('a1', 'mysql-bin.000001', { lastEventTime: T - SERVER_AGENT_CLOCK_MARGIN_MS / 1000 + 1 })], []],
    ['older than the margin: forgotten', [dump('d', 'mysql-bin.000009', T)], [rec('a1', 'mysql-bin.000001', { lastEventTime: T - SERVER_AGENT_CLOCK_MARGIN_MS / 1000 - 1 })], ['a1']],
    ['an open file, however old its last event (an idle server): kept', [dump('d', 'mysql-bin.000009', T)], [rec('a1', 'mysql-bin.000001', { closed: false, lastEventTime: T - 100 * H })], []],
    ["the dump's own file, even if its events look old (a skewed clock): kept", [dump('d', 'mysql-bin.000001', T)], [rec('a1', 'mysql-bin.000001', { lastEventTime: T - 100 * H })], []],
    ['a file with no event time (nothing archived in it yet): kept', [dump('d', 'mysql-bin.000009', T)], [rec('a1', 'mysql-bin.000001', { firstEventTime: undefined, lastEventTime: undefined } as unknown as Partial<BinlogFileRecord>)], []],
    ['a superseded snapshot of one file (a crash between save and remove): the smaller goes, whatever the dumps', [], [rec('a1', 'mysql-bin.000004', { closed: false, endPosition: 500 }), rec('a2', 'mysql-bin.000004', { closed: false, endPosition: 900 })], ['a1']],
    ['the same file name in two chains (a rebuilt server) is not a supersession', [], [rec('a1', 'mysql-bin.000001', { chain: 'aaaaaaaaaaaaaaaa' }), rec('b1', 'mysql-bin.000001', { chain: 'bbbbbbbbbbbbbbbb', endPosition: 5000 })], []],
    ['an old chain before a gap: forgotten once a newer dump is the oldest kept', [dump('d', 'mysql-bin.000001', T)], [rec('a7', 'mysql-bin.000007', { chain: 'aaaaaaaaaaaaaaaa', lastEventTime: T - 48 * H }), rec('b1', 'mysql-bin.000001', { chain: 'bbbbbbbbbbbbbbbb', closed: false, lastEventTime: T })], ['a7']],
  ];
  for (const [name, kept, records, want] of table) {
    it(name, () => assert.deepEqual(ids(planBinlogRetention(kept, records).forget.map((f) => f.record)), want));
  }
});
