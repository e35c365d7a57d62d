// A backup session: mariadb-dump (credentials in a private option file) -> DumpVerifier ->
// SnapshotWriteStream, all in one pipeline(), nothing staged on disk; then retention.
import { pipeline } from 'node:stream/promises';
import { assertSafeRepositoryLocation } from '../common/backend/local/repository-path.ts';
import { openBackend } from '../common/backend/open-backend.ts';
import type { OpenBackendOptions } from '../common/backend/open-backend.ts';
import { backupBackendOptions } from './backend-settings.ts';
import { requireSafeDumpArgs } from '../common/dump-args.ts';
import { requireParallelDumpSelection } from '../common/parallel-dump-args.ts';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { BackupAssignment, SessionProgress, SessionResult } from '../common/protocol.ts';
import { forget } from '../common/repository/forget.ts';
import { removeLocks } from '../common/repository/lock.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { SnapshotWriteStream } from '../common/repository/snapshot-writer.ts';
import type { ExtraFile } from '../common/repository/snapshot-writer.ts';
import { forgetUnneededBinlogs } from './binlog-retention-step.ts';
import { DumpCoordinatesTap } from './dump-coordinates-tap.ts';
import { resolveCoordinates } from './dump-coordinates.ts';
import { DumpIndexTap } from './dump-index-tap.ts';
import { dumpCoordinateTags, formatGtid } from '../common/binlog/archive-layout.ts';
import type { DumpCoordinates } from '../common/binlog/archive-layout.ts';
import { startProgram } from './child-process.ts';
import { writeClientOptionsFile } from './client-options-file.ts';
import type { AgentConfig } from './config.ts';
import { agentIdentity } from './config.ts';
import { estimateDataBytes, runSql } from './database-probe.ts';
import { DumpVerifier } from './dump-verifier.ts';
import { PARALLEL_STREAM_BUFFER_BYTES, PARALLEL_WRITER_OPTIONS, startParallelSource } from './parallel-dump/parallel-backup-source.ts';
import { ProgressTracker } from './progress-tracker.ts';
import { withStdoutBuffer } from './stdbuf.ts';
import { describeSuspiciousShrink } from '../common/shrink-guard.ts';
import { SESSION_UID_TAG, SUSPICIOUS_SHRINK_TAG, isConfigurationSnapshot, targetTags } from '../common/repository/snapshot-selector.ts';
import type { TargetRef } from '../common/repository/snapshot-selector.ts';
import { fileCounts, hadPreviousDump } from './file-counts.ts';
import { checkShrink, guardPercent, previousForGuard } from './shrink-check.ts';
import { runIntegrityCheck } from './integrity-check.ts';
import { targetOf } from './target-snapshots.ts';

export interface SessionHooks {
  signal: AbortSignal;
  log: Logger;
  /** Called every progress interval and at the end. */
  onProgress(p: SessionProgress): void;
}

/** Opens the session's repository, creating it when the location holds none yet. */
export async function openOrInitRepository(access: BackupAssignment['repository'], signal: AbortSignal, create: boolean, backendOptions: OpenBackendOptions = {}): Promise<Repository> {
  // The controller's rule, enforced here too: no repository in a system directory.
  assertSafeRepositoryLocation(access.location);
  const backend = await openBackend(access.location, access.credentials, backendOptions);
  try {
    return await Repository.open(backend, access.password, { signal });
  } catch (err) {
    if (!create || !isSidestashError(err, ErrorCodes.NOT_A_REPOSITORY)) throw err;
    return Repository.init(backend, access.password, { signal });
  }
}

