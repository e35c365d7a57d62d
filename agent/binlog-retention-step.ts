// Retention of a target's binlog archive, after its dumps' retention (agent/backup-runner.ts):
// the plan is common/binlog/binlog-retention.ts's (pure); this forgets its snapshots under an
// exclusive repository lock, as `restic forget` does, and prune (when the policy prunes) frees
// their data with the dumps'. Kept dumps are every dump of the target that records coordinates,
// whichever configuration wrote it: a binlog archive serves the target, and keeping more is the
// safe side.
import { planBinlogRetention } from '../common/binlog/binlog-retention.ts';
import { targetPitrSnapshots } from '../common/binlog/target-pitr-snapshots.ts';
import { throwIfAborted } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { withLock } from '../common/repository/lock.ts';
import type { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import type { TargetRef } from '../common/repository/snapshot-selector.ts';

export async function forgetUnneededBinlogs(repo: Repository, target: TargetRef, options: { dryRun: boolean; signal: AbortSignal; log: Logger }): Promise<number> {
  const run = async (signal: AbortSignal): Promise<number> => {
    const { dumps: kept, files: records } = targetPitrSnapshots(await listSnapshots(repo, { signal }), target);
    const plan = planBinlogRetention(kept, records);
    for (const f of plan.forget) {
      options.log.info(options.dryRun ? 'binlog archive snapshot would be forgotten' : 'forgetting binlog archive snapshot', { snapshotId: f.record.snapshotId, file: f.record.file, chain: f.record.chain, reason: f.reason });
      if (options.dryRun) continue;
      throwIfAborted(signal);
      await repo.backend.remove({ type: 'snapshots', name: f.record.snapshotId }, { signal });
    }
    return options.dryRun ? 0 : plan.forget.length;
  };
  return options.dryRun ? run(options.signal) : withLock(repo, true, { signal: options.signal }, run);
}
