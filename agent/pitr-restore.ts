// A point-in-time restore (RestoreSession pointInTime, gtid or position): plan from the target's
// snapshots (common/binlog/pitr-plan.ts: the newest dump before the point, then the archived
// binlog files from its coordinates to the point), restore that dump as any restore does
// (restore-runner.ts: parallel, verified), then replay the files in order on one connection
// (agent/binlog/binlog-replay.ts: mariadb-binlog's SQL through the lexer, no client program).
// A point the repository cannot reach fails with PITR_UNREACHABLE before anything is changed.
import { parseGtid } from '../common/binlog/archive-layout.ts';
import { targetPitrSnapshots } from '../common/binlog/target-pitr-snapshots.ts';
import type { BinlogFileRecord } from '../common/binlog/archive-layout.ts';
import { pitrProblemError, planPointInTime } from '../common/binlog/pitr-plan.ts';
import type { DumpCandidate, PitrPlan, PitrTarget } from '../common/binlog/pitr-plan.ts';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { PointInTime, RestoreAssignment, SessionResult } from '../common/protocol.ts';
import { withLock } from '../common/repository/lock.ts';
import type { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import type { TargetRef } from '../common/repository/snapshot-selector.ts';
import type { SessionHooks } from './backup-runner.ts';
import { openOrInitRepository } from './backup-runner.ts';
import { replayBinlogFiles } from './binlog/binlog-replay.ts';
import type { AgentConfig } from './config.ts';
import { RestoreConnection } from './parallel-restore/restore-connection.ts';
import { agentRetryPolicy } from './backend-settings.ts';
import { runRestore } from './restore-runner.ts';
import { targetOf } from './target-snapshots.ts';

/** The assignment's point as the planner reads it; refused when it is not one. */
export function pitrTarget(p: PointInTime): PitrTarget {
  switch (p.kind) {
    case 'latest':
      return { kind: 'latest' };
    case 'time': {
      const t = Date.parse(p.time);
      if (!Number.isFinite(t)) break;
      return { kind: 'time', time: new Date(t) };
    }
    case 'gtid': {
      const gtid = parseGtid(p.gtid);
      if (!gtid) break;
      return { kind: 'gtid', gtid };
    }
    case 'position':
      if (typeof p.file === 'string' && Number.isSafeInteger(p.position)) return { kind: 'position', file: p.file, position: p.position };
  }
  throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `point-in-time restore: ${JSON.stringify(p)} is not a point`);
}

/** The target's dumps that record coordinates, and its archived binlog files. */
export async function pitrCandidates(repo: Repository, target: TargetRef, signal: AbortSignal): Promise<{ dumps: DumpCandidate[]; files: BinlogFileRecord[] }> {
  const { dumps, files } = targetPitrSnapshots(await listSnapshots(repo, { signal }), target);
  return { dumps: dumps.map(({ snapshotId, time, coordinates }) => ({ snapshotId, time, coordinates })), files };
}

export async function runPointInTimeRestore(config: AgentConfig, a: RestoreAssignment, hooks: SessionHooks): Promise<SessionResult> {
  const { signal, log } = hooks;
  const target = pitrTarget(a.pointInTime!);
  const repo = await openOrInitRepository(a.repository, signal, false, { retry: agentRetryPolicy(config) });
  const { dumps, files } = await pitrCandidates(repo, targetOf(a), signal);
  const planned = planPointInTime(dumps, files, target);
  if ('problem' in planned) throw pitrProblemError(planned.problem);
  const plan: PitrPlan = planned.plan;
  log.info('point-in-time restore planned', { point: a.pointInTime, dump: plan.dump.snapshotId, coordinates: `${plan.dump.coordinates.file}:${plan.dump.coordinates.position}`, chain: plan.chain, files: plan.steps.map((s) => s.record.file) });
  // The dump, restored as any snapshot is (parallel, verified).
  const { pointInTime: _p, ...rest } = a;
  const restored = await runRestore(config, { ...rest, snapshot: plan.dump.snapshotId }, hooks);
  if (restored.phase !== 'Succeeded' || plan.steps.length === 0) return restored;
  // Then the binary log, in order, on one connection; under a shared lock, as restic's restore.
  const bytesBefore = restored.bytesRead ?? 0;
  const started = performance.now();
  // The longest statement the server takes bounds what the replay holds of one.
  const probe = await RestoreConnection.open(a.database);
  let maxStatementBytes: number;
  try {
    maxStatementBytes = await probe.maxStatementBytes();
  } finally {
    await probe.end();
  }
  const replayed = await withLock(repo, false, { signal }, (lockSignal) =>
    replayBinlogFiles(repo, plan.steps, {
      connection: a.database,
      maxStatementBytes,
      signal: lockSignal,
      ...(a.writeBinlog === false ? { writeBinlog: false } : {}),
      onProgress: (p) => hooks.onProgress({ bytesDumped: bytesBefore + p.bytesRead, bytesStored: 0, rateBytesPerSecond: 0 }),
    }),
  );
  log.info('binary log replayed', { files: plan.steps.length, statements: replayed.statements, bytes: replayed.bytesRead, seconds: Math.round((performance.now() - started) / 100) / 10 });
  return { ...restored, bytesRead: bytesBefore + replayed.bytesRead, durationSeconds: (restored.durationSeconds ?? 0) + (performance.now() - started) / 1000 };
}
