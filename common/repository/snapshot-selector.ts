// Which snapshots of a repository belong to a backup target (an AppBinding "namespace/name"):
// the one rule that retention, `latest` and the shrink guard all use, so that two namespaces
// with an AppBinding of the same name writing to one repository never touch each other's
// snapshots.
//
// A snapshot written by sidestash has the AppBinding's name as hostname (Stash itself writes
// `host-0`, or the target's alias, for an AppBinding: see the source-host rule below) and carries
// the tags `namespace=<ns>`, `target=<ns>/<name>`, `invoker=<BackupConfiguration>` and
// `session=<BackupSession>`. It belongs to target ns/name when its hostname is <name> and
// every `target=` tag it has reads `target=<ns>/<name>`.
//
// Snapshots written before namespaces were recorded (hostname <name>, tags invoker= and
// session=, no target= tag) are "legacy": they cannot be told apart between namespaces, so
// retention never removes them and `latest` never picks them; they are restored by id.
import { isBinlogSnapshot } from '../binlog/archive-layout.ts';
import { parseTime } from './time.ts';

export interface TargetRef {
  namespace: string;
  /** The AppBinding's name; also the hostname of the snapshots sidestash writes. */
  name: string;
}

/** The parts of a snapshot the rule reads. */
export interface SelectableSnapshot {
  id: string;
  time: string;
  hostname?: string | undefined;
  tags?: readonly string[] | null | undefined;
  /** The backed-up paths (only the source-host rule below reads them). */
  paths?: readonly string[] | undefined;
}

export type SnapshotOwnership = 'target' | 'legacy' | 'other';

const TARGET_TAG = 'target=';
const NAMESPACE_TAG = 'namespace=';

/** "namespace/name" -> TargetRef; undefined when the text is not of that form. */
export function parseTargetRef(text: string): TargetRef | undefined {
  const m = /^([^/]+)\/([^/]+)$/.exec(text);
  return m ? { namespace: m[1]!, name: m[2]! } : undefined;
}

/** The hostname a target's snapshots carry: the AppBinding's name. */
export function snapshotHostname(t: TargetRef): string {
  return t.name;
}

/** The tags that tie a snapshot to its target (added to invoker= and session=). */
export function targetTags(t: TargetRef): string[] {
  return [`${NAMESPACE_TAG}${t.namespace}`, `${TARGET_TAG}${t.namespace}/${t.name}`];
}

/** Whose a snapshot is, seen from target `t`. */
export function snapshotOwnership(s: Pick<SelectableSnapshot, 'hostname' | 'tags'>, t: TargetRef): SnapshotOwnership {
  const tags = s.tags ?? [];
  const targetTagsOf = tags.filter((x) => x.startsWith(TARGET_TAG));
  if (targetTagsOf.length > 0) {
    const mine = s.hostname === snapshotHostname(t) && targetTagsOf.every((x) => x === `${TARGET_TAG}${t.namespace}/${t.name}`);
    const namespaceTags = tags.filter((x) => x.startsWith(NAMESPACE_TAG));
    return mine && namespaceTags.every((x) => x === `${NAMESPACE_TAG}${t.namespace}`) ? 'target' : 'other';
  }
  if (s.hostname === snapshotHostname(t) && tags.some((x) => x.startsWith('session=') || x.startsWith('invoker='))) return 'legacy';
  return 'other';
}

/** Tag prefix of the BackupSession's uid (a session created again under an old name has another). */
export const SESSION_UID_TAG = 'session-uid=';

/**
 * Whether `s` is the snapshot BackupSession `session` wrote for target `t` (a reported result is
 * checked with this): its target, its `session=` name and, when the session has a uid, its
 * `session-uid=` tag.
 */
export function isSessionSnapshot(s: Pick<SelectableSnapshot, 'hostname' | 'tags'>, t: TargetRef, session: string, sessionUid?: string): boolean {
  const tags = s.tags ?? [];
  return snapshotOwnership(s, t) === 'target' && tags.includes(`session=${session}`) && (sessionUid === undefined || tags.includes(`${SESSION_UID_TAG}${sessionUid}`));
}

/** Whether `s` is one of target `t`'s snapshots written by BackupConfiguration `invoker`. */
export function isConfigurationSnapshot(s: Pick<SelectableSnapshot, 'hostname' | 'tags'>, t: TargetRef, invoker: string): boolean {
  return snapshotOwnership(s, t) === 'target' && (s.tags ?? []).includes(`invoker=${invoker}`);
}

/**
 * The snapshots a BackupConfiguration's retention may consider: its own, of its target (legacy
 * ones are never removed). Several configurations may back up one target into one repository
 * (a full dump daily, the schema hourly): each one's policy applies to its own snapshots only,
 * as every dump has the same path and restic's host+paths grouping would mix them.
 */
export function retentionCandidates<S extends SelectableSnapshot>(snapshots: readonly S[], t: TargetRef, invoker: string): S[] {
  return snapshots.filter((s) => isConfigurationSnapshot(s, t, invoker));
}

/** The BackupConfiguration (invoker= tag) that wrote a snapshot, if it says. */
export function invokerOf(s: Pick<SelectableSnapshot, 'tags'>): string | undefined {
  return (s.tags ?? []).find((x) => x.startsWith('invoker='))?.slice('invoker='.length);
}

