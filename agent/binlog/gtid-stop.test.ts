import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Gtid } from '../../common/binlog/archive-layout.ts';
import { GtidStopFinder } from './gtid-stop.ts';

/** mariadb-binlog's comments for a file: GTID events at the given byte positions, other events between. */
function output(gtids: [number, string][]): string[] {
  const lines = ['# at 4', '#261201 23:33:26 server id 7  end_log_pos 256 CRC32 0x1d8addbe \tStart: binlog v 4', '# at 256', '#261201 23:33:26 server id 7  end_log_pos 285 CRC32 0x04391713 \tGtid list [0-7-9]'];
  for (const [at, gtid] of gtids) {
    lines.push(`# at ${at}`, `#261201 23:33:27 server id 7  end_log_pos ${at + 42} CRC32 0xfe308041 \tGTID ${gtid} trans`, 'START TRANSACTION', '/*!*/;', `# at ${at + 42}`, `# at ${at + 100}`, '#261201 23:33:27 server id 7  end_log_pos 1 CRC32 0x1 \tAnnotate_rows:', `#Q> INSERT INTO t VALUES (${at})`, `#Q> # at 1`, `#Q> #261201 23:33:27 server id 7  end_log_pos 1 CRC32 0x1 \tGTID 0-7-99 trans`, 'COMMIT/*!*/;');
  }
  return lines;
}

const g = (domain: number, seq: number): Gtid => ({ domain, serverId: 7, seq: BigInt(seq) });

describe('GtidStopFinder', () => {
  const FILE = output([[400, '0-7-10'], [600, '1-7-3'], [800, '0-7-11'], [1000, '1-7-4'], [1200, '0-7-14']]);
  const rows: [string, Gtid, string][] = [
    ['stops at the next transaction of any domain', g(0, 10), 'position 600'],
    ['keeps the other domain\'s transactions before the target', g(0, 11), 'position 1000'],
    ['a target in the second domain', g(1, 3), 'position 800'],
    ['a sequence number the domain skipped: before the first past it', g(0, 12), 'position 1200'],
    ['the last transaction of the file: to the end', g(0, 14), 'end'],
    ['a target the file does not reach', g(0, 15), 'not-found'],
    ['a domain the file does not have', g(2, 1), 'not-found'],
    ['the server id does not matter (mariadb-binlog matches domain and sequence)', { domain: 0, serverId: 99, seq: 11n }, 'position 1000'],
  ];
  for (const [name, target, want] of rows) {
    it(name, () => {
      const f = new GtidStopFinder(target);
      for (const l of FILE) f.line(l);
      const r = f.result();
      assert.equal(r.kind === 'position' ? `position ${r.position}` : r.kind, want);
    });
  }

  it("reads only header lines: a #Q> line (a statement's text) that looks like one is not", () => {
    const f = new GtidStopFinder(g(0, 10));
    for (const l of output([[400, '0-7-10']])) f.line(l);
    assert.deepEqual(f.result(), { kind: 'end' });
  });
});
