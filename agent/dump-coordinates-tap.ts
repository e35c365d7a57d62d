// Where in the binary log a dump was taken (point-in-time recovery starts replaying there): read
// from the comments `mariadb-dump --master-data=2` writes, as the dump passes through the
// backup's pipeline() (the same Buffers handed on, no copy):
//   near the top:  -- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=328;
//   near the end:  -- SET GLOBAL gtid_slave_pos='0-7-1234';
// mariadb-dump takes them from its consistent snapshot (binlog_snapshot_file/position, then
// BINLOG_GTID_POS()): no global read lock with --single-transaction on MariaDB.
//
// Only lines that start with "-- " are read: mariadb-dump escapes every newline inside a value
// (\n), so a line of the dump that starts with a comment is one mariadb-dump wrote. A dump with
// either line missing, or written twice, gets no coordinates (and the backup says why).
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { binlogFileSequence, parseGtidList } from '../common/binlog/archive-layout.ts';
import type { DumpCoordinates } from '../common/binlog/archive-layout.ts';

const NEEDLE = Buffer.from('\n-- ');
/** The longest comment line read; longer ones are not the lines above. */
const MAX_LINE_BYTES = 1024;
const CHANGE_MASTER = /^-- CHANGE MASTER TO MASTER_LOG_FILE='([^'\\]{1,200})', MASTER_LOG_POS=([0-9]{1,16});$/;
const GTID_POS = /^-- SET GLOBAL gtid_slave_pos='([0-9,\- ]{0,2000})';$/;

export type CoordinatesOutcome = { coordinates: DumpCoordinates } | { problem: string };

export class DumpCoordinatesTap extends Transform {
  /** The end of the previous chunk, from its last "\n-- " on (a line cut in two). */
  #carry: Buffer | undefined;
  #first = true;
  #file: { file: string; position: number; seenAtMs: number }[] = [];
  #gtid: string[] = [];
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    super({ highWaterMark: 1024 * 1024 });
    this.#now = options.now ?? Date.now;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#scan(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.#carry) this.#line(this.#carry.subarray(1));
    this.#carry = undefined;
    cb();
  }

  #scan(chunk: Buffer): void {
    // The dump's first line has no newline before it.
    const buf = this.#carry ? Buffer.concat([this.#carry, chunk]) : this.#first ? Buffer.concat([Buffer.from('\n'), chunk]) : chunk;
    this.#first = false;
    this.#carry = undefined;
    let at = buf.indexOf(NEEDLE);
    while (at >= 0) {
      const end = buf.indexOf(0x0a, at + 1);
      if (end < 0) {
        // The line goes on in the next chunk; a line longer than MAX_LINE_BYTES is not ours.
        if (buf.length - at <= MAX_LINE_BYTES) this.#carry = Buffer.from(buf.subarray(at));
        return;
      }
      this.#line(buf.subarray(at + 1, end));
      at = buf.indexOf(NEEDLE, end);
    }
    // A "\n" at the very end may start "-- " in the next chunk.
    if (buf.length > 0 && buf[buf.length - 1] === 0x0a) this.#carry = Buffer.from('\n');
    else if (buf.length >= 2 && buf[buf.length - 2] === 0x0a && buf[buf.length - 1] === 0x2d) this.#carry = Buffer.from('\n-');
    else if (buf.length >= 3 && buf[buf.length - 3] === 0x0a && buf[buf.length - 2] === 0x2d && buf[buf.length - 1] === 0x2d) this.#carry = Buffer.from('\n--');
  }

  #line(bytes: Buffer): void {
    if (bytes.length > MAX_LINE_BYTES) return;
    const line = bytes.toString('latin1').replace(/\r$/, '');
    const cm = CHANGE_MASTER.exec(line);
    if (cm) {
      this.#file.push({ file: cm[1]!, position: Number(cm[2]), seenAtMs: this.#now() });
      return;
    }
    const g = GTID_POS.exec(line);
    if (g) this.#gtid.push(g[1]!);
  }

  /** After the dump ended: its coordinates, or why it has none. */
  outcome(): CoordinatesOutcome {
    if (this.#file.length !== 1) return { problem: this.#file.length === 0 ? 'the dump has no CHANGE MASTER comment (mariadb-dump --master-data=2 on a server with its binary log on)' : 'the dump has more than one CHANGE MASTER comment' };
    const { file, position, seenAtMs } = this.#file[0]!;
    if (binlogFileSequence(file) === undefined) return { problem: `the dump's binary log file name ${JSON.stringify(file)} is not one the archive accepts` };
    if (this.#gtid.length > 1) return { problem: 'the dump has more than one gtid_slave_pos comment' };
    const gtid = this.#gtid.length === 0 ? [] : parseGtidList(this.#gtid[0]!);
    if (!gtid) return { problem: `the dump's gtid_slave_pos ${JSON.stringify(this.#gtid[0])} is not a GTID list` };
    return { coordinates: { file, position, gtid, seenAtMs } };
  }
}
