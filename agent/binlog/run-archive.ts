// The supervisor's runner (archive-supervisor.ts): one archive the controller leased to this agent
// -> the archiver (binlog-archiver.ts). The server is checked first (every problem named at once);
// the repository is opened as backups open it (the agent's upload limit and retry window); a new
// chain starts at the file of the oldest dump of the target that records coordinates, so that
// every kept dump can be replayed from, or at the server's current file when there is none (the
// next dump is covered; older binlogs would be stored for nothing). The archiver's status becomes
// the report the controller records on the configuration.
import { formatGtid } from '../../common/binlog/archive-layout.ts';
import { targetPitrSnapshots } from '../../common/binlog/target-pitr-snapshots.ts';
import type { Logger } from '../../common/log.ts';
import type { BinlogArchiveAssignment } from '../../common/protocol.ts';
import type { Repository } from '../../common/repository/repository.ts';
import { listSnapshots } from '../../common/repository/snapshot.ts';
import { parseTargetRef } from '../../common/repository/snapshot-selector.ts';
import type { TargetRef } from '../../common/repository/snapshot-selector.ts';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { backupBackendOptions } from '../backend-settings.ts';
import type { BackendSettings } from '../backend-settings.ts';
import { openOrInitRepository } from '../backup-runner.ts';
import type { ArchiveHooks, ArchiveProgress, ArchiveRunner } from './archive-supervisor.ts';
import { runBinlogArchiver } from './binlog-archiver.ts';
import type { BinlogArchiveStatus } from './binlog-archiver.ts';
import { currentBinlogFile } from './binlog-sql.ts';
import { checkBinlogServer } from './binlog-server-check.ts';

/** Where a new chain starts: the oldest coordinates-bearing dump's file, else the server's current file. */
export async function chainStart(repo: Repository, target: TargetRef, currentFile: () => Promise<string>, signal: AbortSignal): Promise<{ file: string }> {
  const { dumps } = targetPitrSnapshots(await listSnapshots(repo, { signal }), target);
  const oldest = dumps.reduce<(typeof dumps)[number] | undefined>((a, d) => (!a || d.takenAtMs < a.takenAtMs ? d : a), undefined);
  return { file: oldest?.coordinates.file ?? (await currentFile()) };
}

/** The archiver's status as the supervisor keeps it. */
export function archiveProgress(s: BinlogArchiveStatus): ArchiveProgress {
  return {
    ...(s.chain ? { chain: s.chain, file: s.file, position: s.position } : {}),
    ...(s.lastEventTime !== undefined ? { lastEventTime: new Date(s.lastEventTime * 1000).toISOString() } : {}),
    ...(s.lastGtid.length > 0 ? { lastGtid: s.lastGtid.map(formatGtid).join(',') } : {}),
    ...(s.flushedAt ? { flushedAt: s.flushedAt } : {}),
    bytesArchived: s.bytesArchived,
    ...(s.unflushedSince ? { lagSinceMs: Date.parse(s.unflushedSince) } : {}),
    ...(s.retrying ? { retrying: { code: s.retrying.code, message: s.retrying.message } } : {}),
  };
}

export function archiveRunner(settings: BackendSettings, options: { log?: Logger } = {}): ArchiveRunner {
  return async (a: BinlogArchiveAssignment, hooks: ArchiveHooks) => {
    const log = options.log ?? hooks.log;
    const target = parseTargetRef(a.target);
    if (!target) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `binlog archive: target ${JSON.stringify(a.target)} is not namespace/name`);
    const { warnings } = await checkBinlogServer(a.database);
    for (const w of warnings) log.warn(`binlog archive: ${w}`, { configuration: a.configuration });
    const repo = await openOrInitRepository(a.repository, hooks.signal, true, backupBackendOptions(settings, undefined));
    const startFrom = await chainStart(repo, target, () => currentBinlogFile(a.database), hooks.signal);
    let reportedGap: string | undefined;
    await runBinlogArchiver({
      repo,
      database: a.database,
      target,
      replicaServerId: a.replicaServerId,
      flushIntervalMs: a.flushIntervalSeconds * 1000,
      startFrom,
      signal: hooks.signal,
      onStatus: (s) => {
        hooks.onProgress(archiveProgress(s));
        if (s.gap && s.gap.detectedAt !== reportedGap) {
          reportedGap = s.gap.detectedAt;
          hooks.onGap(s.gap);
        }
      },
    });
  };
}