export interface LatestChoice<S> {
  /** The newest snapshot of the target; undefined when it has none, or when `ambiguous` is set. */
  latest: S | undefined;
  /** Legacy snapshots that may be this target's (restorable by id), oldest first. */
  legacy: S[];
  /**
   * Set when the target's snapshots were written by more than one BackupConfiguration: the
   * newest of each, newest first. `latest` is then not chosen: the configurations may dump
   * different things (a schema-only dump restored as "latest" empties every table).
   */
  ambiguous?: { invoker: string; snapshot: S }[];
}

/** `latest` for target `t`: the newest dump of this target only (never a binlog archive); legacy ones are listed, never picked. */
export function chooseLatest<S extends SelectableSnapshot>(snapshots: readonly S[], t: TargetRef): LatestChoice<S> {
  const sorted = [...snapshots].sort(byTime);
  const own = sorted.filter((s) => snapshotOwnership(s, t) === 'target' && !isBinlogSnapshot(s));
  const legacy = sorted.filter((s) => snapshotOwnership(s, t) === 'legacy');
  const newestBy = new Map<string, S>();
  for (const s of own) newestBy.set(invokerOf(s) ?? '', s);
  if (newestBy.size > 1) {
    const ambiguous = [...newestBy].map(([invoker, snapshot]) => ({ invoker, snapshot })).sort((a, b) => byTime(b.snapshot, a.snapshot));
    return { latest: undefined, legacy, ambiguous };
  }
  return { latest: own.at(-1), legacy };
}

/**
 * The snapshot a new backup of `t` by BackupConfiguration `invoker` is compared with (the
 * shrink guard): the newest snapshot of this target written by the same configuration,
 * excluding `exceptId` (the new one).
 */
export function previousOfConfiguration<S extends SelectableSnapshot>(snapshots: readonly S[], t: TargetRef, invoker: string, exceptId?: string): S | undefined {
  return [...snapshots]
    .sort(byTime)
    .filter((s) => s.id !== exceptId && isConfigurationSnapshot(s, t, invoker) && !(s.tags ?? []).includes(SUSPICIOUS_SHRINK_TAG))
    .at(-1);
}

/**
 * Marks a snapshot the shrink guard flagged. Such a snapshot is never the baseline of the next
 * comparison, so a second equally small dump is flagged too (and retention stays off) until the
 * shrink is accepted by a run with the guard off, whose snapshot carries no mark.
 */
export const SUSPICIOUS_SHRINK_TAG = 'sidestash.io/suspicious-shrink';

// --- Snapshots another tool wrote: a RestoreSession's `sourceHost` (migration from Stash) ---
//
// Stash's MariaDB and MySQL addons back up with `mysqldump ... | restic backup --stdin
// --stdin-filename dumpfile.sql --host <host>`, where the host is the target's alias or, by
// default, `host-0`, and add no tags. Those snapshots are nobody's target here, so `latest`
// never picks them; a RestoreSession names the host with `sourceHost` (Stash's
// `rules[].sourceHost`), and `latest` is then the newest snapshot with that hostname that holds
// only /dumpfile.sql and carries none of sidestash's tags (so sidestash's own snapshots, of this
// target or another, are never mixed in).

/** The one path of a Stash MariaDB/MySQL logical backup. */
export const STASH_DUMP_PATH = '/dumpfile.sql';

const SIDESTASH_TAG_PREFIXES = [TARGET_TAG, NAMESPACE_TAG, 'invoker=', 'session=', SESSION_UID_TAG, 'sidestash.io/'];

/** Whether a snapshot carries any tag sidestash writes (it is then sidestash's, never a source host's). */
export function hasSidestashTags(s: Pick<SelectableSnapshot, 'tags'>): boolean {
  return (s.tags ?? []).some((x) => SIDESTASH_TAG_PREFIXES.some((p) => x.startsWith(p)));
}

/** Whether `s` is a logical backup of source host `host` as Stash writes it. */
export function isSourceHostSnapshot(s: Pick<SelectableSnapshot, 'hostname' | 'tags' | 'paths'>, host: string): boolean {
  const paths = s.paths ?? [];
  return s.hostname === host && paths.length === 1 && paths[0] === STASH_DUMP_PATH && !hasSidestashTags(s);
}

/** `latest` of a source host: the newest of its snapshots (isSourceHostSnapshot). */
export function chooseLatestOfSourceHost<S extends SelectableSnapshot>(snapshots: readonly S[], host: string): S | undefined {
  return [...snapshots].sort(byTime).filter((s) => isSourceHostSnapshot(s, host)).at(-1);
}

/**
 * The hosts whose snapshots a `sourceHost` could select (Stash-written logical backups), each
 * with its count and newest snapshot, newest host first: what a refused `latest` names.
 */
export function sourceHostsOf<S extends SelectableSnapshot>(snapshots: readonly S[]): { host: string; count: number; newest: S }[] {
  const byHost = new Map<string, { host: string; count: number; newest: S }>();
  for (const s of [...snapshots].sort(byTime)) {
    if (s.hostname === undefined || !isSourceHostSnapshot(s, s.hostname)) continue;
    const h = byHost.get(s.hostname);
    byHost.set(s.hostname, { host: s.hostname, count: (h?.count ?? 0) + 1, newest: s });
  }
  return [...byHost.values()].sort((a, b) => byTime(b.newest, a.newest));
}

function byTime(a: SelectableSnapshot, b: SelectableSnapshot): number {
  const ta = parseTime(a.time);
  const tb = parseTime(b.time);
  return (ta?.epochMs ?? 0) - (tb?.epochMs ?? 0) || (ta?.subMsNanos ?? 0) - (tb?.subMsNanos ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
