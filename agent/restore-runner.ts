// A restore session: snapshot file stream -> mariadb (whole dump, or one database of it through
// OneDatabaseFilter), the client sandboxed, credentials in a private option file. The client
// starts with the first byte to restore, so a database not in the snapshot changes nothing.
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../common/errors.ts';
import type { RestoreAssignment, SessionResult } from '../common/protocol.ts';
import { openSnapshotFileStream } from '../common/repository/snapshot-reader.ts';
import type { OpenSnapshotFile } from '../common/repository/snapshot-reader.ts';
import type { SessionHooks } from './backup-runner.ts';
import { openOrInitRepository } from './backup-runner.ts';
import { startProgram } from './child-process.ts';
import type { RunningProgram } from './child-process.ts';
import { DeferredWritable } from './deferred-writable.ts';
import { writeClientOptionsFile } from './client-options-file.ts';
import type { AgentConfig } from './config.ts';
import { agentIdentity } from './config.ts';
import { runSql } from './database-probe.ts';
import { OneDatabaseFilter } from './one-database-filter.ts';
import { granularSelection, granularSqlStream } from './granular-source.ts';
import { ProgressTracker } from './progress-tracker.ts';
import { latestOfSourceHost, latestOfTarget, targetOf } from './target-snapshots.ts';
import { STASH_DUMP_PATH } from '../common/repository/snapshot-selector.ts';

/**
 * A snapshot is untrusted input (anyone with the repository password can write one), so the
 * client runs none of its commands: --binary-mode turns off every client command but DELIMITER
 * and \C (no \! or system, source, tee, pager, edit, connect), --sandbox refuses the ones that
 * touch files even so, and --local-infile=0 stops LOAD DATA LOCAL INFILE from reading files.
 * One database of a dump is picked by OneDatabaseFilter (--one-database needs client commands).
 */
export const RESTORE_CLIENT_ARGS = ['--binary-mode', '--sandbox', '--local-infile=0'];

export async function runRestore(config: AgentConfig, a: RestoreAssignment, hooks: SessionHooks): Promise<SessionResult> {
  const { signal, log } = hooks;
  const tracker = new ProgressTracker();
  const options = await writeClientOptionsFile(config.tmpDir, a.database, agentIdentity(config));
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let opened: OpenSnapshotFile | undefined;
  try {
    // Checks the server and the credentials first.
    await runSql(config.mariadbPath, options.path, 'SELECT 1', signal);
    const repo = await openOrInitRepository(a.repository, signal, false);
    // Under a shared lock until the stream closes (restic's restore takes one): no prune runs
    // meanwhile. "latest" is the target's own newest snapshot (common/repository/snapshot-selector.ts).
    // With sourceHost, "latest" is the newest snapshot Stash wrote for that host (migration).
    const latest = a.sourceHost === undefined
      ? { choose: (r: typeof repo, s: AbortSignal) => latestOfTarget(r, targetOf(a), { signal: s }) }
      : { choose: (r: typeof repo, s: AbortSignal) => latestOfSourceHost(r, a.sourceHost!, { signal: s }), path: STASH_DUMP_PATH };
    opened = await openSnapshotFileStream(repo, a.snapshot, { ...(a.snapshot === 'latest' ? latest : {}), signal });
    const { snapshot, file } = opened;
    tracker.estimatedTotalBytes = file.sizeBytes;
    // Tables, or a database into another name: statement by statement (agent/granular-source.ts).
    const granular = granularSelection(a);
    const picked = granular ? await granularSqlStream(repo, snapshot, file, granular, log, signal) : undefined;
    const source = picked?.stream ?? opened.stream;
    if (picked) tracker.estimatedTotalBytes = picked.estimatedBytes;
    timer = setInterval(() => hooks.onProgress(tracker.snapshot(bytes, 0)), config.progressIntervalMs);
    const byteFilter = a.databaseName !== undefined && !granular;
    const args = [`--defaults-extra-file=${options.path}`, ...RESTORE_CLIENT_ARGS, ...(byteFilter ? [`--database=${a.databaseName}`] : [])];
    log.info('restoring snapshot', { snapshotId: snapshot.id, path: file.path, bytes: file.sizeBytes, database: a.databaseName ?? '(all)' });
    // The client starts, and one database is created to restore into, with the first byte that
    // passes: a database the snapshot does not contain (OneDatabaseFilter) changes nothing.
    let client: RunningProgram | undefined;
    const input = new DeferredWritable(async () => {
      if (byteFilter) await runSql(config.mariadbPath, options.path, `CREATE DATABASE IF NOT EXISTS \`${a.databaseName!.replace(/`/g, '``')}\``, signal);
      client = startProgram(config.mariadbPath, args, ['pipe', 'ignore'], signal);
      return client.child.stdin!;
    });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    let streamError: unknown;
    try {
      if (byteFilter) await pipeline(source, counter, new OneDatabaseFilter(a.databaseName!), input, { signal });
      else await pipeline(source, counter, input, { signal });
    } catch (err) {
      streamError = err;
      client?.child.kill('SIGTERM');
    }
    const exit = client ? await client.exited : undefined;
    // Cancelled or past its deadline: the documented code, whatever the killed client said.
    if (signal.aborted) throw new SidestashError(ErrorCodes.SESSION_CANCELLED, `restore stopped after ${bytes} bytes: ${errorMessage(signal.reason)}`, { cause: streamError });
    if (isSidestashError(streamError, ErrorCodes.NOT_IN_SNAPSHOT)) {
      throw new SidestashError(ErrorCodes.NOT_IN_SNAPSHOT, `snapshot ${snapshot.id.slice(0, 8)}: ${streamError.message}${client ? '' : ' (nothing was restored)'}`, { details: { ...streamError.details, snapshotId: snapshot.id } });
    }
    if (client && exit && exit.code !== 0) {
      throw new SidestashError(ErrorCodes.RESTORE_FAILED, `mariadb ${exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`}: ${client.stderrTail() || errorMessage(streamError)}`, { cause: streamError });
    }
    if (streamError) throw streamError;
    hooks.onProgress(tracker.snapshot(bytes, 0));
    return { phase: 'Succeeded', snapshotId: snapshot.id, bytesRead: bytes, durationSeconds: tracker.elapsedSeconds };
  } finally {
    clearInterval(timer);
    await opened?.close();
    await options.remove();
  }
}
