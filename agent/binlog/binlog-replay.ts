// Replays archived binary-log files into a server: each step of a point-in-time plan
// (common/binlog/pitr-plan.ts) is read from its snapshot in the repository into `mariadb-binlog -`
// (standard input); its SQL goes through the dump lexer into the parallel loader with one
// connection: a binary log is replayed in order, in one session, as `mariadb-binlog f1 f2 | mariadb`
// would, but sandboxed: statements go over the wire (mysql2), never through a client program, so
// no client command (\!, system, source, ...) in an archived file can run. The one client command
// mariadb-binlog itself writes, /*!\C charset */, is translated (client-charset.ts). A GTID stop
// is replayed as the byte position it means, found in a first pass (gtid-stop.ts says why).
//
// The archived bytes are untrusted: the file must be as long as its record says, mariadb-binlog
// verifies each event's checksum (--verify-binlog-checksum) and its exit code and stderr are
// checked; the first failure (a statement the server refuses, a corrupt event, a repository
// read) fails the replay naming the file. Statements before it are applied: a failed point-in-time
// restore is restored again from its dump.
import { binlogArgs, validateStep } from './binlog-args.ts';
import type { BinlogArgsOptions } from './binlog-args.ts';
import { translateCharsetCommand } from './client-charset.ts';
import { binlogOutput } from './binlog-output.ts';
import { resolveGtidStop } from './gtid-stop.ts';
import { loadDump } from '../parallel-restore/dump-loader.ts';
import { QUERY_HEADROOM_BYTES } from '../parallel-restore/restore-connection.ts';
import type { PitrStep } from '../../common/binlog/pitr-plan.ts';
import { ErrorCodes, SidestashError, isSidestashError } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';
import type { Repository } from '../../common/repository/repository.ts';
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
  /**
   * The longest statement taken (the server's max_allowed_packet, less the packet header); a
   * forged archive whose output never ends a statement fails there instead of filling memory.
   * Default: 1 GiB, the most a server accepts.
   */
  maxStatementBytes?: number;
}

const DEFAULT_MAX_STATEMENT_BYTES = 1024 * 1024 * 1024;

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
  if (steps.length === 0) return { statements: 0, bytesRead: 0 };
  // Every step's arguments are checked, and a GTID stop found in its file (gtid-stop.ts says
  // why), before anything runs.
  for (const s of steps) validateStep(s);
  const program = { signal: options.signal, ...(options.mariadbBinlogPath ? { mariadbBinlogPath: options.mariadbBinlogPath } : {}) };
  const resolved: PitrStep[] = [];
  for (const s of steps) resolved.push(await resolveGtidStop(repo, s, program));
  const argv = resolved.map((s) => binlogArgs(s, options));
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
      for await (const st of stepStatements(repo, resolved[i]!, argv[i]!, options, outputBase, counts)) yield translateCharsetCommand(st);
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
  let output = 0;
  const source = binlogOutput(repo, step, args, {
    signal: o.signal,
    ...(o.mariadbBinlogPath ? { mariadbBinlogPath: o.mariadbBinlogPath } : {}),
    onRead: (n, read, size) => {
      counts.read(n);
      o.onProgress?.({ file: step.record.file, bytesRead: read, sizeBytes: size, statements: counts.statements() });
    },
  });
  const counted = (async function* () {
    for await (const chunk of source) {
      output += chunk.length;
      yield chunk;
    }
    counts.output(output);
  })();
  yield* splitDump(counted, { collect: true, headroomBytes: QUERY_HEADROOM_BYTES, baseOffset, maxStatementBytes: o.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES });
}
