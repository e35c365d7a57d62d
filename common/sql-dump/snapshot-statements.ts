// A snapshot's dump as classified statements, whole or selected (a database, tables, `as`): the
// source the restore loader and `repo dump --database/--table` consume. With a usable dump index
// beside the dump, a selection reads only the byte ranges it needs (and so only the blobs that
// cover them); without one (Stash's and restic's snapshots, an index that fails validation) it
// streams the whole dump through the same selection. Either way the statements are the same.
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, errorMessage, isSidestashError } from '../errors.ts';
import { FileRangeReader } from '../repository/file-range-reader.ts';
import type { Repository } from '../repository/repository.ts';
import { createFileReadStream, findSnapshotFile } from '../repository/snapshot-reader.ts';
import type { SnapshotFile } from '../repository/snapshot-reader.ts';
import type { Snapshot } from '../repository/snapshot.ts';
import { indexFileName } from './dump-index.ts';
import type { DumpIndex } from './dump-index.ts';
import { MAX_INDEX_FILE_BYTES, parseDumpIndex } from './dump-index-json.ts';
import { selectStatements } from './dump-selection.ts';
import type { DumpSelection, SelectionWarning } from './dump-selection.ts';
import { splitDump } from './dump-statements.ts';
import type { ClassifiedStatement } from './dump-statements.ts';
import { planGranularRead } from './granular-plan.ts';
import type { GranularPlan } from './granular-plan.ts';

export interface SnapshotStatementsOptions extends CallOptions {
  /** Keep each statement's text (the loader and `repo dump` need it). Default true. */
  collect?: boolean;
  maxStatementBytes?: number;
  /** Room before each statement's text for the loader's wire header (StatementSplitterOptions). */
  headroomBytes?: number;
  /** An index that cannot be used, a definition left out under `as`. */
  onWarning?: (w: SelectionWarning | { code: 'DUMP_INDEX_UNUSABLE'; message: string }) => void;
  /** Ignore the index (benchmarks, tests): stream the whole dump. */
  ignoreIndex?: boolean;
}

export interface SnapshotStatements {
  statements: AsyncGenerator<ClassifiedStatement>;
  /** The plan when the index was used; undefined when the whole dump streams. */
  plan?: GranularPlan;
  /** Blobs and plaintext bytes fetched so far by range reads. */
  readonly loaded: { blobs: number; bytes: number };
}

/** The dump index beside a snapshot's dump file, or why there is none usable (undefined: none at all). */
export async function loadDumpIndex(repo: Repository, snapshot: Snapshot, file: SnapshotFile, options: CallOptions = {}): Promise<{ index?: DumpIndex; problem?: string }> {
  let indexFile: SnapshotFile;
  try {
    indexFile = await findSnapshotFile(repo, snapshot, indexFileName(file.path), options);
  } catch (err) {
    if (isSidestashError(err, ErrorCodes.PATH_NOT_FOUND)) return {};
    throw err;
  }
  if (indexFile.sizeBytes > MAX_INDEX_FILE_BYTES) return { problem: `${indexFile.path} is larger than ${MAX_INDEX_FILE_BYTES} bytes` };
  try {
    const parts: Buffer[] = [];
    let bytes = 0;
    for await (const b of createFileReadStream(repo, indexFile, options)) {
      bytes += (b as Buffer).length;
      if (bytes > MAX_INDEX_FILE_BYTES) return { problem: `${indexFile.path} is larger than ${MAX_INDEX_FILE_BYTES} bytes` };
      parts.push(b as Buffer);
    }
    const parsed = parseDumpIndex(Buffer.concat(parts), file.sizeBytes);
    return parsed.ok ? { index: parsed.index } : { problem: `${indexFile.path}: ${parsed.problem}` };
  } catch (err) {
    if (options.signal?.aborted) throw err;
    return { problem: `${indexFile.path}: ${errorMessage(err)}` };
  }
}

export async function snapshotStatements(repo: Repository, snapshot: Snapshot, file: SnapshotFile, selection: DumpSelection | undefined, options: SnapshotStatementsOptions = {}): Promise<SnapshotStatements> {
  const split = { collect: options.collect ?? true, ...(options.maxStatementBytes ? { maxStatementBytes: options.maxStatementBytes } : {}), ...(options.headroomBytes ? { headroomBytes: options.headroomBytes } : {}) };
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const selectOpt = options.onWarning ? { onWarning: options.onWarning } : {};
  const loaded = { blobs: 0, bytes: 0 };
  const whole = (): SnapshotStatements => {
    const all = splitDump(createFileReadStream(repo, file, signalOpt), split);
    return { statements: selection ? selectStatements(all, selection, selectOpt) : all, loaded };
  };
  if (!selection || options.ignoreIndex) return whole();
  const { index, problem } = await loadDumpIndex(repo, snapshot, file, signalOpt);
  let reader: FileRangeReader | undefined;
  if (index) {
    try {
      reader = await FileRangeReader.open(repo, file, signalOpt);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      options.onWarning?.({ code: 'DUMP_INDEX_UNUSABLE', message: `the dump cannot be read by range (${errorMessage(err)}); reading all of it` });
    }
  } else if (problem) {
    options.onWarning?.({ code: 'DUMP_INDEX_UNUSABLE', message: `the dump index is unusable (${problem}); reading all of the dump` });
  }
  if (!index || !reader) return whole();
  // Throws SIDESTASH_NOT_IN_SNAPSHOT, naming what the index lists, before any byte is read.
  const plan = planGranularRead(index, selection);
  const r = reader;
  async function* ranges(): AsyncGenerator<ClassifiedStatement> {
    for (const [start, end] of plan.ranges) {
      yield* splitDump(r.read(start, end), { ...split, baseOffset: start });
      loaded.blobs = r.blobsLoaded;
      loaded.bytes = r.bytesLoaded;
    }
  }
  return { statements: selectStatements(ranges(), selection, selectOpt), plan, loaded };
}
