// An agent's archive sync (POST agents/.../binlog-archives): its reports go into the statuses of
// the configurations it holds, and the answer lists the archives it is to run: every enabled,
// unpaused BackupConfiguration of its granted targets whose lease it holds or may take
// (archive-lease.ts), with what the archiver needs (the database and repository, as a backup
// session gets them). A status write that races another writer (the scheduler, a session's
// end) is read again and decided again (retry-on-conflict.ts), so that a running archive is not
// dropped from the answer for a race (which would stop it).
import { createHash } from 'node:crypto';
import { ErrorCodes, errorMessage, isSidestashError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { BinlogArchiveAssignment, BinlogArchiveReport } from '../../common/protocol.ts';
import type { BackupConfigurationSpec, BackupConfigurationStatus, Resource } from '../resources/types.ts';
import { databaseConnection, repositoryAccess } from '../sessions/assignment.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { retryOnConflict } from '../store/retry-on-conflict.ts';
import { leaseDecision, statusAfterSync } from './archive-lease.ts';

export const DEFAULT_FLUSH_INTERVAL_SECONDS = 10;

type Configuration = Resource<BackupConfigurationSpec, BackupConfigurationStatus>;

/**
 * The replica server_id an archiver registers with when the spec names none: from the
 * configuration's identity, in the upper half of the 32-bit range (servers' own ids are small).
 */
export function defaultReplicaServerId(cfg: Configuration): number {
  const h = createHash('sha256').update(`${cfg.metadata.namespace}/${cfg.metadata.name}/${cfg.metadata.uid ?? ''}`).digest();
  return 0x80000000 + (h.readUInt32BE(0) % 0x7fffffff);
}

async function assignmentOf(store: ResourceStore, cfg: Configuration): Promise<Omit<BinlogArchiveAssignment, 'leaseMs'>> {
  const ns = cfg.metadata.namespace;
  const by = `BackupConfiguration ${ns}/${cfg.metadata.name}`;
  const target = cfg.spec.target.ref.name;
  return {
    configuration: `${ns}/${cfg.metadata.name}`,
    target: `${ns}/${target}`,
    repositoryName: cfg.spec.repository.name,
    snapshotHost: target,
    database: await databaseConnection(store, ns, target, by, cfg.spec.target.ref),
    repository: await repositoryAccess(store, ns, cfg.spec.repository.name, by),
    flushIntervalSeconds: cfg.spec.binlog?.flushIntervalSeconds ?? DEFAULT_FLUSH_INTERVAL_SECONDS,
    replicaServerId: cfg.spec.binlog?.replicaServerId ?? defaultReplicaServerId(cfg),
  };
}

const archived = (cfg: Configuration, targets: readonly string[]): boolean => cfg.spec.binlog?.enabled === true && cfg.spec.paused !== true && targets.includes(`${cfg.metadata.namespace}/${cfg.spec.target.ref.name}`);

export async function syncArchives(store: ResourceStore, agent: { name: string; targets: readonly string[] }, reports: readonly BinlogArchiveReport[], leaseMs: number, log: Logger, now: () => number = Date.now): Promise<BinlogArchiveAssignment[]> {
  const out: BinlogArchiveAssignment[] = [];
  for (const listed of await store.list<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration')) {
    if (!archived(listed, agent.targets)) continue;
    const { namespace, name } = listed.metadata;
    const report = reports.find((r) => r.configuration === `${namespace}/${name}`);
    const sync = async (): Promise<BinlogArchiveAssignment | undefined> => {
      const cfg = await store.get<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration', namespace, name);
      const nowMs = now();
      if (!cfg || !archived(cfg, agent.targets) || leaseDecision(cfg.status?.binlog, agent.name, nowMs, leaseMs) === 'held') return undefined;
      const status = statusAfterSync(cfg.status?.binlog, agent.name, report, nowMs, leaseMs);
      let assignment: Omit<BinlogArchiveAssignment, 'leaseMs'> | undefined;
      try {
        assignment = await assignmentOf(store, cfg);
      } catch (err) {
        // The configuration cannot be archived as it stands (a Secret missing): said on its status.
        status.error = { code: isSidestashError(err) ? err.code : ErrorCodes.INVALID_CONFIG, message: errorMessage(err) };
      }
      await store.updateStatus({ ...cfg, status: { ...(cfg.status ?? {}), binlog: status } }, { ifVersion: cfg.metadata.resourceVersion! });
      return assignment && { ...assignment, leaseMs };
    };
    try {
      const a = await retryOnConflict(sync);
      if (a) out.push(a);
    } catch (err) {
      log.warn('could not record a binlog archive sync', { configuration: `${namespace}/${name}`, agent: agent.name, err: errorMessage(err) });
    }
  }
  return out;
}
