import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BinlogFileRecord, DumpCoordinates, Gtid } from './archive-layout.ts';
import { ErrorCodes } from '../errors.ts';
import { pitrProblemError, planPointInTime } from './pitr-plan.ts';
import type { DumpCandidate, PitrTarget } from './pitr-plan.ts';

const CHAIN = '00000000000000aa';
const OLD_CHAIN = '00000000000000bb';
const T0 = Date.parse('2026-12-01T08:00:00Z') / 1000;
const g = (seq: number, domain = 0, serverId = 7): Gtid => ({ domain, serverId, seq: BigInt(seq) });

/** mysql-bin.00000N of CHAIN: events T0+100N .. T0+100N+50, GTIDs 0-7-(10N-9) .. 0-7-10N, 1000 bytes. */
function file(n: number, over: Partial<BinlogFileRecord> = {}): BinlogFileRecord {
  return {
    snapshotId: `snap${n}${over.chain ?? ''}${over.endPosition ?? ''}`,
    time: new Date((T0 + 100 * n + 60) * 1000).toISOString(),
    chain: CHAIN,
    file: `mysql-bin.00000${n}`,
    sequence: n,
    serverId: 7,
    endPosition: 1000,
    closed: true,
    firstEventTime: T0 + 100 * n,
    lastEventTime: T0 + 100 * n + 50,
    gtidStart: [g(10 * (n - 1))],
    gtidEnd: [g(10 * n)],
    ...over,
  };
}

const coords = (n: number, position: number, seq: number): DumpCoordinates => ({ file: `mysql-bin.00000${n}`, position, gtid: [g(seq)] });
const dump = (id: string, unixS: number, c: DumpCoordinates): DumpCandidate => ({ snapshotId: id, time: new Date(unixS * 1000).toISOString(), coordinates: c });
/** Taken inside file 1 at byte 500 (after GTID 0-7-5), and inside file 3 at byte 300 (after 0-7-23). */
const D1 = dump('dump1aaaa', T0 + 125, coords(1, 500, 5));
const D3 = dump('dump3bbbb', T0 + 320, coords(3, 300, 23));
const FILES = [file(1), file(2), file(3), file(4, { closed: false, endPosition: 700 })];
const at = (unixS: number): PitrTarget => ({ kind: 'time', time: new Date(unixS * 1000 + 400) });

/** A plan as a line: dump, then each step as file[start..stop]. */
function summary(r: ReturnType<typeof planPointInTime>): string {
  if ('problem' in r) return `problem ${r.problem.reason}`;
  const steps = r.plan.steps.map((s) => {
    const stop = s.stopDatetime ? `@${s.stopDatetime.getTime() / 1000 - T0}` : s.stopGtid ? `#${s.stopGtid.domain}-${s.stopGtid.serverId}-${s.stopGtid.seq}` : s.stopPosition !== undefined ? `<${s.stopPosition}` : '';
    return `${s.record.file.slice(-1)}${s.startPosition !== undefined ? `+${s.startPosition}` : ''}${s.record.chain === OLD_CHAIN ? 'old' : ''}${s.record.endPosition !== 1000 ? `/${s.record.endPosition}` : ''}${stop}`;
  });
  return `${r.plan.dump.snapshotId.slice(0, 5)} ${steps.join(' ')}`.trim();
}

interface Row {
  name: string;
  dumps?: DumpCandidate[];
  files?: BinlogFileRecord[];
  target: PitrTarget;
  expect: string;
}

