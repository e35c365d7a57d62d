// A restore session: snapshot file stream (or, for one database or tables, the byte ranges the
// dump index gives: agent/granular-source.ts) -> the dump's statements (common/sql-dump) -> the
// parallel loader (agent/parallel-restore), which sends them over N connections -> each
// restored table's rows counted against the dump's.
// The connections open with the first statement, so a database not in the snapshot changes nothing.
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { cpuBudget } from '../common/cpu-budget.ts';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../common/errors.ts';
import type { RestoreAssignment, SessionResult } from '../common/protocol.ts';
import { openSnapshotFileStream } from '../common/repository/snapshot-reader.ts';
import type { OpenSnapshotFile } from '../common/repository/snapshot-reader.ts';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { FramePool } from '../common/sql-dump/frame-pool.ts';
import type { SessionHooks } from './backup-runner.ts';
import { openOrInitRepository } from './backup-runner.ts';
import type { AgentConfig } from './config.ts';
import { granularSelection, granularStatements } from './granular-source.ts';
import { loadDump } from './parallel-restore/dump-loader.ts';
import type { LoadResult } from './parallel-restore/dump-loader.ts';
import { agentRetryPolicy } from './backend-settings.ts';
import { QUERY_HEADROOM_BYTES, RestoreConnection } from './parallel-restore/restore-connection.ts';
import { mismatchMessage, mismatches, reportedTables, verifyTables } from './parallel-restore/restore-verify.ts';
import type { ClassifiedStatement } from '../common/sql-dump/dump-statements.ts';
import { ProgressTracker } from './progress-tracker.ts';
import { latestOfSourceHost, latestOfTarget, targetOf } from './target-snapshots.ts';
import { STASH_DUMP_PATH } from '../common/repository/snapshot-selector.ts';

/**
 * A snapshot is untrusted input (anyone with the repository password can write one). Its
 * statements go to the server over the wire, one per query: no client program reads them, so
 * no client command (\!, system, source, tee, pager, connect) can run, and LOAD DATA LOCAL
 * INFILE is refused (the connections do not offer to send files; restore-connection.ts).
 */

/** Connections when the session does not say: the CPUs the agent may use (its cgroup's limit counts), at least 2. */
export function defaultParallel(): number {
  return Math.min(64, Math.max(2, cpuBudget()));
}