export async function runBackup(config: AgentConfig, a: BackupAssignment, hooks: SessionHooks): Promise<SessionResult> {
  const { signal, log } = hooks;
  // The agent's own line of defence: arguments off the allow-list fail the session before
  // anything is written or started, and only the canonical form runs (common/dump-args.ts).
  const dumpArgs = requireSafeDumpArgs(Array.isArray(a.dumpArgs) ? a.dumpArgs : [a.dumpArgs]);
  if (a.dumper === 'parallel') requireParallelDumpSelection(dumpArgs.args);
  const target = targetOf(a);
  const tracker = new ProgressTracker();
  const options = await writeClientOptionsFile(config.tmpDir, a.database, agentIdentity(config));
  let writer: SnapshotWriteStream | undefined;
  let verifier: { bytes: number } | undefined;
  const report = (): void => hooks.onProgress(tracker.snapshot(verifier?.bytes ?? 0, writer?.stats?.storedBytes ?? 0));
  let timer: NodeJS.Timeout | undefined;
  try {
    // Fails fast, with a clear error, when the database is down or the credentials are wrong.
    tracker.estimatedTotalBytes = await estimateDataBytes(config.mariadbPath, options.path, signal);
    // Thin links: the lower upload limit of agent and configuration; retries through outages up to the agent's window.
    const repo = await openOrInitRepository(a.repository, signal, true, backupBackendOptions(config, a.limitUploadKiBps));
    // Locks of backups that were killed (restic unlock): stale ones would block prune. Stale
    // by lock-staleness.ts: 30 minutes old, or provably dead in this PID namespace.
    const removed = await removeLocks(repo, false, { signal });
    if (removed > 0) log.warn('removed stale repository locks', { removed });
    const previous = await previousForGuard(repo, a, target, log, signal);
    // Looked up before this dump's snapshot exists.
    const hadPrevious = await hadPreviousDump(repo, a, target, previous, guardPercent(a) !== 0, log, signal);
    timer = setInterval(report, config.progressIntervalMs);
    // --master-data=2 writes the coordinates as comments only (=1 would run CHANGE MASTER on
    // restore, and users cannot ask for either: common/dump-args.ts).
    const args = [`--defaults-extra-file=${options.path}`, ...(a.recordBinlogCoordinates ? ['--master-data=2'] : []), ...dumpArgs.args];
    // spec.dumper: parallel: the agent's own dumper (agent/parallel-dump/) in mariadb-dump's place.
    const parallel = a.dumper === 'parallel' ? startParallelSource(a, log, signal) : undefined;
    if (!parallel) log.info('starting mariadb-dump', { args: dumpArgs.args, repository: repo.backend.location });
    const [program, argv] = withStdoutBuffer(config.stdbufPath, config.mariadbDumpPath, args);
    const dump = parallel ? undefined : startProgram(program, argv, ['ignore', 'pipe'], signal);
    const verifying = parallel ? parallel.verifier : new DumpVerifier(dump!, dumpArgs.endsWithCompletedComment);
    verifier = verifying;
    // A dump the shrink guard flags is stored with a mark, so that it never becomes the baseline.
    const coordinatesTap = a.recordBinlogCoordinates && !parallel ? new DumpCoordinatesTap() : undefined;
    const coordinates = async (): Promise<DumpCoordinates | undefined> => {
      const found = a.recordBinlogCoordinates && parallel ? await parallel.position() : coordinatesTap?.outcome();
      if (!found) return undefined;
      const outcome = 'problem' in found ? found : await resolveCoordinates(found.position, (sql) => runSql(config.mariadbPath, options.path, sql, signal));
      if ('problem' in outcome) log.warn('the snapshot records no binary log coordinates: point-in-time recovery cannot start from it', { reason: outcome.problem });
      return 'coordinates' in outcome ? outcome.coordinates : undefined;
    };
    let recorded: DumpCoordinates | undefined;
    const finalTags = async (bytes: number): Promise<string[]> => {
      recorded = await coordinates();
      return [...(previous !== 'unreadable' && checkShrink(a, previous, bytes) ? [SUSPICIOUS_SHRINK_TAG] : []), ...(recorded ? dumpCoordinateTags(recorded) : [])];
    };
    // The dump index, stored beside the dump (granular restore); a dump it cannot index gets none.
    const indexTap = new DumpIndexTap(parallel ? PARALLEL_STREAM_BUFFER_BYTES : undefined);
    const extraFiles = (): ExtraFile[] => indexTap.extraFiles(a.filename, (reason) => log.warn('the snapshot gets no dump index; restores of it read the whole dump', { reason }));
    writer = new SnapshotWriteStream(repo, { filename: a.filename, hostname: a.snapshotHost, tags: [`invoker=${a.invoker}`, `session=${a.name}`, ...(a.sessionUid ? [`${SESSION_UID_TAG}${a.sessionUid}`] : []), ...targetTags(target)], finalTags, extraFiles, signal, ...(parallel ? { releaseInput: parallel.release, ...PARALLEL_WRITER_OPTIONS } : {}) });
    const processingStartMs = performance.now();
    try {
      const source = parallel ? parallel.stream : dump!.child.stdout!;
      if (coordinatesTap) await pipeline(source, verifying, coordinatesTap, indexTap, writer, { signal });
      else await pipeline(source, verifying, indexTap, writer, { signal });
    } catch (err) {
      if (!writer.closed) await new Promise((resolve) => writer!.once('close', resolve));
      await dump?.exited;
      if (signal.aborted && !isSidestashError(err, ErrorCodes.DUMP_FAILED)) throw new SidestashError(ErrorCodes.SESSION_CANCELLED, `backup stopped: ${errorMessage(signal.reason)}`, { cause: err });
      throw err;
    }
    const processingSeconds = (performance.now() - processingStartMs) / 1000;
    report();
    const result = writer.result!;
    log.info('snapshot stored', { snapshotId: result.snapshotId, bytes: result.sizeBytes, newBytes: result.stats.newBlobBytes, storedBytes: result.stats.storedBytes, indexingMs: Math.round(indexTap.indexingMs) });
    const out: SessionResult = {
      phase: 'Succeeded',
      snapshotId: result.snapshotId,
      bytesRead: result.sizeBytes,
      bytesStored: result.stats.storedBytes,
      durationSeconds: tracker.elapsedSeconds,
      processingSeconds,
    };
    if (hadPrevious !== undefined) out.files = fileCounts(hadPrevious);
    if (recorded) out.binlogCoordinates = { file: recorded.file, position: recorded.position, gtid: recorded.gtid.map(formatGtid).join(',') };
    const shrink = previous === 'unreadable' ? undefined : checkShrink(a, previous, result.sizeBytes);
    if (shrink) {
      out.suspiciousShrink = shrink;
      log.warn(describeSuspiciousShrink(shrink), { snapshotId: result.snapshotId });
    } else if (previous === 'unreadable' && a.retentionPolicy) {
      // The guard could not compare: retention, which deletes, waits for a run that can.
      out.retention = { kept: 0, removed: 0, pruned: false, error: 'skipped: the shrink guard could not read the previous snapshot of this configuration' };
      log.warn('retention skipped: the shrink guard could not read the previous snapshot');
    } else if (a.retentionPolicy) {
      out.retention = await applyRetention(repo, a, target, result.snapshotId, log, signal);
    }
    if (a.integrityCheck) {
      const integrity = await runIntegrityCheck(repo, a.integrityCheck, log, signal);
      if (integrity) out.integrity = integrity;
    }
    try {
      out.repositoryStats = await repositoryStats(repo, signal);
    } catch (err) {
      log.warn('could not measure the repository', { err: errorMessage(err) });
    }
    return out;
  } finally {
    clearInterval(timer);
    await options.remove();
  }
}

