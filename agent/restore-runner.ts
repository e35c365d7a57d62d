// A restore session: snapshot file stream -> mariadb (whole dump, or one database of it with
// --one-database), credentials in a private option file.
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ErrorCodes, SidestashError, errorMessage } from '../common/errors.ts';
import type { RestoreAssignment, SessionResult } from '../common/protocol.ts';
import { openSnapshotFileStream } from '../common/repository/snapshot-reader.ts';
import type { OpenSnapshotFile } from '../common/repository/snapshot-reader.ts';
import type { SessionHooks } from './backup-runner.ts';
import { openOrInitRepository } from './backup-runner.ts';
import { startProgram } from './child-process.ts';
import { writeClientOptionsFile } from './client-options-file.ts';
import type { AgentConfig } from './config.ts';
import { runSql } from './database-probe.ts';
import { ProgressTracker } from './progress-tracker.ts';

export async function runRestore(config: AgentConfig, a: RestoreAssignment, hooks: SessionHooks): Promise<SessionResult> {
  const { signal, log } = hooks;
  const tracker = new ProgressTracker();
  const options = await writeClientOptionsFile(config.tmpDir, a.database);
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let opened: OpenSnapshotFile | undefined;
  try {
    // Checks the server and the credentials first; one database is restored into an existing one.
    await runSql(config.mariadbPath, options.path, a.databaseName ? `CREATE DATABASE IF NOT EXISTS \`${a.databaseName.replace(/`/g, '``')}\`` : 'SELECT 1', signal);
    const repo = await openOrInitRepository(a.repository, signal, false);
    // Under a shared lock until the stream closes (restic's restore takes one): no prune runs meanwhile.
    opened = await openSnapshotFileStream(repo, a.snapshot, { filter: a.snapshot === 'latest' ? { hostname: a.snapshotHost } : {}, signal });
    const { snapshot, file } = opened;
    tracker.estimatedTotalBytes = file.sizeBytes;
    timer = setInterval(() => hooks.onProgress(tracker.snapshot(bytes, 0)), config.progressIntervalMs);
    // No --binary-mode: it turns off the client's USE tracking that --one-database relies on.
    const args = [`--defaults-extra-file=${options.path}`, ...(a.databaseName ? ['--one-database', a.databaseName] : [])];
    log.info('restoring snapshot', { snapshotId: snapshot.id, path: file.path, bytes: file.sizeBytes, database: a.databaseName ?? '(all)' });
    const client = startProgram(config.mariadbPath, args, ['pipe', 'ignore'], signal);
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    let streamError: unknown;
    try {
      await pipeline(opened.stream, counter, client.child.stdin!, { signal });
    } catch (err) {
      streamError = err;
      client.child.kill('SIGTERM');
    }
    const { code, signal: killedBy } = await client.exited;
    if (code !== 0) {
      throw new SidestashError(ErrorCodes.RESTORE_FAILED, `mariadb ${killedBy ? `was killed by ${killedBy}` : `exited with code ${code}`}: ${client.stderrTail() || errorMessage(streamError)}`, { cause: streamError });
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
