// Who archives a configuration's binary log: one agent at a time. Pure decisions, tested on
// tables; archive-sync.ts writes them with a compare-and-swap on the configuration's status.
//
// The archive is leased to the agent that syncs first; each sync renews it for leaseMs. An agent
// that cannot sync for leaseMs stops its archivers (agent/binlog/archive-supervisor.ts), so the
// controller hands the archive to another agent only after the lease ran out and a second
// leaseMs passed: the two never write one archive, even when their clocks differ by less than
// leaseMs.
import type { BinlogArchiveReport } from '../../common/protocol.ts';
import type { BinlogArchiveStatus } from '../resources/types.ts';

export type LeaseDecision = 'renew' | 'take' | 'held';

export function leaseDecision(status: BinlogArchiveStatus | undefined, agent: string, nowMs: number, leaseMs: number): LeaseDecision {
  if (!status?.agent) return 'take';
  if (status.agent === agent) return 'renew';
  const expires = Date.parse(status.leaseExpiresAt ?? '');
  return Number.isFinite(expires) && nowMs < expires + leaseMs ? 'held' : 'take';
}

/** The status after `agent` synced (with its report of the archive, when it had one). */
export function statusAfterSync(current: BinlogArchiveStatus | undefined, agent: string, report: BinlogArchiveReport | undefined, nowMs: number, leaseMs: number): BinlogArchiveStatus {
  const now = new Date(nowMs).toISOString();
  const next: BinlogArchiveStatus = { ...(current ?? {}), agent, leaseExpiresAt: new Date(nowMs + leaseMs).toISOString(), updatedAt: now };
  // A new holder's first sync carries no report: what the last holder archived stays shown.
  if (!report || current?.agent !== agent) {
    if (current?.agent !== agent) delete next.error;
    return next;
  }
  for (const k of ['chain', 'file', 'position', 'lastEventTime', 'lastGtid', 'flushedAt', 'bytesArchived', 'lagSeconds'] as const) {
    if (report[k] !== undefined) (next as Record<string, unknown>)[k] = report[k];
  }
  // Gaps count up over the configuration's life; a report carries those found since the last one.
  if (report.gaps) next.gaps = (current?.gaps ?? 0) + report.gaps;
  if (report.lastGap) next.lastGap = report.lastGap;
  if (report.error) next.error = report.error;
  else delete next.error;
  return next;
}
