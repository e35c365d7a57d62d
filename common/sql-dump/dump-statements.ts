// A dump stream as its statements, each with what it is: the seam between where a dump comes from
// (a snapshot, a range of one, a file) and what uses its statements (the parallel loader, the
// granular selection, the dump index, `repo dump --table`). Follows sql_mode as it goes, so that
// a routine dumped under NO_BACKSLASH_ESCAPES is split as the server will read it.
import { statementCore, statementKind, SqlModeTracker } from './statement-kind.ts';
import type { StatementKind } from './statement-kind.ts';
import { StatementSplitter } from './statement-splitter.ts';
import type { DumpStatement, StatementSplitterOptions } from './statement-splitter.ts';

export type ClassifiedStatement = DumpStatement & { what: StatementKind };

export interface SplitDumpOptions extends StatementSplitterOptions {
  /** Added to every offset: where the source starts in the whole dump (a range of it). */
  baseOffset?: number;
}

/** The same, pushed: feed() a dump chunk by chunk (a tap in a pipeline), end() at its end. */
export class DumpStatementStream {
  readonly #splitter: StatementSplitter;
  readonly #mode = new SqlModeTracker();
  readonly #base: number;

  constructor(options: SplitDumpOptions = {}) {
    this.#splitter = new StatementSplitter(options);
    this.#base = options.baseOffset ?? 0;
  }

  #classify(st: DumpStatement): ClassifiedStatement {
    const what = statementKind(st);
    if (what.kind === 'session' && this.#mode.follow(statementCore(st.head.toString('latin1')))) this.#splitter.backslashEscapes = this.#mode.backslashEscapes;
    if (this.#base !== 0) {
      st.offset += this.#base;
      st.contentOffset += this.#base;
      st.end += this.#base;
    }
    return Object.assign(st, { what });
  }

  *feed(buf: Buffer): Generator<ClassifiedStatement> {
    for (const st of this.#splitter.feed(buf)) yield this.#classify(st);
  }

  *end(): Generator<ClassifiedStatement> {
    for (const st of this.#splitter.end()) yield this.#classify(st);
  }
}

export async function* splitDump(source: AsyncIterable<Buffer | Uint8Array>, options: SplitDumpOptions = {}): AsyncGenerator<ClassifiedStatement> {
  const stream = new DumpStatementStream(options);
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    yield* stream.feed(buf);
  }
  yield* stream.end();
}