const rows: Row[] = [
  // Plans.
  { name: 'a time in the middle of a later file: the newest dump before it, whole files, then a stop', target: at(T0 + 220), dumps: [D1], expect: 'dump1 1+500 2@220' },
  { name: 'the newest dump before the time is chosen', target: at(T0 + 430), dumps: [D1, D3], expect: 'dump3 3+300 4/700@430' },
  { name: 'a time before the newer dump falls back to the older one', target: at(T0 + 310), dumps: [D3, D1], expect: 'dump1 1+500 2 3@310' },
  { name: 'a time in the dump file itself', target: at(T0 + 140), dumps: [D1], expect: 'dump1 1+500@140' },
  { name: 'a GTID in a later file', target: { kind: 'gtid', gtid: g(27) }, dumps: [D1, D3], expect: 'dump3 3+300#0-7-27' },
  { name: 'a GTID in the file after the dump', target: { kind: 'gtid', gtid: g(12) }, dumps: [D1, D3], expect: 'dump1 1+500 2#0-7-12' },
  { name: 'a GTID equal to the dump: nothing to replay', target: { kind: 'gtid', gtid: g(23) }, dumps: [D1, D3], expect: 'dump3' },
  { name: 'a position in a later file', target: { kind: 'position', file: 'mysql-bin.000002', position: 640 }, dumps: [D1], expect: 'dump1 1+500 2<640' },
  { name: 'a position in the dump file', target: { kind: 'position', file: 'mysql-bin.000001', position: 800 }, dumps: [D1], expect: 'dump1 1+500<800' },
  { name: 'a position at the dump: nothing to replay', target: { kind: 'position', file: 'mysql-bin.000001', position: 500 }, dumps: [D1], expect: 'dump1' },
  { name: 'latest: every file to the end of the active one', target: { kind: 'latest' }, dumps: [D1, D3], expect: 'dump3 3+300 4/700' },
  { name: 'latest with the last file closed and no successor yet', target: { kind: 'latest' }, dumps: [D3], files: [file(3), file(4)], expect: 'dump3 3+300 4' },
  { name: 'a dump at the very end of its file starts with the next file', target: at(T0 + 230), dumps: [dump('dumpend', T0 + 160, coords(1, 1000, 10))], expect: 'dumpe 2@230' },
  { name: 'two records of one file: the larger binlog-end wins', target: { kind: 'latest' }, dumps: [D3], files: [file(3, { endPosition: 400, closed: false }), file(3), file(4, { endPosition: 900, closed: false }), file(4, { endPosition: 700, closed: false })], expect: 'dump3 3+300 4/900' },
  { name: 'a gap after the target does not matter', target: at(T0 + 220), dumps: [D1], files: [file(1), file(2), file(4)], expect: 'dump1 1+500 2@220' },
  {
    name: 'two chains claim the files: the newest chain holding the dump wins',
    target: { kind: 'latest' },
    dumps: [D1],
    files: [file(1, { chain: OLD_CHAIN, time: new Date((T0 - 5000) * 1000).toISOString() }), file(2, { chain: OLD_CHAIN, time: new Date((T0 - 4000) * 1000).toISOString(), endPosition: 5000 }), file(1), file(2)],
    expect: 'dump1 1+500 2',
  },
  {
    name: 'an old chain whose file of that name started after the dump (its Gtid_list past the dump) is not the dump\'s',
    target: at(T0 + 220),
    dumps: [D1],
    files: [file(1), file(2), file(1, { chain: OLD_CHAIN, time: new Date((T0 + 9000) * 1000).toISOString(), gtidStart: [g(90)], gtidEnd: [g(99)] })],
    expect: 'dump1 1+500 2@220',
  },
  {
    // A data directory rebuilt after the disaster numbers its files and GTIDs from 1 again, and its
    // new archive chain is the newest: replaying it from the old dump's position would apply
    // another server's transactions.
    name: "a rebuilt server's newer chain reusing the file name, its GTIDs short of the dump's, is not the dump's",
    target: at(T0 + 220),
    dumps: [D1],
    files: [file(1), file(2), file(1, { chain: OLD_CHAIN, time: new Date((T0 + 9000) * 1000).toISOString(), firstEventTime: T0 + 9000, lastEventTime: T0 + 9050, gtidStart: [], gtidEnd: [g(3)] })],
    expect: 'dump1 1+500 2@220',
  },
  {
    name: "a rebuilt server's newer chain whose file began after the dump was taken (no GTIDs to tell) is not the dump's",
    target: at(T0 + 220),
    dumps: [dump('dumpnogtid', T0 + 125, { file: 'mysql-bin.000001', position: 500, gtid: [], seenAtMs: (T0 + 125) * 1000 })],
    files: [file(1, { gtidStart: [], gtidEnd: [] }), file(2, { gtidStart: [], gtidEnd: [] }), file(1, { chain: OLD_CHAIN, time: new Date((T0 + 9000) * 1000).toISOString(), firstEventTime: T0 + 9000, lastEventTime: T0 + 9050, gtidStart: [], gtidEnd: [] })],
    expect: 'dumpn 1+500 2@220',
  },
  {
    name: "a promoted replica's newer chain (same file name and replicated GTIDs, its own server id): the dump's recorded server decides",
    target: at(T0 + 220),
    dumps: [dump('dumpsrv', T0 + 125, { ...coords(1, 500, 5), serverId: 7 })],
    files: [file(1), file(2), file(1, { chain: OLD_CHAIN, serverId: 8, endPosition: 1400, time: new Date((T0 + 900) * 1000).toISOString() })],
    expect: 'dumps 1+500 2@220',
  },
  {
    name: 'the same without the dump\'s server id: refused, never guessed',
    target: at(T0 + 220),
    dumps: [D1],
    files: [file(1), file(2), file(1, { chain: OLD_CHAIN, serverId: 8, endPosition: 1400, time: new Date((T0 + 900) * 1000).toISOString() })],
    expect: 'problem ambiguous-chain',
  },
  { name: 'files out of time order: a GTID still names one point', target: { kind: 'gtid', gtid: g(25) }, dumps: [D1], files: [file(1), file(2, { firstEventTime: T0 + 10, lastEventTime: T0 + 20 }), file(3)], expect: 'dump1 1+500 2 3#0-7-25' },
  // Refusals.
  { name: 'no dump with coordinates', target: at(T0 + 220), dumps: [], expect: 'problem no-dump' },
  { name: 'a dump whose position is inside the magic number is no candidate', target: at(T0 + 220), dumps: [dump('dumpzero', T0 + 101, coords(1, 0, 0))], expect: 'problem no-dump' },
  { name: 'a time before the oldest dump', target: at(T0 + 110), dumps: [D1, D3], expect: 'problem before-oldest-dump' },
  { name: 'a GTID before the oldest dump', target: { kind: 'gtid', gtid: g(4) }, dumps: [D1, D3], expect: 'problem before-oldest-dump' },
  { name: 'a position before the oldest dump', target: { kind: 'position', file: 'mysql-bin.000001', position: 499 }, dumps: [D1], expect: 'problem before-oldest-dump' },
  { name: 'a time beyond the newest archived event', target: at(T0 + 460), dumps: [D1], expect: 'problem beyond-archive' },
  { name: 'a GTID beyond the archive', target: { kind: 'gtid', gtid: g(41) }, dumps: [D1], expect: 'problem beyond-archive' },
  { name: 'a position beyond the archived end of its file', target: { kind: 'position', file: 'mysql-bin.000004', position: 701 }, dumps: [D1], expect: 'problem beyond-archive' },
  { name: 'a file beyond the archive', target: { kind: 'position', file: 'mysql-bin.000005', position: 4 }, dumps: [D1], expect: 'problem beyond-archive' },
  { name: 'a file of another name in the chain\'s place', target: { kind: 'position', file: 'other-bin.000002', position: 100 }, dumps: [D1], expect: 'problem not-covered' },
  { name: 'the dump\'s file is not archived', target: at(T0 + 220), dumps: [D1], files: [file(2), file(3)], expect: 'problem not-covered' },
  { name: 'the dump\'s file is archived only to before its position', target: at(T0 + 220), dumps: [D1], files: [file(1, { endPosition: 400, closed: false }), file(2)], expect: 'problem not-covered' },
  { name: 'a missing file between two', target: at(T0 + 320), dumps: [D1], files: [file(1), file(3)], expect: 'problem gap' },
  { name: 'an earlier file not closed though a later one exists', target: at(T0 + 220), dumps: [D1], files: [file(1, { closed: false }), file(2)], expect: 'problem gap' },
  { name: 'GTIDs missing between two files', target: { kind: 'gtid', gtid: g(15) }, dumps: [D1], files: [file(1), file(2, { gtidStart: [g(12)] })], expect: 'problem gap' },
  { name: 'latest with a missing file', target: { kind: 'latest' }, dumps: [D1], files: [file(1), file(2), file(4)], expect: 'problem gap' },
  { name: 'a GTID in a domain the chain never had', target: { kind: 'gtid', gtid: g(3, 5) }, dumps: [D1], expect: 'problem unknown-gtid-domain' },
  { name: 'files out of time order for a time target', target: at(T0 + 320), dumps: [D1], files: [file(1), file(2, { firstEventTime: T0 + 10, lastEventTime: T0 + 20 }), file(3)], expect: 'problem time-goes-back' },
  { name: 'an invalid time', target: { kind: 'time', time: new Date(Number.NaN) }, dumps: [D1], expect: 'problem invalid-target' },
  { name: 'a position inside the magic number', target: { kind: 'position', file: 'mysql-bin.000002', position: 3 }, dumps: [D1], expect: 'problem invalid-target' },
  { name: 'a file name with a path', target: { kind: 'position', file: '../x/mysql-bin.000002', position: 100 }, dumps: [D1], expect: 'problem invalid-target' },
];

