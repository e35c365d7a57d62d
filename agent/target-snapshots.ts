// The agent's view of its target's snapshots, through the one selection rule of
// common/repository/snapshot-selector.ts: `latest` for a restore, and the previous dump's size
// for the shrink guard (read from the repository, which outlives the controller's state).
import type { CallOptions } from '../common/backend/backend.ts';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { Repository } from '../common/repository/repository.ts';
import { findSnapshotFile } from '../common/repository/snapshot-reader.ts';
import { STASH_DUMP_PATH, chooseLatest, chooseLatestOfSourceHost, parseTargetRef, previousOfConfiguration, sourceHostsOf } from '../common/repository/snapshot-selector.ts';
import type { TargetRef } from '../common/repository/snapshot-selector.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import type { Snapshot } from '../common/repository/snapshot.ts';

/** The assignment's "namespace/name" target; INVALID_CONFIG when it is not of that form. */
export function targetOf(a: { target: string }): TargetRef {
  const t = parseTargetRef(a.target);
  if (!t) throw new SidestashError(ErrorCodes.INVALID_CONFIG, `session target ${JSON.stringify(a.target)} is not "namespace/appbinding"`);
  return t;
}

/** The newest snapshot of this target (never another namespace's, never a legacy one). */
export async function latestOfTarget(repo: Repository, t: TargetRef, options: CallOptions = {}): Promise<Snapshot> {
  const all = await listSnapshots(repo, options);
  const { latest, legacy, ambiguous } = chooseLatest(all, t);
  if (latest) return latest;
  if (ambiguous) {
    const each = ambiguous.map((c) => `${c.invoker || '(none)'}: ${c.snapshot.id.slice(0, 8)}`).join(', ');
    throw new SidestashError(ErrorCodes.SNAPSHOT_NOT_FOUND, `"latest" is ambiguous for ${t.namespace}/${t.name}: its snapshots were written by ${ambiguous.length} BackupConfigurations, which may dump different things; name the snapshot to restore (newest of each: ${each})`);
  }
  const hint = legacy.length > 0
    ? `; ${legacy.length} snapshot(s) with hostname ${t.name} were written before sidestash recorded namespaces and may be this target's: restore one by id (newest: ${legacy.at(-1)!.id.slice(0, 8)})`
    : '';
  throw new SidestashError(ErrorCodes.SNAPSHOT_NOT_FOUND, `no snapshot of ${t.namespace}/${t.name} in the repository${hint}${sourceHostHint(all)}`);
}

/** For a repository another tool (Stash) filled: the hosts found, and how to select one. */
function sourceHostHint(all: readonly Snapshot[]): string {
  const hosts = sourceHostsOf(all);
  if (hosts.length === 0) return '';
  const each = hosts.map((h) => `${JSON.stringify(h.host)} (${h.count}, newest ${h.newest.id.slice(0, 8)} of ${h.newest.time})`).join(', ');
  return `; it holds ${hosts.reduce((n, h) => n + h.count, 0)} snapshot(s) of ${STASH_DUMP_PATH} not written by sidestash (as Stash writes them), with hostname ${each}: set spec.sourceHost (the CLI: restore --source-host HOST) to the host to restore its newest (Stash's default host is "host-0"), or name the snapshot by id`;
}

/** `latest` of a RestoreSession's sourceHost: the newest Stash-written dump of that host. */
export async function latestOfSourceHost(repo: Repository, host: string, options: CallOptions = {}): Promise<Snapshot> {
  const all = await listSnapshots(repo, options);
  const latest = chooseLatestOfSourceHost(all, host);
  if (latest) return latest;
  const hosts = sourceHostsOf(all).map((h) => JSON.stringify(h.host));
  const found = hosts.length > 0 ? `the hosts with such snapshots are ${hosts.join(', ')}` : 'the repository holds no such snapshot of any host';
  throw new SidestashError(ErrorCodes.SNAPSHOT_NOT_FOUND, `no snapshot with hostname ${JSON.stringify(host)} holding only ${STASH_DUMP_PATH} without sidestash's tags (sourceHost selects snapshots Stash wrote); ${found}`);
}

/** The previous dump of this target by the same BackupConfiguration: its snapshot id and size. */
export async function previousDump(repo: Repository, t: TargetRef, invoker: string, filename: string, options: CallOptions = {}): Promise<{ snapshotId: string; bytes: number } | undefined> {
  const prev = previousOfConfiguration(await listSnapshots(repo, options), t, invoker);
  if (!prev) return undefined;
  const file = await findSnapshotFile(repo, prev, `/${filename}`, options);
  return { snapshotId: prev.id, bytes: file.sizeBytes };
}
