// Replays archived binary-log files into a server: each step of a point-in-time plan
// (common/binlog/pitr-plan.ts) is read from its snapshot in the repository into `mariadb-binlog -`
// (standard input); its SQL goes through the dump lexer into the parallel loader with one
// connection: a binary log is replayed in order, in one session, as `mariadb-binlog f1 f2 | mariadb`
// would, but sandboxed: statements go over the wire (mysql2), never through a client program, so
// no client command (\!, system, source, ...) in an archived file can run. The one client command
// mariadb-binlog itself writes, /*!\C charset */, is translated (client-charset.ts).
//
// The archived bytes are untrusted: the file must be as long as its record says, mariadb-binlog
// verifies each event's checksum (--verify-binlog-checksum) and its exit code and stderr are
// checked; the first failure (a statement the server refuses, a corrupt event, a repository
// read) fails the replay naming the file. Statements before it are applied: a failed point-in-time
// restore is restored again from its dump.
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { binlogArgs } from './binlog-args.ts';
import type { BinlogArgsOptions } from './binlog-args.ts';
import { translateCharsetCommand } from './client-charset.ts';
import { startProgram } from '../child-process.ts';
import { loadDump } from '../parallel-restore/dump-loader.ts';
import { QUERY_HEADROOM_BYTES } from '../parallel-restore/restore-connection.ts';
import type { PitrStep } from '../../common/binlog/pitr-plan.ts';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';
import type { Repository } from '../../common/repository/repository.ts';
import { openSnapshotFileStream } from '../../common/repository/snapshot-reader.ts';
import { splitDump } from '../../common/sql-dump/dump-statements.ts';
import type { ClassifiedStatement } from '../../common/sql-dump/dump-statements.ts';

export interface ReplayProgress {
  /** The file being read (its name on the server). */
  file: string;
  /** Bytes of it read from the repository into mariadb-binlog. */
  bytesRead: number;
  /** Its archived size. */
  sizeBytes: number;
  /** Statements taken for the server so far, over all files of the replay. */
  statements: number;
}

export interface ReplayOptions extends BinlogArgsOptions {
  connection: DatabaseConnection;
  signal: AbortSignal;
  onProgress?: (p: ReplayProgress) => void;
  /** The program (default: mariadb-binlog on PATH). */
  mariadbBinlogPath?: string;
}

export interface ReplayResult {
  /** Statements run, over all files. */
  statements: number;
  /** Bytes read from the repository, over all files. */
  bytesRead: number;
}

/**
 * The client's own session before the first replayed statement: the loader's connections start
 * with foreign_key_checks off (for dumps); a binlog's row events carry their own, and its Query
 * events set it from their flags, but until the first one the session is the server's default,
 * as `mariadb` would have it.
 */
const CLIENT_SESSION = Buffer.from('SET SESSION foreign_key_checks = DEFAULT', 'latin1');

function clientSession(): ClassifiedStatement {
  return { offset: 0, contentOffset: 0, end: 0, text: CLIENT_SESSION, head: CLIENT_SESSION, topLevelGroups: 0, delimiter: ';', what: { kind: 'session' } };
}

/** Where each file's SQL lies in the concatenated output (statement offsets are into it). */
interface OutputRange {
  file: string;
  from: number;
  to: number;
}

/** Replays one step (one archived file): replayBinlogFiles with one step. */
export function replayBinlogFile(repo: Repository, step: PitrStep, options: ReplayOptions): Promise<ReplayResult> {
  return replayBinlogFiles(repo, [step], options);
}

/** Replays a plan's steps in order over one connection (one session, as one `mariadb` client would). */
export async function replayBinlogFiles(repo: Repository, steps: readonly PitrStep[], options: ReplayOptions): Promise<ReplayResult> {
  // Every step's arguments are checked before anything runs.
  const argv = steps.map((s) => binlogArgs(s, options));
  const ranges: OutputRange[] = [];
  let bytesRead = 0;
  let statements = 0;
  async function* all(): AsyncGenerator<ClassifiedStatement> {
    yield clientSession();
    let outputBase = 0;
    for (let i = 0; i < steps.length; i++) {
      const range: OutputRange = { file: steps[i]!.record.file, from: outputBase, to: Number.MAX_SAFE_INTEGER };
      ranges.push(range);
      const counts = { read: (n: number) => (bytesRead += n), output: (n: number) => (range.to = range.from + n), statements: () => statements };
      for await (const st of stepStatements(repo, steps[i]!, argv[i]!, options, outputBase, counts)) yield translateCharsetCommand(st);
      outputBase = range.to;
    }
  }
  try {
    const r = await loadDump(all(), {
      connection: options.connection,
      parallel: 1,
      signal: options.signal,
      onProgress: (p) => (statements = p.statements),
    });
    return { statements: Math.max(0, r.statements - 1), bytesRead };
  } catch (err) {
    throw inFile(err, ranges);
  }
}

