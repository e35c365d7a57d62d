// The dump index, built at backup time from the dump as it passes: a Transform in the backup's
// pipeline() that hands every chunk on unchanged (the same Buffer, no copy) and reads it with the
// statement splitter on the way. Whatever goes wrong with the index never fails the backup: the
// tap stops indexing, the snapshot gets no index, and restores of it stream the whole dump.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { errorMessage } from '../common/errors.ts';
import { DumpIndexBuilder } from '../common/sql-dump/dump-index.ts';
import type { DumpIndexResult } from '../common/sql-dump/dump-index.ts';
import { DumpStatementStream } from '../common/sql-dump/dump-statements.ts';
import type { ExtraFile } from '../common/repository/snapshot-writer.ts';
import { encodeDumpIndex, parseDumpIndex } from '../common/sql-dump/dump-index-json.ts';
import { indexFileName } from '../common/sql-dump/dump-index.ts';

export class DumpIndexTap extends Transform {
  readonly #statements = new DumpStatementStream();
  readonly #builder = new DumpIndexBuilder();
  #bytes = 0;
  #failed: string | undefined;
  #ended = false;
  /** CPU time spent indexing (ms), for the benchmark's account of where the backup's CPU goes. */
  indexingMs = 0;

  /** bufferBytes: what may wait on each side (default 1 MiB). */
  constructor(bufferBytes = 1024 * 1024) {
    super({ highWaterMark: bufferBytes });
  }

  #index(run: () => void): void {
    if (this.#failed) return;
    const t0 = performance.now();
    try {
      run();
    } catch (err) {
      this.#failed = errorMessage(err);
    }
    this.indexingMs += performance.now() - t0;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#bytes += chunk.length;
    this.#index(() => {
      for (const st of this.#statements.feed(chunk)) this.#builder.add(st);
    });
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#index(() => {
      for (const st of this.#statements.end()) this.#builder.add(st);
    });
    this.#ended = true;
    cb();
  }

  /** The index of the whole dump, or why there is none. */
  result(): DumpIndexResult {
    if (!this.#ended) return { ok: false, reason: 'the dump did not end' };
    if (this.#failed) return { ok: false, reason: this.#failed };
    return this.#builder.finish(this.#bytes);
  }

  /** The index as the file to store beside `dumpFile` ([] when there is none); `onSkip` hears why not. */
  extraFiles(dumpFile: string, onSkip: (reason: string) => void): ExtraFile[] {
    const r = this.result();
    if (!r.ok) {
      onSkip(r.reason);
      return [];
    }
    const content = encodeDumpIndex(r.index);
    // An index a restore would refuse (past its bounds on size and ranges) is not stored.
    const back = parseDumpIndex(content, r.index.dumpBytes);
    if (!back.ok) {
      onSkip(back.problem);
      return [];
    }
    return [{ name: indexFileName(dumpFile), content }];
  }
}
