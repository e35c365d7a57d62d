// mariadb-binlog over one archived file: the file streams from its snapshot into the program's
// standard input ('-'), its output comes back chunk by chunk. The program runs with TZ=UTC (it
// reads --stop-datetime in local time), is killed when the signal aborts or the consumer stops
// early, and its exit code, its stderr and the repository read are checked once the output ends:
// a failure throws there, naming the file. The file must be exactly as long as its record's
// binlog-end (the archive is what its tags describe, or it is not used).
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startProgram } from '../child-process.ts';
import type { PitrStep } from '../../common/binlog/pitr-plan.ts';
import { ErrorCodes, SidestashError, errorMessage } from '../../common/errors.ts';
import type { Repository } from '../../common/repository/repository.ts';
import { openSnapshotFileStream } from '../../common/repository/snapshot-reader.ts';

export interface BinlogOutputOptions {
  signal: AbortSignal;
  /** The program (default: mariadb-binlog on PATH). */
  mariadbBinlogPath?: string;
  /** n bytes more read from the repository: read of size in all. */
  onRead?: (n: number, read: number, size: number) => void;
}

export async function* binlogOutput(repo: Repository, step: PitrStep, args: string[], o: BinlogOutputOptions): AsyncGenerator<Buffer> {
  const file = step.record.file;
  const failed = (what: string, extra: Record<string, unknown> = {}, cause?: unknown) =>
    new SidestashError(ErrorCodes.RESTORE_FAILED, `replaying the binary log ${file} (snapshot ${step.record.snapshotId.slice(0, 8)}): ${what}`, { details: { file, snapshotId: step.record.snapshotId, ...extra }, ...(cause !== undefined ? { cause } : {}) });
  const opened = await openSnapshotFileStream(repo, step.record.snapshotId, { path: `/${file}`, signal: o.signal });
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let program: ReturnType<typeof startProgram> | undefined;
  try {
    const size = opened.file.sizeBytes;
    if (size !== step.record.endPosition) {
      throw failed(`the archived file holds ${size} bytes, but its snapshot says ${step.record.endPosition} (binlog-end): the archive is not the one its tags describe`, { sizeBytes: size });
    }
    program = startProgram(o.mariadbBinlogPath ?? 'mariadb-binlog', args, ['pipe', 'pipe'], signal, { TZ: 'UTC' });
    let read = 0;
    let sourceError: unknown;
    opened.stream.once('error', (err) => (sourceError ??= err));
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        read += chunk.length;
        o.onRead?.(chunk.length, read, size);
        done(null, chunk);
      },
    });
    // mariadb-binlog stops reading at its stop position and closes its input: a broken pipe then is
    // expected; what matters is its exit code, and whether the repository could be read.
    const feeding = pipeline(opened.stream, counter, program.child.stdin!, { signal }).catch(() => undefined);
    for await (const chunk of program.child.stdout!) yield chunk as Buffer;
    const exit = await program.exited;
    await feeding;
    if (sourceError !== undefined) throw failed(`reading it from the repository failed: ${errorMessage(sourceError)}`, {}, sourceError);
    if (o.signal.aborted) throw new SidestashError(ErrorCodes.ABORTED, `replay stopped: ${errorMessage(o.signal.reason)}`, { cause: o.signal.reason });
    if (exit.code !== 0) {
      const why = program.stderrTail() || 'no message';
      throw failed(`mariadb-binlog ${exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`} after ${read} of ${size} bytes: ${why}`, { exitCode: exit.code, stderr: why });
    }
  } finally {
    // Ended early (the consumer stopped, the signal aborted): the program is stopped.
    stop.abort(new Error('replay ended'));
    if (program) await program.exited;
    await opened.close();
  }
}