/** The loader's error, naming the archived file whose statement failed. */
function inFile(err: unknown, ranges: readonly OutputRange[]): unknown {
  if (!isSidestashError(err) || err.code !== ErrorCodes.RESTORE_FAILED) return err;
  const offset = (err.details as { offset?: unknown } | undefined)?.offset;
  if (typeof offset !== 'number' || (err.details as { file?: unknown }).file !== undefined) return err;
  const r = ranges.find((x) => offset >= x.from && offset < x.to);
  if (!r) return err;
  return new SidestashError(ErrorCodes.RESTORE_FAILED, `replaying the binary log ${r.file}: ${err.message.replace(/ of the dump\b/, ` of mariadb-binlog's output`)}`, { cause: err.cause ?? err, details: { ...err.details, file: r.file } });
}

interface StepCounts {
  /** Bytes read from the repository. */
  read(n: number): void;
  /** mariadb-binlog's output so far (bytes), once it ended. */
  output(total: number): void;
  statements(): number;
}

async function* stepStatements(repo: Repository, step: PitrStep, args: string[], o: ReplayOptions, baseOffset: number, counts: StepCounts): AsyncGenerator<ClassifiedStatement> {
  const file = step.record.file;
  const failed = (what: string, extra: Record<string, unknown> = {}, cause?: unknown) =>
    new SidestashError(ErrorCodes.RESTORE_FAILED, `replaying the binary log ${file} (snapshot ${step.record.snapshotId.slice(0, 8)}): ${what}`, { details: { file, snapshotId: step.record.snapshotId, ...extra }, ...(cause !== undefined ? { cause } : {}) });
  const opened = await openSnapshotFileStream(repo, step.record.snapshotId, { path: `/${file}`, signal: o.signal });
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let program: ReturnType<typeof startProgram> | undefined;
  try {
    if (opened.file.sizeBytes !== step.record.endPosition) {
      throw failed(`the archived file holds ${opened.file.sizeBytes} bytes, but its snapshot says ${step.record.endPosition} (binlog-end): the archive is not the one its tags describe`, { sizeBytes: opened.file.sizeBytes });
    }
    program = startProgram(o.mariadbBinlogPath ?? 'mariadb-binlog', args, ['pipe', 'pipe'], signal, { TZ: 'UTC' });
    let read = 0;
    let sourceError: unknown;
    opened.stream.once('error', (err) => (sourceError ??= err));
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        read += chunk.length;
        counts.read(chunk.length);
        o.onProgress?.({ file, bytesRead: read, sizeBytes: opened.file.sizeBytes, statements: counts.statements() });
        done(null, chunk);
      },
    });
    // mariadb-binlog stops reading at its stop position and closes its input: a broken pipe then is
    // expected; what matters is its exit code, and whether the repository could be read.
    const feeding = pipeline(opened.stream, counter, program.child.stdin!, { signal }).catch(() => undefined);
    let output = 0;
    const stdout = program.child.stdout!;
    const counted = (async function* () {
      for await (const chunk of stdout) {
        output += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    })();
    for await (const st of splitDump(counted, { collect: true, headroomBytes: QUERY_HEADROOM_BYTES, baseOffset })) yield st;
    counts.output(output);
    const exit = await program.exited;
    const exitCode = exit.code;
    await feeding;
    if (sourceError !== undefined) throw failed(`reading it from the repository failed: ${errorMessage(sourceError)}`, {}, sourceError);
    if (o.signal.aborted) throw new SidestashError(ErrorCodes.ABORTED, `replay stopped: ${errorMessage(o.signal.reason)}`, { cause: o.signal.reason });
    if (exitCode !== 0) {
      const why = program.stderrTail() || 'no message';
      throw failed(`mariadb-binlog ${exit.signal ? `was killed by ${exit.signal}` : `exited with ${exitCode}`} after ${read} of ${opened.file.sizeBytes} bytes: ${why}`, { exitCode, stderr: why });
    }
  } finally {
    // Ended early (the loader failed, the signal aborted): the program is stopped.
    stop.abort(new Error('replay ended'));
    if (program) await program.exited;
    await opened.close();
  }
}