export async function runRestore(config: AgentConfig, a: RestoreAssignment, hooks: SessionHooks): Promise<SessionResult> {
  const { signal, log } = hooks;
  const tracker = new ProgressTracker();
  const parallel = a.parallel ?? defaultParallel();
  /** Every connection of this restore writes the binary log or, on request, does not. */
  const binlog = a.writeBinlog === false ? { writeBinlog: false } : {};
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let opened: OpenSnapshotFile | undefined;
  try {
    // Checks the server and the credentials first, and how long a statement may be.
    const probe = await RestoreConnection.open(a.database, binlog);
    let maxStatementBytes: number;
    try {
      maxStatementBytes = await probe.maxStatementBytes();
    } finally {
      await probe.end();
    }
    // The agent's retry window through a backend outage, as backups have it (backend-settings.ts).
    const repo = await openOrInitRepository(a.repository, signal, false, { retry: agentRetryPolicy(config) });
    // Under a shared lock until the stream closes (restic's restore takes one): no prune runs
    // meanwhile. "latest" is the target's own newest snapshot (common/repository/snapshot-selector.ts).
    // With sourceHost, "latest" is the newest snapshot Stash wrote for that host (migration).
    const latest = a.sourceHost === undefined
      ? { choose: (r: typeof repo, s: AbortSignal) => latestOfTarget(r, targetOf(a), { signal: s }) }
      : { choose: (r: typeof repo, s: AbortSignal) => latestOfSourceHost(r, a.sourceHost!, { signal: s }), path: STASH_DUMP_PATH };
    opened = await openSnapshotFileStream(repo, a.snapshot, { ...(a.snapshot === 'latest' ? latest : {}), signal });
    const { snapshot, file } = opened;
    tracker.estimatedTotalBytes = file.sizeBytes;
    // One database, tables, or into another name: statement by statement (agent/granular-source.ts),
    // with the dump index only the byte ranges they need.
    const granular = granularSelection(a);
    const picked = granular ? await granularStatements(repo, snapshot, file, granular, log, signal, maxStatementBytes).catch((err: unknown) => {
      // With the dump index, a name the snapshot lacks is known before anything is loaded.
      throw isSidestashError(err, ErrorCodes.NOT_IN_SNAPSHOT) ? new SidestashError(ErrorCodes.NOT_IN_SNAPSHOT, `snapshot ${snapshot.id.slice(0, 8)}: ${err.message} (nothing was restored)`, { details: { ...err.details, snapshotId: snapshot.id } }) : err;
    }) : undefined;
    if (picked) tracker.estimatedTotalBytes = picked.plan?.bytes ?? file.sizeBytes;
    timer = setInterval(() => hooks.onProgress(tracker.snapshot(bytes, 0)), config.progressIntervalMs);
    log.info('restoring snapshot', { snapshotId: snapshot.id, path: file.path, bytes: file.sizeBytes, database: a.databaseName ?? '(all)', parallel, writeBinlog: a.writeBinlog !== false, ...(granular ? { selection: granular } : {}) });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    let loaded: LoadResult | undefined;
    let started = false;
    /** The selection's statements, their bytes counted as they pass (progress). */
    async function* counted(statements: AsyncIterable<ClassifiedStatement>): AsyncGenerator<ClassifiedStatement> {
      for await (const st of statements) {
        bytes += st.end - st.offset;
        yield st;
      }
    }
    // Statement buffers go back to the pool once the server has them (frame-pool.ts says why).
    const frames = new FramePool();
    const loadStatements = async (statements: AsyncIterable<ClassifiedStatement>) => {
      loaded = await loadDump(statements, {
        connection: a.database,
        parallel,
        signal,
        ...binlog,
        release: (st) => frames.release(st.framed),
        // A selection creates (never drops) the database it restores into itself.
        beforeFirstStatement: () => {
          started = true;
          return Promise.resolve();
        },
      });
    };
    const load = (source: AsyncIterable<Buffer>) => loadStatements(splitDump(source, { collect: true, maxStatementBytes, headroomBytes: QUERY_HEADROOM_BYTES, allocate: (n) => frames.acquire(n) }));
    let streamError: unknown;
    try {
      if (picked) await loadStatements(counted(picked.statements));
      else await pipeline(opened.stream, counter, load, { signal });
    } catch (err) {
      streamError = err;
    }
    // Cancelled or past its deadline: the documented code, whatever the connections said.
    if (signal.aborted) throw new SidestashError(ErrorCodes.SESSION_CANCELLED, `restore stopped after ${bytes} bytes: ${errorMessage(signal.reason)}`, { cause: streamError });
    if (isSidestashError(streamError, ErrorCodes.NOT_IN_SNAPSHOT)) {
      throw new SidestashError(ErrorCodes.NOT_IN_SNAPSHOT, `snapshot ${snapshot.id.slice(0, 8)}: ${streamError.message}${started ? '' : ' (nothing was restored)'}`, { details: { ...streamError.details, snapshotId: snapshot.id } });
    }
    if (streamError) throw isSidestashError(streamError) ? streamError : new SidestashError(ErrorCodes.RESTORE_FAILED, `restore failed after ${bytes} bytes: ${errorMessage(streamError)}`, { cause: streamError });
    hooks.onProgress(tracker.snapshot(bytes, 0));
    log.info('snapshot loaded', { statements: loaded?.statements ?? 0, tables: loaded?.tables.length ?? 0, deadlockRetries: loaded?.retries ?? 0 });
    const result: SessionResult = { phase: 'Succeeded', snapshotId: snapshot.id, bytesRead: bytes, durationSeconds: tracker.elapsedSeconds };
    // Verified restore: each table that received rows holds as many as the dump carried.
    const tables = loaded?.tables ?? [];
    if (tables.length > 0) {
      const conn = await RestoreConnection.open(a.database);
      try {
        const verified = await verifyTables(conn, tables, { checksum: a.verify === 'checksum', signal }).catch((err: unknown) => {
          throw signal.aborted ? new SidestashError(ErrorCodes.SESSION_CANCELLED, `restore stopped while verifying: ${errorMessage(signal.reason)}`, { cause: err }) : err;
        });
        result.tables = reportedTables(verified);
        if (mismatches(verified).length > 0) {
          result.phase = 'Failed';
          result.error = { code: ErrorCodes.RESTORE_VERIFY_FAILED, message: mismatchMessage(verified) };
          log.error('restore verification failed', { tables: mismatches(verified).length });
        }
      } finally {
        await conn.end();
      }
    }
    result.durationSeconds = tracker.elapsedSeconds;
    return result;
  } finally {
    clearInterval(timer);
    await opened?.close();
  }
}
