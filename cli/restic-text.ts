// Output of `sidestash repo snapshots|ls|stats|key list` in the shapes restic 0.14 prints them
// (times in the local zone, as restic's), as pure functions of what was read.
import type { KeyInfo } from '../common/repository/keys.ts';
import type { Snapshot, TreeNode } from '../common/repository/snapshot.ts';
import { parseTime } from '../common/repository/time.ts';
import type { RawDataStats, RestoreSizeStats } from '../common/repository/stats.ts';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "2006-01-02 15:04:05" in the local zone (restic's TimeFormat); the text itself when unparseable. */
export function localTime(iso: string): string {
  const t = parseTime(iso);
  if (!t) return iso;
  const d = new Date(t.epochMs);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** restic's human sizes (ui.FormatBytes): "292.969 KiB". */
export function resticBytes(n: number): string {
  const units: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toFixed(3)} ${unit}`;
  return `${n} B`;
}

/** restic's text tables: columns padded to their widths (at least minWidths), dashed lines around the rows. */
function resticTable(headers: string[], rows: string[][], footer?: string, minWidths: number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, minWidths[i] ?? 0, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const header = line(headers);
  const dash = '-'.repeat(Math.max(header.length, ...rows.map((r) => line(r).length)));
  return [header, dash, ...rows.map(line), dash, ...(footer ? [footer] : [])].join('\n');
}

/** `snapshots`: ID, Time, Host, Tags, Paths, Size (the backup's size, from its summary); Host and Tags at least 10 wide, as restic's. */
export function snapshotsTable(snapshots: readonly Snapshot[]): string {
  const rows = snapshots.map((s) => [s.id.slice(0, 8), localTime(s.time), s.hostname ?? '', (s.tags ?? []).join(','), s.paths.join(','), typeof s.summary?.total_bytes_processed === 'number' ? resticBytes(s.summary.total_bytes_processed) : '']);
  return resticTable(['ID', 'Time', 'Host', 'Tags', 'Paths', 'Size'], rows, `${timestampsNote(process.env.TZ)}\n${snapshots.length} snapshots`, [8, 19, 10, 10]);
}

/**
 * restic 0.19's "Timestamps shown in ..." line: Go's time.Local by name, "local time" when TZ is
 * unset (the system's zone), "UTC" when it is empty, else TZ as given.
 */
/** restic's note under a snapshot table; `tz` is the TZ variable (unset: local time, empty: UTC), as Go names the zone. */
export function timestampsNote(tz: string | undefined): string {
  return `Timestamps shown in ${tz === undefined ? 'local time' : tz === '' ? 'UTC' : tz}`;
}

/** `key list`, restic's table: the current key marked "*". */
export function keysTable(keys: readonly KeyInfo[]): string {
  const rows = keys.map((k) => [`${k.current ? '*' : ' '}${k.id.slice(0, 8)}`, k.userName, k.hostName, k.created ? localTime(k.created) : '']);
  return resticTable([' ID', 'User', 'Host', 'Created'], rows);
}

/** `key list --json`, restic's fields. */
export function keysJson(keys: readonly KeyInfo[]): { current: boolean; id: string; userName: string; hostName: string; created: string }[] {
  return keys.map((k) => ({ current: k.current, id: k.id.slice(0, 8), userName: k.userName, hostName: k.hostName, created: k.created ? localTime(k.created) : '' }));
}

export function statsText(mode: 'restore-size' | 'raw-data', s: RestoreSizeStats | RawDataStats): string {
  const rows: [string, string][] = [['Snapshots processed', String(s.snapshots_count)]];
  if (mode === 'restore-size') rows.push(['Total File Count', String(s.total_file_count)]);
  else rows.push(['Total Blob Count', String((s as RawDataStats).total_blob_count)]);
  rows.push(['Total Size', resticBytes(s.total_size)]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [`Stats in ${mode} mode:`, ...rows.map(([k, v]) => `${`${k}:`.padStart(w + 1)}   ${v}`)].join('\n');
}

/** Go's os.FileMode.String() of a node: type letter and rwx bits. */
export function permissions(node: TreeNode): string {
  const mode = typeof node.mode === 'number' ? node.mode : 0;
  const type = node.type === 'dir' ? 'd' : node.type === 'symlink' ? 'L' : '-';
  const rwx = 'rwxrwxrwx';
  let bits = '';
  for (let i = 0; i < 9; i++) bits += mode & (1 << (8 - i)) ? rwx[i] : '-';
  return type + bits;
}

/**
 * Go names a parsed time's zone when its offset is the local zone's at that instant ("EST"),
 * else repeats the offset ("+0100").
 */
function zoneName(iso: string, off: string): string {
  const t = parseTime(iso);
  if (!t || -new Date(t.epochMs).getTimezoneOffset() !== t.offsetMin) return off;
  const name = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(new Date(t.epochMs)).find((p) => p.type === 'timeZoneName')?.value;
  return name && !name.startsWith('GMT') ? name : off;
}

/** Go's time.Time.String() of a snapshot time: "2026-12-01 15:12:28.010094843 +0000 UTC". */
export function goTimeString(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '');
  const off = m[4] === 'Z' ? '+0000' : m[4]!.replace(':', '');
  return `${m[1]} ${m[2]}${frac} ${off} ${m[4] === 'Z' ? 'UTC' : zoneName(iso, off)}`;
}

export interface ListedNode {
  path: string;
  node: TreeNode;
}

/** `ls`'s header line. */
export function lsHeader(s: Snapshot): string {
  return `snapshot ${s.id.slice(0, 8)} of [${s.paths.join(' ')}] filtered by [] at ${goTimeString(s.time)}):`;
}

/** One `ls` line: the path, or with -l restic's long format. */
export function lsLine(n: ListedNode, long: boolean): string {
  if (!long) return n.path;
  const size = typeof n.node.size === 'number' ? n.node.size : 0;
  return `${permissions(n.node)} ${String(n.node.uid ?? 0).padStart(5)} ${String(n.node.gid ?? 0).padStart(5)} ${String(size).padStart(6)} ${n.node.mtime ? localTime(n.node.mtime) : ''} ${n.path}`;
}

/** `ls --json`'s node line, restic's fields. */
export function lsJsonNode(n: ListedNode): Record<string, unknown> {
  const x = n.node;
  return {
    name: x.name,
    type: x.type,
    path: n.path,
    uid: x.uid ?? 0,
    gid: x.gid ?? 0,
    ...(typeof x.size === 'number' ? { size: x.size } : {}),
    ...(typeof x.mode === 'number' ? { mode: x.mode } : {}),
    permissions: permissions(x),
    ...(x.mtime ? { mtime: x.mtime } : {}),
    ...(x.atime ? { atime: x.atime } : {}),
    ...(x.ctime ? { ctime: x.ctime } : {}),
    struct_type: 'node',
  };
}

/**
 * A snapshot's fields as Go marshals restic's Snapshot (omitempty: no zero uid/gid, no empty
 * tags), with `extra` (fields newer restic versions add) before id and short_id.
 */
export function goSnapshotFields(s: Snapshot, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    time: s.time,
    ...(s.parent ? { parent: s.parent } : {}),
    tree: s.tree,
    paths: s.paths,
    ...(s.hostname ? { hostname: s.hostname } : {}),
    ...(s.username ? { username: s.username } : {}),
    ...(s.uid ? { uid: s.uid } : {}),
    ...(s.gid ? { gid: s.gid } : {}),
    ...(s.tags && s.tags.length > 0 ? { tags: s.tags } : {}),
    ...(s.original ? { original: s.original } : {}),
    ...extra,
    id: s.id,
    short_id: s.id.slice(0, 8),
  };
}

/** `ls --json`'s snapshot line: the fields of restic 0.14's Snapshot. */
export function lsJsonSnapshot(s: Snapshot): Record<string, unknown> {
  return { ...goSnapshotFields(s), struct_type: 'snapshot' };
}