describe('planPointInTime', () => {
  for (const row of rows) {
    it(row.name, () => {
      const r = planPointInTime(row.dumps ?? [D1, D3], row.files ?? FILES, row.target);
      assert.equal(summary(r), row.expect, 'problem' in r ? r.problem.message : '');
      if ('problem' in r) assert.ok(r.problem.message.length > 40, r.problem.message);
    });
  }

  it('says how far the archive reaches when the target is beyond it', () => {
    const r = planPointInTime([D1], FILES, at(T0 + 460));
    assert.ok('problem' in r);
    const err = pitrProblemError(r.problem);
    assert.equal(err.code, ErrorCodes.PITR_UNREACHABLE);
    assert.deepEqual(err.details, { reason: 'beyond-archive' });
    assert.match(r.problem.message, /mysql-bin\.000004:700/);
    assert.match(r.problem.message, /2026-12-01T08:07:30Z/);
  });

  it('stops at the whole second of the target time (event timestamps are seconds)', () => {
    const r = planPointInTime([D1], FILES, { kind: 'time', time: new Date('2026-12-01T08:03:40.999Z') });
    assert.ok('plan' in r);
    assert.equal(r.plan.steps.at(-1)!.stopDatetime!.toISOString(), '2026-12-01T08:03:40.000Z');
  });
});

