// Review of issue 14 (r14): planner cases where a plan is made that restores a state other than
// the one asked for, presented as success. Each test fails on the code as it is.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BinlogFileRecord, DumpCoordinates, Gtid } from './archive-layout.ts';
import { planPointInTime } from './pitr-plan.ts';
import type { DumpCandidate } from './pitr-plan.ts';

const PRIMARY = '00000000000000aa';
const PROMOTED = '00000000000000cc';
const T0 = Date.parse('2026-12-01T08:00:00Z') / 1000;
const g = (seq: number, domain = 0, serverId = 7): Gtid => ({ domain, serverId, seq: BigInt(seq) });
const iso = (unixS: number): string => new Date(unixS * 1000).toISOString();

/** mysql-bin.00000N of the primary (server id 7): GTIDs 0-7-(10N-9)..0-7-10N, 1000 bytes. */
function file(n: number, over: Partial<BinlogFileRecord> = {}): BinlogFileRecord {
  return {
    snapshotId: `snap${n}${over.chain ?? ''}`,
    time: iso(T0 + 100 * n + 60),
    chain: PRIMARY,
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

const dump = (id: string, seenMs: number, c: Omit<DumpCoordinates, 'seenAtMs'>): DumpCandidate => ({ snapshotId: id, time: new Date(seenMs).toISOString(), coordinates: { ...c, seenAtMs: seenMs } });

describe('planPointInTime (review r14)', () => {
  it("a promoted replica's chain (another server id, same replicated GTIDs, same file name) is not the dump's", () => {
    // The dump was taken on the primary (server id 7) at mysql-bin.000001:500, after GTID 0-7-5.
    // After a failover the target's new primary (server id 8, log_slave_updates) is archived in a
    // new chain; its own mysql-bin.000001 holds the same replicated GTIDs 0-7-1..0-7-10 at other
    // byte offsets. Byte 500 of that file is not where the dump was taken: replaying it from there
    // applies transactions twice or misses some. Nothing in the dump's coordinates names the
    // server, and recordHoldsDump never compares server ids, so the newer chain wins.
    const d = dump('dumpprimary', (T0 + 125) * 1000, { file: 'mysql-bin.000001', position: 500, gtid: [g(5)] });
    const files = [
      file(1),
      file(2, { closed: false, endPosition: 700 }),
      file(1, { chain: PROMOTED, serverId: 8, endPosition: 1400, time: iso(T0 + 900), firstEventTime: T0 + 90, lastEventTime: T0 + 600 }),
      file(2, { chain: PROMOTED, serverId: 8, endPosition: 600, closed: false, time: iso(T0 + 950), firstEventTime: T0 + 600, lastEventTime: T0 + 700 }),
    ];
    const r = planPointInTime([d], files, { kind: 'latest' });
    assert.ok('problem' in r || r.plan.chain === PRIMARY, `the plan replays chain ${'plan' in r ? r.plan.chain : ''} (server id ${'plan' in r ? r.plan.steps[0]?.record.serverId : ''}) from the primary's byte 500`);
  });

  it('a time target: a dump seen inside the target second holds transactions stamped in that second, which the restore must exclude', () => {
    // README: pointInTime restores "every transaction whose events are stamped before that second".
    // A dump whose consistent point was read at 08:02:20.300 may hold transactions stamped
    // 08:02:20 (committed 20.000-20.300); for the target 08:02:20.900 the planner still picks it
    // (it compares seenAtMs with the target's milliseconds), and the replay's stop at 08:02:20
    // removes nothing the dump already has.
    const inSecond = dump('dumpinsecond', (T0 + 140) * 1000 + 300, { file: 'mysql-bin.000001', position: 700, gtid: [g(7)] });
    const before = dump('dumpbefore', (T0 + 125) * 1000, { file: 'mysql-bin.000001', position: 500, gtid: [g(5)] });
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
    const d = dump('dumpold', (T0 + 125) * 1000, { file: 'mysql-bin.000001', position: 500, gtid: [g(5)] });
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