/** Bytes stored in the repository (every file) and its number of snapshots. */
async function repositoryStats(repo: Repository, signal: AbortSignal): Promise<{ sizeBytes: number; snapshotCount: number }> {
  let sizeBytes = 0;
  let snapshotCount = 0;
  for (const type of ['config', 'keys', 'index', 'snapshots', 'data'] as const) {
    for await (const f of repo.backend.list(type, { signal })) {
      sizeBytes += f.sizeBytes;
      if (type === 'snapshots') snapshotCount++;
    }
  }
  return { sizeBytes, snapshotCount };
}

async function applyRetention(repo: Repository, a: BackupAssignment, target: TargetRef, snapshotId: string, log: Logger, signal: AbortSignal): Promise<NonNullable<SessionResult['retention']>> {
  const { prune: doPrune, dryRun, ...policy } = a.retentionPolicy!;
  try {
    // Only this target's snapshots (never another namespace's, never legacy ones), never the new one.
    const d = await forget(repo, policy, { select: (s) => isConfigurationSnapshot(s, target, a.invoker), protect: [snapshotId], dryRun, signal });
    // The binlog archive: files that ended before the oldest kept dump (binlog-retention.ts).
    const binlogs = a.recordBinlogCoordinates ? await forgetUnneededBinlogs(repo, target, { dryRun, signal, log }) : 0;
    let pruned = false;
    if (doPrune && !dryRun && d.remove.length + binlogs > 0) {
      await prune(repo, { signal });
      pruned = true;
    }
    log.info('retention applied', { kept: d.keep.length, removed: d.remove.length, binlogFilesForgotten: binlogs, pruned, dryRun });
    return { kept: d.keep.length, removed: dryRun ? 0 : d.remove.length, pruned };
  } catch (err) {
    // The snapshot is safe; a retention failure is reported but does not fail the backup.
    log.warn('retention failed', { err: errorMessage(err) });
    return { kept: 0, removed: 0, pruned: false, error: errorMessage(err) };
  }
}
