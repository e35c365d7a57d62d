// Where in the binary log a dump was taken (point-in-time recovery starts replaying there): the
// file and position `mariadb-dump --master-data=2` writes as a comment at the top of the dump,
// read as the dump passes through the backup's pipeline() (the same Buffers handed on, no copy):
//   -- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=328;
// mariadb-dump takes them from its consistent snapshot (binlog_snapshot_file/position): no global
// read lock with --single-transaction on MariaDB.
//
// Only the FIRST such line counts: mariadb-dump writes it in its header, before any table, and a
// trigger's, routine's or event's body (dumped verbatim, comments included, later on) can hold any
// line at all. The GTID state and the server id are not read from the dump at all: the backup asks
// the server for them at that position (BINLOG_GTID_POS, @@server_id; backup-runner.ts).
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { binlogFileSequence } from '../common/binlog/archive-layout.ts';

const NEEDLE = Buffer.from('\n-- ');
/** The longest comment line read; longer ones are not the lines above. */
const MAX_LINE_BYTES = 1024;
const CHANGE_MASTER = /^-- CHANGE MASTER TO MASTER_LOG_FILE='([^'\\]{1,200})', MASTER_LOG_POS=([0-9]{1,16});$/;

/** The dump's file and position, and when the agent read them (unix ms: at or after the dump's consistent point). */
export interface DumpPosition {
  file: string;
  position: number;
  seenAtMs: number;
}

export type CoordinatesOutcome = { position: DumpPosition } | { problem: string };

export class DumpCoordinatesTap extends Transform {
  /** The end of the previous chunk, from its last "\n-- " on (a line cut in two). */
  #carry: Buffer | undefined;
  #atStart = true;
  #found: DumpPosition | undefined;
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
    const buf = this.#carry ? Buffer.concat([this.#carry, chunk]) : this.#atStart ? Buffer.concat([Buffer.from('\n'), chunk]) : chunk;
    this.#atStart = false;
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
    if (this.#found) return;
    const cm = CHANGE_MASTER.exec(line);
    if (cm) this.#found = { file: cm[1]!, position: Number(cm[2]), seenAtMs: this.#now() };
  }

  /** After the dump ended: where it was taken, or why that is unknown. */
  outcome(): CoordinatesOutcome {
    const first = this.#found;
    if (!first) return { problem: 'the dump has no CHANGE MASTER comment (mariadb-dump --master-data=2 on a server with its binary log on)' };
    if (binlogFileSequence(first.file) === undefined) return { problem: `the dump's binary log file name ${JSON.stringify(first.file)} is not one the archive accepts` };
    return { position: first };
  }
}
