// The backup runner's source when a BackupConfiguration asks for spec.dumper: parallel: the
// parallel dumper over the assignment's database, its dumpArgs mapped by the parallel
// allow-list (common/parallel-dump-args.ts, checked again here: the agent's own line of
// defence), and a verifier in the place of mariadb-dump's (dump-verifier.ts): it counts the
// bytes, and the stream ends only after the dumper has finished every table and written
// "-- Dump completed"; anything else fails the pipeline, so no snapshot of a partial dump is
// stored. The binary-log position is the one read under the snapshot's lock.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { requireParallelDumpSelection } from '../../common/parallel-dump-args.ts';
import type { BackupAssignment } from '../../common/protocol.ts';
import type { CoordinatesOutcome } from '../dump-coordinates-tap.ts';
import { DUMP_COMPLETED_MARK } from '../dump-verifier.ts';
import { dumpConnectionFactory } from './dump-connection.ts';
import { parallelDump } from './parallel-dumper.ts';
import type { ParallelDumpResult } from './parallel-dumper.ts';

const TAIL_BYTES = 512;

/**
 * The writer's side of a parallel backup. mariadb-dump, at ~70 MiB/s, leaves the writer idle
 * now and then; the parallel dumper keeps it busy, so everything the writer may hold is held at
 * once: two pack buffers (the pack size and 1 MiB each), two chunks compressing beside the one
 * waiting and the one being cut (4-8 MiB each), 1 MiB waiting in each stream. The agent peaked
 * at 130-137 MiB (budget 128; mariadb-dump's backup 117). Here: packs of 4 MiB (restic's own
 * were 4-8 MiB before 0.14; every version reads any size; a 196 MiB dump stores ~11 packs
 * instead of ~6), one chunk compressing at a time, 256 KiB waiting in the index tap and the
 * writer. Measured: see the commits. The price is waiting: with one chunk compressing, the
 * writer awaited zstd 560-620 ms per 196 MiB backup on the loaded 2-core machine, with two
 * 120-170 ms; the backup's wall time moved within the noise (2.8-3.3 s either way), its peak RSS
 * by ~4 MiB (118-127 against 122-130 MiB). Memory was chosen: the budget is the harder limit.
 */
export const PARALLEL_STREAM_BUFFER_BYTES = 256 * 1024;
export const PARALLEL_WRITER_OPTIONS = { maxPendingBlobs: 1, inputBufferBytes: PARALLEL_STREAM_BUFFER_BYTES, packSizeBytes: 4 * 1024 * 1024 } as const;

export class ParallelDumpVerifier extends Transform {
  readonly #result: Promise<ParallelDumpResult>;
  readonly #requirePosition: boolean;
  #tail: Buffer = Buffer.alloc(0);
  bytes = 0;

  /** requirePosition: the backup records binlog coordinates, so a server without a binary log fails it (as mariadb-dump --master-data does). */
  constructor(result: Promise<ParallelDumpResult>, requirePosition = false) {
    // One piece (insert-builder.ts PIECE_BYTES) waits here, not 1 MiB of them: what waits between the dumper and the writer is memory held.
    super({ highWaterMark: 64 * 1024 });
    this.#result = result;
    this.#requirePosition = requirePosition;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    // A copy: the chunk itself goes back to the dumper for reuse once the writer has read it.
    this.#tail = chunk.length >= TAIL_BYTES ? Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES)) : Buffer.concat([this.#tail, chunk]).subarray(-TAIL_BYTES);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#result.then((r) => {
      if (this.#requirePosition && !r.snapshot.position) cb(new SidestashError(ErrorCodes.DUMP_FAILED, 'the backup records binary log coordinates (spec.binlog.enabled), but the server is not using binary logging, or the user may not read its position (SHOW MASTER STATUS needs BINLOG MONITOR)'));
      else if (!this.#tail.toString('latin1').includes(DUMP_COMPLETED_MARK)) cb(new SidestashError(ErrorCodes.DUMP_FAILED, `the parallel dump ended early (no "${DUMP_COMPLETED_MARK}" line after ${this.bytes} bytes)`, { retryable: true }));
      else cb();
    }, cb);
  }
}

export interface ParallelSource {
  stream: NodeJS.ReadableStream;
  /** The writer's releaseInput: the dumper's pieces, once copied, are used again (piece-pool.ts). */
  release: (piece: Uint8Array) => void;
  verifier: ParallelDumpVerifier;
  /** The snapshot's binary-log position, once the dump has ended. */
  position(): Promise<CoordinatesOutcome>;
}

export function startParallelSource(a: BackupAssignment, log: Logger, signal: AbortSignal): ParallelSource {
  const selection = requireParallelDumpSelection(Array.isArray(a.dumpArgs) ? a.dumpArgs : [a.dumpArgs]);
  const parallel = Number.isInteger(a.parallel) && a.parallel! >= 1 && a.parallel! <= 16 ? a.parallel! : 2;
  log.info('starting the parallel dump', { parallel, databases: selection.databases ?? 'all' });
  // On the agent's main thread, beside the repository writer. Measured (256 MiB database, the
  // image's settings): in a worker thread the agent peaked at 157-159 MiB (its own isolate and
  // mysql2, and the transferred Buffers waiting on the main thread), on the main thread at
  // 126-145 MiB (mariadb-dump's backup: 114-121). The worker's second core made the backup
  // ~20% faster on a quiet machine (3.8-4.3 s against 4.9-5.1 s, interleaved; the same at 1 GiB
  // on a loaded one): memory was chosen, as the agent's budget is the harder limit.
  const dump = parallelDump({
    connect: dumpConnectionFactory(a.database),
    parallel,
    ...(selection.databases ? { databases: selection.databases } : {}),
    ...(selection.where !== undefined ? { where: selection.where } : {}),
    ...(selection.maxStatementBytes !== undefined ? { maxStatementBytes: selection.maxStatementBytes } : {}),
    signal,
  });
  dump.result.then((r) => log.info('parallel dump done', { lockHeldMs: Math.round(r.snapshot.lockHeldMs * 10) / 10, tables: r.tables, chunks: r.chunks, rows: r.rows, bytes: r.bytes, peakBufferedBytes: r.peakBufferedBytes, piecesAllocated: r.piecesAllocated, piecesReused: r.piecesReused }), () => undefined);
  return {
    stream: dump.stream,
    release: dump.release,
    verifier: new ParallelDumpVerifier(dump.result, a.recordBinlogCoordinates === true),
    async position() {
      const r = await dump.result;
      const p = r.snapshot.position;
      if (!p) return { problem: 'the server writes no binary log (SHOW MASTER STATUS returned nothing under the snapshot lock)' };
      return { position: { file: p.file, position: p.position, seenAtMs: p.seenAtMs } };
    },
  };
}
