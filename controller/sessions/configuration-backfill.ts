// Configurations stored before their status recorded session outcomes (an upgrade): the outcome
// is rebuilt once, at start-up, from the finished sessions still in history (oldest first,
// through the same configurationStatusAfter), so that /metrics and the too-old alert do not take
// a configuration with recent successes for one that never ran. Failures older than the history
// limit are not counted: consecutiveFailures is then a lower bound.
import { isFinalPhase } from '../../common/protocol.ts';
import { loopYielder } from '../loop-yield.ts';
import type { BackupConfigurationSpec, BackupConfigurationStatus, BackupSessionSpec, Resource, SessionStatus } from '../resources/types.ts';
import type { ResourceStore } from '../store/resource-store.ts';
import { retryOnConflict } from '../store/retry-on-conflict.ts';
import { configurationStatusAfter } from './configuration-outcome.ts';
import { isSessionOf } from './invoker-of.ts';
import type { FinishedSession } from './configuration-outcome.ts';

/** The phases a finished session is in (filtered by the store: sqlite reads no other rows). */
const FINAL_PHASES = ['Succeeded', 'Failed', 'Cancelled'] as const;

/** The status after replaying `history` (any order; sorted by finishedAt here). */
export function statusFromHistory(status: BackupConfigurationStatus | undefined, history: readonly FinishedSession[]): BackupConfigurationStatus {
  const ordered = [...history].filter((s) => isFinalPhase(s.status.phase)).sort((a, b) => (a.status.finishedAt ?? '').localeCompare(b.status.finishedAt ?? ''));
  return ordered.reduce<BackupConfigurationStatus>((st, s) => configurationStatusAfter(st, s), { ...(status ?? {}) });
}

/**
 * Fills in the outcome of every configuration that has none yet but finished sessions (a status
 * write each); returns how many. Run once at start, also after a power loss took a first finish's
 * relaxed write (finish-durability.ts). Linear in sessions and configurations: the finished
 * sessions are read once and grouped (a fleet's 2,000 configurations used to scan 6,000
 * sessions each), a configuration that has an outcome is not read again, and the loop yields
 * (`pause`, once a configuration: loopYielder's by default).
 */
export async function backfillConfigurationStatus(store: ResourceStore, options: { pause?: () => Promise<void> } = {}): Promise<number> {
  let filled = 0;
  const finished = await finishedByConfiguration(store);
  const pause = options.pause ?? loopYielder();
  for (const listed of await store.list<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration')) {
    await pause();
    const mine = finished.get(configurationKey(listed.metadata.namespace, listed.metadata.name));
    if (!mine || listed.status?.lastFinishedPhase !== undefined || !mine.some((s) => isSessionOf(s, listed))) continue;
    const wrote = await retryOnConflict(async () => {
      const cfg = await store.get<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration', listed.metadata.namespace, listed.metadata.name);
      if (!cfg || cfg.status?.lastFinishedPhase !== undefined) return false;
      const history = mine.filter((s) => isSessionOf(s, cfg)).map((s) => ({ name: s.metadata.name, status: s.status! }));
      if (history.length === 0) return false;
      await store.updateStatus({ ...cfg, status: statusFromHistory(cfg.status, history) }, { ifVersion: cfg.metadata.resourceVersion! });
      return true;
    });
    if (wrote) filled++;
  }
  return filled;
}

function configurationKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}

/** The finished BackupSessions, read once (only final phases: the store filters) and grouped by configuration. */
async function finishedByConfiguration(store: ResourceStore): Promise<Map<string, Resource<BackupSessionSpec, SessionStatus>[]>> {
  const finished = new Map<string, Resource<BackupSessionSpec, SessionStatus>[]>();
  for (const s of await store.list<BackupSessionSpec, SessionStatus>('BackupSession', { phases: FINAL_PHASES })) {
    if (!isFinalPhase(s.status?.phase) || s.spec.invoker?.name === undefined) continue;
    const key = configurationKey(s.metadata.namespace, s.spec.invoker.name);
    const list = finished.get(key) ?? finished.set(key, []).get(key)!;
    list.push(s);
  }
  return finished;
}

/**
 * Sessions that finished after the one the configuration's status last recorded (a finish whose
 * follow-up write failed, or a controller that died between the session's write and the
 * configuration's) are replayed onto it, oldest first; returns how many configurations changed.
 * Run by every sweep. When the recorded session is no longer in history nothing is replayed
 * (its place in time is unknown).
 */
export async function replayUnrecordedOutcomes(store: ResourceStore): Promise<number> {
  let replayed = 0;
  // The finished sessions, read once and grouped by configuration: a fleet's sweep used to read
  // every session and scan all of them for each configuration (2,000 x 6,000 every few seconds),
  // and to read each configuration again, with nothing to replay on almost all of them.
  const finished = await finishedByConfiguration(store);
  const pause = loopYielder();
  for (const listed of await store.list<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration')) {
    await pause();
    const mine = finished.get(configurationKey(listed.metadata.namespace, listed.metadata.name));
    // Decided on the listed copy first: almost every configuration has nothing to replay, and is
    // not read again. One written since recorded a later session and has less to replay; what a
    // stale copy hides (its recorded session pruned since) the next sweep sees.
    if (!mine || unrecorded(listed, mine).length === 0) continue;
    const wrote = await retryOnConflict(async () => {
      const cfg = await store.get<BackupConfigurationSpec, BackupConfigurationStatus>('BackupConfiguration', listed.metadata.namespace, listed.metadata.name);
      if (!cfg) return false;
      const later = unrecorded(cfg, mine);
      if (later.length === 0) return false;
      await store.updateStatus({ ...cfg, status: statusFromHistory(cfg.status, later) }, { ifVersion: cfg.metadata.resourceVersion! });
      return true;
    });
    if (wrote) replayed++;
  }
  return replayed;
}

/** The sessions of `cfg` among `finished` that ended after the one its status records (none when that one is no longer in history). */
function unrecorded(cfg: Resource<BackupConfigurationSpec, BackupConfigurationStatus>, finished: readonly Resource<BackupSessionSpec, SessionStatus>[]): FinishedSession[] {
  const recorded = cfg.status?.lastFinishedSession;
  if (recorded === undefined) return [];
  const own = finished.filter((s) => isSessionOf(s, cfg));
  const last = own.find((s) => s.metadata.name === recorded)?.status?.finishedAt;
  if (last === undefined) return [];
  return own.filter((s) => (s.status!.finishedAt ?? '') > last).map((s) => ({ name: s.metadata.name, status: s.status! }));
}
