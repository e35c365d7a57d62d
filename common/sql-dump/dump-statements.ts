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

export async function* splitDump(source: AsyncIterable<Buffer | Uint8Array>, options: SplitDumpOptions = {}): AsyncGenerator<ClassifiedStatement> {
  const splitter = new StatementSplitter(options);
  const mode = new SqlModeTracker();
  const base = options.baseOffset ?? 0;
  const classify = (st: DumpStatement): ClassifiedStatement => {
    const what = statementKind(st);
    if (what.kind === 'session' && mode.follow(statementCore(st.head.toString('latin1')))) splitter.backslashEscapes = mode.backslashEscapes;
    if (base !== 0) {
      st.offset += base;
      st.contentOffset += base;
      st.end += base;
    }
    return Object.assign(st, { what });
  };
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (const st of splitter.feed(buf)) yield classify(st);
  }
  for (const st of splitter.end()) yield classify(st);
}