const PROMOTED = '00000000000000cc';
const iso = (unixS: number): string => new Date(unixS * 1000).toISOString();
const dumpSeen = (id: string, seenMs: number, c: Omit<DumpCoordinates, 'seenAtMs'>): DumpCandidate => ({ snapshotId: id, time: new Date(seenMs).toISOString(), coordinates: { ...c, seenAtMs: seenMs } });

describe('planPointInTime: cases an adversarial review found', () => {
  it("a promoted replica's chain (another server id, same replicated GTIDs, same file name) is not the dump's", () => {
    // The dump was taken on the primary (server id 7) at mysql-bin.000001:500, after GTID 0-7-5.
    // After a failover the target's new primary (server id 8, log_slave_updates) is archived in a
    // new chain; its own mysql-bin.000001 holds the same replicated GTIDs 0-7-1..0-7-10 at other
    // byte offsets. Byte 500 of that file is not where the dump was taken: replaying it from there
    // applies transactions twice or misses some. Nothing in the dump's coordinates names the
    // server, and recordHoldsDump never compares server ids, so the newer chain wins.
    const d = dumpSeen('dumpprimary', (T0 + 125) * 1000, { file: 'mysql-bin.000001', position: 500, gtid: [g(5)] });
    const files = [
      file(1),
      file(2, { closed: false, endPosition: 700 }),
      file(1, { chain: PROMOTED, serverId: 8, endPosition: 1400, time: iso(T0 + 900), firstEventTime: T0 + 90, lastEventTime: T0 + 600 }),
      file(2, { chain: PROMOTED, serverId: 8, endPosition: 600, closed: false, time: iso(T0 + 950), firstEventTime: T0 + 600, lastEventTime: T0 + 700 }),
    ];
    const r = planPointInTime([d], files, { kind: 'latest' });
    assert.ok('problem' in r || r.plan.chain === CHAIN, `the plan replays chain ${'plan' in r ? r.plan.chain : ''} (server id ${'plan' in r ? r.plan.steps[0]?.record.serverId : ''}) from the primary's byte 500`);
  });

  it('a time target: a dump seen inside the target second holds transactions stamped in that second, which the restore must exclude', () => {
    // README: pointInTime restores "every transaction whose events are stamped before that second".
    // A dump whose consistent point was read at 08:02:20.300 may hold transactions stamped
    // 08:02:20 (committed 20.000-20.300); for the target 08:02:20.900 the planner still picks it
    // (it compares seenAtMs with the target's milliseconds), and the replay's stop at 08:02:20
    // removes nothing the dump already has.
    const inSecond = dumpSeen('dumpinsecond', (T0 + 140) * 1000 + 300, { file: 'mysql-bin.000001', position: 700, gtid: [g(7)] });
    const before = dumpSeen('dumpbefore', (T0 + 125) * 1000, { file: 'mysql-bin.000001', position: 500, gtid: [g(5)] });
    const r = planPointInTime([inSecond, before], [file(1), file(2)], { kind: 'time', time: new Date((T0 + 140) * 1000 + 900) });
    assert.ok('plan' in r, 'problem' in r ? r.problem.message : '');
    assert.equal(r.plan.dump.snapshotId, 'dumpbefore');
    assert.equal(r.plan.steps[0]!.stopDatetime!.getTime(), (T0 + 140) * 1000);
  });
  it('latest, with a newer chain after a gap and no dump since: refused, not the old chain\'s end presented as everything archived', () => {
    // Binlogs were purged before they were archived (the agent was down): a gap; the archive goes
    // on in a new chain from the server's current file (mysql-bin.000005 on), and it holds hours
    // of transactions. No dump has been taken since. A disaster restore "--to latest" plans the old
    // chain to its end and succeeds, without the newer chain's transactions, though they are
    // archived: README promises `latest` restores "everything archived", and points after a gap
    // "cannot be reached" (PITR_UNREACHABLE, reason gap), not silently cut short.
    const d = dumpSeen('dumpold', (T0 + 125) * 1000, { file: 'mysql-bin.000001', position: 500, gtid: [g(5)] });
    const NEW = '00000000000000dd';
    const files = [
      file(1),
      file(2),
      file(5, { chain: NEW, time: iso(T0 + 9000), firstEventTime: T0 + 8000, lastEventTime: T0 + 8900, gtidStart: [g(40)], gtidEnd: [g(50)] }),
      file(6, { chain: NEW, time: iso(T0 + 9900), firstEventTime: T0 + 8900, lastEventTime: T0 + 9800, gtidStart: [g(50)], gtidEnd: [g(60)], closed: false, endPosition: 700 }),
    ];
    const r = planPointInTime([d], files, { kind: 'latest' });
    assert.ok('problem' in r, `planned ${'plan' in r ? r.plan.steps.map((s) => `${s.record.chain}/${s.record.file}`).join(', ') : ''} as everything archived, though ${NEW} holds GTIDs up to 0-7-60`);
  });
});
