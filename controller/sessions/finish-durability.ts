// Which of a finished BackupSession's derived writes may be relaxed (resource-store.ts
// Precondition.durability: committed without a disk sync, lost only with the machine's power,
// and then only as the tail of the commits since the last synced one). Pure; tested on a table.
//
// The session's own terminal status write is always synced and comes first, so after a power
// loss the outcome stands and what may be missing is some suffix of the writes derived from it
// (a WAL keeps its commits in order). A power loss is always followed by a controller start, so
// "repaired" may count on the start-up steps (leader-work.ts) as well as on what runs later:
// - configuration: the outcome on the BackupConfiguration. Repaired: at start the backfill
//   rebuilds a configuration that never recorded one, and every sweep (the first at start)
//   replays sessions finished after the recorded one (configuration-backfill.ts). The recorded
//   session is still in history for that replay, because the prune that could delete it comes
//   after this write and is lost with it.
// - prune: deleting sessions beyond backupHistoryLimit. Repaired: the next finish of the
//   configuration deletes every session beyond the limit, not only one. Until then the history
//   holds a few sessions too many.
// - repositoryBackup: the Repository's last backup, size and snapshot count. Repaired by the
//   next successful backup into the Repository, which records its own (newer) measurement.
//   Until then `get repositories` shows the backup before: display only, nothing decides on it,
//   and it errs towards older, never towards a backup that did not happen.
// - integrity, passed: a passing check on the Repository. Repaired by the next backup's check.
//   Lost, the Repository keeps what it showed before, which errs to the safe side: a failure
//   stays shown (and keeps asking for checks of all the data), and an older lastReadDataCheckAt
//   only brings the next read of pack data forward.
// - integrity, failed: stays synced. Nothing replays it, and losing it would show the damaged
//   Repository as checked and passing, stop the reads of all the data a failure asks for, and
//   let the next random subset (which may miss the damaged pack) stand as the newest result.
// - readDataMarker: clearing the read-data marker of a session that was asked to read pack data.
//   Stays synced: nothing clears a stale marker but its 24 h limit (integrity-plan.ts), which
//   would hold back the data reads of every configuration sharing the Repository for that long;
//   and it is written only for the rare sessions that read data (once a readDataInterval per
//   Repository), so its sync costs the fleet nothing measurable.

export type DerivedWrite = 'readDataMarker' | 'integrity' | 'repositoryBackup' | 'configuration' | 'prune';

/** 'relaxed' when losing the write with the power is repaired by what runs anyway; undefined: synced. */
export function derivedWriteDurability(write: DerivedWrite, facts: { integrityOk?: boolean | undefined } = {}): 'relaxed' | undefined {
  switch (write) {
    case 'configuration':
    case 'prune':
    case 'repositoryBackup':
      return 'relaxed';
    case 'integrity':
      return facts.integrityOk === true ? 'relaxed' : undefined;
    case 'readDataMarker':
      return undefined;
  }
}
