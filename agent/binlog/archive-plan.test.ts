// The archiver's pure decisions on tables: where to resume, what a stream event is, whether an
// event follows the archived bytes, whether a new file's GTID list follows the chain.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BinlogFileRecord } from '../../common/binlog/archive-layout.ts';
import { EventType, LOG_EVENT_ARTIFICIAL_F } from '../../common/binlog/binlog-events.ts';
import type { EventHeader } from '../../common/binlog/binlog-events.ts';
import { contentGap, eventRole, gtidListFollows, mergeGtids, nextFileName, planResume } from './archive-plan.ts';

const CHAIN_A = 'aaaaaaaaaaaaaaaa';
const CHAIN_B = 'bbbbbbbbbbbbbbbb';
const rec = (id: string, time: string, chain: string, seq: number, end: number, closed: boolean, gtidEnd: BinlogFileRecord['gtidEnd'] = []): BinlogFileRecord => ({
  snapshotId: id,
  time,
  chain,
  file: `mysql-bin.${String(seq).padStart(6, '0')}`,
  sequence: seq,
  serverId: 7,
  endPosition: end,
  closed,
  gtidStart: [],
  gtidEnd,
});
const g = (domain: number, serverId: number, seq: bigint) => ({ domain, serverId, seq });

describe('planResume', () => {
  it('starts a new chain when there is none', () => assert.equal(planResume([]), undefined));

  it('goes on at the archived end of the newest chain\'s open file', () => {
    const plan = planResume([rec('s1', '2026-12-01T10:00:00Z', CHAIN_A, 1, 900, true, [g(0, 7, 5n)]), rec('s2', '2026-12-01T10:01:00Z', CHAIN_A, 2, 400, false, [g(0, 7, 9n)])]);
    assert.equal(plan?.file, 'mysql-bin.000002');
    assert.equal(plan?.position, 400);
    assert.equal(plan?.resumeFrom?.snapshotId, 's2');
    assert.deepEqual(plan?.supersedes, []);
    assert.deepEqual(plan?.chainGtids, [g(0, 7, 9n)]);
  });

  it('takes the larger of two snapshots of one file (a crash between save and removal) and supersedes the other', () => {
    const plan = planResume([rec('big', '2026-12-01T10:00:00Z', CHAIN_A, 3, 800, false), rec('small', '2026-12-01T10:00:01Z', CHAIN_A, 3, 500, false)]);
    assert.equal(plan?.resumeFrom?.snapshotId, 'big');
    assert.equal(plan?.position, 800);
    assert.deepEqual(plan?.supersedes, ['small']);
  });

  it('starts the next file at 4 after a closed one', () => {
    const plan = planResume([rec('s1', '2026-12-01T10:00:00Z', CHAIN_A, 9, 900, true)]);
    assert.deepEqual([plan?.file, plan?.position, plan?.resumeFrom], ['mysql-bin.000010', 4, undefined]);
  });

  it('follows the newest chain, not an older one with higher file numbers', () => {
    const plan = planResume([rec('old', '2026-12-01T10:00:00Z', CHAIN_A, 50, 900, false), rec('new', '2026-12-01T11:00:00Z', CHAIN_B, 7, 300, false)]);
    assert.equal(plan?.chain, CHAIN_B);
    assert.equal(plan?.file, 'mysql-bin.000007');
  });
});

describe('archive decisions', () => {
  it('numbers the next file as the server does', () => {
    const table: [string, string | undefined][] = [
      ['mysql-bin.000009', 'mysql-bin.000010'],
      ['mysql-bin.999999', 'mysql-bin.1000000'],
      ['log.1', 'log.2'],
      ['no-number', undefined],
      ['../x.1', undefined],
    ];
    for (const [file, next] of table) assert.equal(nextFileName(file), next, file);
  });

  it('tells stream events from file content', () => {
    const h = (type: number, logPos: number, flags = 0): EventHeader => ({ timestamp: 0, type, serverId: 7, eventSize: 40, logPos, flags });
    const table: [EventHeader, string][] = [
      [h(EventType.ROTATE, 0, LOG_EVENT_ARTIFICIAL_F), 'stream-rotate'],
      [h(EventType.ROTATE, 0), 'stream-rotate'],
      [h(EventType.ROTATE, 1566), 'content'],
      [h(EventType.FORMAT_DESCRIPTION, 0), 'resent-format'],
      [h(EventType.FORMAT_DESCRIPTION, 256), 'content'],
      [h(EventType.HEARTBEAT, 900, LOG_EVENT_ARTIFICIAL_F), 'heartbeat'],
      [h(EventType.GTID_LIST, 0, LOG_EVENT_ARTIFICIAL_F), 'artificial'],
      [h(EventType.QUERY, 500), 'content'],
    ];
    for (const [header, role] of table) assert.equal(eventRole(header), role, JSON.stringify(header));
  });

  it('accepts an event only where the archived bytes end', () => {
    const h = (logPos: number): EventHeader => ({ timestamp: 0, type: EventType.QUERY, serverId: 7, eventSize: 100, logPos, flags: 0 });
    assert.equal(contentGap(h(600), 500), undefined);
    assert.match(contentGap(h(700), 500)!, /100 bytes are missing/);
    assert.match(contentGap(h(550), 500)!, /overlaps/);
  });

  it('follows the chain only when the new file\'s GTID list holds its last GTIDs', () => {
    assert.ok(gtidListFollows([], []));
    assert.ok(gtidListFollows([g(0, 7, 9n)], [g(0, 7, 9n), g(1, 8, 3n)]));
    assert.ok(!gtidListFollows([g(0, 7, 9n)], [g(0, 7, 12n)]), 'events 10..12 missing');
    assert.ok(!gtidListFollows([g(0, 7, 9n)], []), 'RESET MASTER');
    assert.ok(!gtidListFollows([g(0, 7, 9n)], [g(0, 8, 9n)]), 'another server');
    assert.deepEqual(mergeGtids([g(1, 7, 1n), g(0, 7, 2n)], [g(0, 7, 3n)]), [g(0, 7, 3n), g(1, 7, 1n)]);
  });
});
