// Sits between mariadb-dump's stdout and the repository writer: counts bytes and, when the
// output ends, holds the end of the stream back until the program has exited. A non-zero exit,
// or output without mariadb-dump's closing "-- Dump completed" comment, fails the stream, so
// the writer never stores a snapshot of a broken or truncated dump.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { RunningProgram } from './child-process.ts';

const TAIL_BYTES = 512;
export const DUMP_COMPLETED_MARK = '-- Dump completed';

export class DumpVerifier extends Transform {
  readonly #program: RunningProgram;
  readonly #expectMark: boolean;
  #tail: Buffer = Buffer.alloc(0);
  bytes = 0;

  /** expectMark: false when the dump arguments suppress the closing comment (normaliseDumpArgs().endsWithCompletedComment). */
  constructor(program: RunningProgram, expectMark: boolean) {
    super({ highWaterMark: 1024 * 1024 });
    this.#program = program;
    this.#expectMark = expectMark;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.#tail = chunk.length >= TAIL_BYTES ? chunk.subarray(chunk.length - TAIL_BYTES) : Buffer.concat([this.#tail, chunk]).subarray(-TAIL_BYTES);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#program.exited.then(({ code, signal }) => {
      if (code !== 0) {
        cb(new SidestashError(ErrorCodes.DUMP_FAILED, `mariadb-dump ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${this.#program.stderrTail() || 'no error output'}`, { details: { exitCode: code } }));
      } else if (this.#expectMark && !this.#tail.toString('latin1').includes(DUMP_COMPLETED_MARK)) {
        cb(new SidestashError(ErrorCodes.DUMP_FAILED, `mariadb-dump output ended early (no "${DUMP_COMPLETED_MARK}" line after ${this.bytes} bytes)`, { retryable: true }));
      } else {
        cb();
      }
    }, cb);
  }
}
