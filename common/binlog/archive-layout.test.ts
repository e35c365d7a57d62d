import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binlogFileRecord, binlogFileSequence, binlogFileTags, dumpCoordinates, dumpCoordinateTags, isBinlogSnapshot, parseGtidList } from './archive-layout.ts';
import type { BinlogFileRecord } from './archive-layout.ts';

const record: Omit<BinlogFileRecord, 'snapshotId' | 'time' | 'sequence'> = {
  chain: '0123456789abcdef',
  file: 'mysql-bin.000042',
  serverId: 7,
  endPosition: 123456,
  closed: true,
  firstEventTime: 1796167813,
  lastEventTime: 1796167900,
  gtidStart: [{ domain: 0, serverId: 7, seq: 11n }],
  gtidEnd: [{ domain: 0, serverId: 7, seq: 40n }, { domain: 1, serverId: 9, seq: 18446744073709551615n }],
};
const snap = (tags: string[]) => ({ id: 'abc', time: '2026-12-01T10:00:00Z', tags: ['namespace=ns', 'target=ns/shop', ...tags] });

describe('binlog archive layout', () => {
  it('reads back every field it wrote', () => {
    const tags = binlogFileTags(record);
    assert.deepEqual(binlogFileRecord(snap(tags)), { ...record, snapshotId: 'abc', time: '2026-12-01T10:00:00Z', sequence: 42 });
    const open = { ...record, closed: false, gtidEnd: [], firstEventTime: undefined, lastEventTime: undefined };
    const { firstEventTime: _f, lastEventTime: _l, ...rest } = open;
    assert.deepEqual(binlogFileRecord(snap(binlogFileTags(rest))), { ...rest, snapshotId: 'abc', time: '2026-12-01T10:00:00Z', sequence: 42 });
    assert.equal(isBinlogSnapshot(snap(tags)), true);
    assert.equal(isBinlogSnapshot(snap(['invoker=daily'])), false);
  });

  const good = binlogFileTags(record);
  const without = (prefix: string) => good.filter((t) => !t.startsWith(prefix));
  const table: [string, string[]][] = [
    ['no chain', without('binlog-chain=')],
    ['a chain that is not 16 hex digits', [...without('binlog-chain='), 'binlog-chain=XYZ']],
    ['two files', [...good, 'binlog-file=mysql-bin.000043']],
    ['a path in the file name', [...without('binlog-file='), 'binlog-file=../etc.000001']],
    ['a file name without a number', [...without('binlog-file='), 'binlog-file=mysql-bin']],
    ['a negative end', [...without('binlog-end='), 'binlog-end=-1']],
    ['an end beyond 2^52', [...without('binlog-end='), 'binlog-end=9999999999999999']],
    ['a server id beyond 32 bits', [...without('binlog-server-id='), 'binlog-server-id=4294967296']],
    ['a GTID that is not d-s-n', [...good, 'binlog-gtid-end=0-7']],
    ['two GTIDs of one domain', [...good, 'binlog-gtid-end=0-8-1']],
    ['a sequence number beyond 64 bits', [...without('binlog-gtid-end='), 'binlog-gtid-end=0-7-18446744073709551616']],
    ['a first time without a last', without('binlog-last-time=')],
    ['a first time after the last', [...without('binlog-first-time='), 'binlog-first-time=1796167901']],
    ['a time that is not a number', [...without('binlog-last-time='), 'binlog-last-time=soon']],
  ];
  for (const [name, tags] of table) {
    it(`is not an archive with ${name}`, () => assert.equal(binlogFileRecord(snap(tags)), undefined));
  }

  it('numbers binlog files by their suffix and refuses other names', () => {
    assert.equal(binlogFileSequence('mysql-bin.000042'), 42);
    assert.equal(binlogFileSequence('mariadb-bin.999999'), 999999);
    for (const bad of ['mysql-bin', '.000001', '/x.000001', 'a b.000001', 'x.0000000001', '..000001', 'a..b.000001']) assert.equal(binlogFileSequence(bad), undefined, bad);
  });

  it('records and reads a dump\'s coordinates', () => {
    const c = { file: 'mysql-bin.000003', position: 328, gtid: [{ domain: 0, serverId: 7, seq: 5n }] };
    assert.deepEqual(dumpCoordinates({ tags: dumpCoordinateTags(c) }), c);
    assert.deepEqual(dumpCoordinates({ tags: dumpCoordinateTags({ ...c, seenAtMs: 1796167813123 }) }), { ...c, seenAtMs: 1796167813123 });
    assert.equal(dumpCoordinates({ tags: [...dumpCoordinateTags(c), 'dump-binlog-seen=yesterday'] }), undefined);
    assert.equal(dumpCoordinates({ tags: ['dump-binlog-file=mysql-bin.000003'] }), undefined);
    assert.equal(dumpCoordinates({ tags: ['dump-binlog-file=x', 'dump-binlog-pos=4'] }), undefined);
  });

  it('parses gtid_binlog_pos lists', () => {
    assert.deepEqual(parseGtidList(''), []);
    assert.deepEqual(parseGtidList('0-1-5, 1-2-7'), [{ domain: 0, serverId: 1, seq: 5n }, { domain: 1, serverId: 2, seq: 7n }]);
    assert.equal(parseGtidList('0-1-5,0-2-7'), undefined);
    assert.equal(parseGtidList('0-1-5,'), undefined);
  });
});
