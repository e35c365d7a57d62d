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

/**
 * An archive is a target's binary log in a repository, not a configuration's: of several enabled
 * configurations of one target and repository (an hourly and a nightly schedule), the oldest one
 * archives (then by name), so that two archivers never write one archive. Keyed by the target and
 * the repository's name here; a second Repository resource with the same location is caught when
 * the assignments are built.
 */
function archiveOwners(configs: readonly Configuration[]): Map<string, Configuration> {
  const owners = new Map<string, Configuration>();
  const key = (c: Configuration) => `${c.metadata.namespace}\u0000${c.spec.target.ref.name}\u0000${c.spec.repository.name}`;
  const order = (c: Configuration) => `${c.metadata.creationTimestamp ?? ''}\u0000${c.metadata.name}`;
  for (const c of configs) {
    if (c.spec.binlog?.enabled !== true || c.spec.paused === true) continue;
    const had = owners.get(key(c));
    if (!had || order(c) < order(had)) owners.set(key(c), c);
  }
  return owners;
}

const ownerOf = (owners: Map<string, Configuration>, c: Configuration): Configuration | undefined => owners.get(`${c.metadata.namespace}\u0000${c.spec.target.ref.name}\u0000${c.spec.repository.name}`);

/** A configuration another one archives for: said on its status once (the metric shows it down). */
async function markDuplicate(store: ResourceStore, cfg: Configuration, owner: string, log: Logger): Promise<void> {
  const message = `BackupConfiguration ${owner} already archives the binary log of this target into this repository: one archive per target and repository`;
  if (cfg.status?.binlog?.error?.message === message) return;
  await retryOnConflict(async () => {
    const cur = await store.get<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration', cfg.metadata.namespace, cfg.metadata.name);
    if (!cur) return;
    const binlog = { ...(cur.status?.binlog ?? {}), error: { code: ErrorCodes.CONFLICT, message } };
    delete binlog.agent;
    delete binlog.leaseExpiresAt;
    await store.updateStatus({ ...cur, status: { ...(cur.status ?? {}), binlog } }, { ifVersion: cur.metadata.resourceVersion! });
  }).catch((err: unknown) => log.warn('could not record a duplicate binlog archive', { configuration: `${cfg.metadata.namespace}/${cfg.metadata.name}`, err: errorMessage(err) }));
}

/**
 * `configurations`: those that may be archived (all of them by default; the controller passes the
 * ones with archiving on, kept from the change feed: archived-configurations.ts).
 */
export async function syncArchives(store: ResourceStore, agent: { name: string; targets: readonly string[] }, reports: readonly BinlogArchiveReport[], leaseMs: number, log: Logger, now: () => number = Date.now, configurations: () => Promise<Configuration[]> = () => store.list<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration')): Promise<BinlogArchiveAssignment[]> {
  const out: BinlogArchiveAssignment[] = [];
  const configs = await configurations();
  const owners = archiveOwners(configs);
  for (const listed of configs) {
    if (!archived(listed, agent.targets)) continue;
    const owner = ownerOf(owners, listed);
    if (owner && owner !== listed) {
      await markDuplicate(store, listed, `${owner.metadata.namespace}/${owner.metadata.name}`, log);
      continue;
    }
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
      // Two Repository resources with one location are one repository.
      if (a && out.some((o) => o.target === a.target && o.repository.location === a.repository.location)) log.warn('binlog archive not handed out: another configuration archives this target into the same repository location', { configuration: a.configuration });
      else if (a) out.push(a);
    } catch (err) {
      log.warn('could not record a binlog archive sync', { configuration: `${namespace}/${name}`, agent: agent.name, err: errorMessage(err) });
    }
  }
  return out;
}
