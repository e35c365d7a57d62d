// What `sidestash repo forget` prints, in restic 0.19.1's words: "Applying Policy: ...", then for
// each group of snapshots (host and paths, restic's default --group-by) the "keep N snapshots:"
// table with the reasons and the "remove N snapshots:" table; with --json restic's array of
// groups. Pure functions of the policy and the decision.
import type { RetentionDecision, RetentionPolicy } from '../common/repository/retention.ts';
import { isEmptyPolicy } from '../common/repository/retention.ts';
import type { Snapshot } from '../common/repository/snapshot.ts';
import { parseTime } from '../common/repository/time.ts';
import { goSnapshotFields, localTime, resticBytes, timestampsNote } from './restic-text.ts';

export { timestampsNote };

/**
 * restic's ExpirePolicy.String(): "keep 2 latest, 7 daily snapshots and all snapshots with tags
 * [[a, b] [c]]", "keep all snapshots with tags [[a]]".
 */
export function policyText(p: RetentionPolicy): string {
  const rules: [number | undefined, string][] = [[p.keepLast, 'latest'], [p.keepHourly, 'hourly'], [p.keepDaily, 'daily'], [p.keepWeekly, 'weekly'], [p.keepMonthly, 'monthly'], [p.keepYearly, 'yearly']];
  const keeps = rules.flatMap(([n, what]) => (n === undefined || n === 0 ? [] : n === -1 ? [`all ${what}`] : n > 0 ? [`${n} ${what}`] : []));
  let s = keeps.length > 0 ? `${keeps.join(', ')} snapshots` : '';
  if (p.keepTags && p.keepTags.length > 0) s += `${s ? ' and ' : ''}all snapshots with tags [${p.keepTags.map((l) => `[${l.join(', ')}]`).join(' ')}]`;
  return s ? `keep ${s}` : '';
}

export interface ForgetGroup {
  hostname: string;
  paths: string[];
  keep: Snapshot[];
  remove: Snapshot[];
}

function byTime(a: Snapshot, b: Snapshot): number {
  const ta = parseTime(a.time);
  const tb = parseTime(b.time);
  return (ta?.epochMs ?? 0) - (tb?.epochMs ?? 0) || (ta?.subMsNanos ?? 0) - (tb?.subMsNanos ?? 0);
}

/** The decision split into restic's groups (host, sorted paths), in the order they first appear. */
export function forgetGroups(d: RetentionDecision<Snapshot>): ForgetGroup[] {
  const groups = new Map<string, ForgetGroup>();
  const group = (s: Snapshot): ForgetGroup => {
    const paths = [...s.paths].sort();
    const key = JSON.stringify([s.hostname ?? '', paths]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { hostname: s.hostname ?? '', paths, keep: [], remove: [] }));
    return g;
  };
  for (const s of d.keep) group(s).keep.push(s);
  for (const s of d.remove) group(s).remove.push(s);
  return [...groups.values()];
}

/**
 * restic's table: columns padded to their widths (Host and Tags at least 10, as restic's
 * headers), two spaces between; a cell of several lines takes several lines, the others empty.
 */
export function resticMultiLineTable(headers: string[], rows: string[][][], minWidths: number[] = []): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, minWidths[i] ?? 0, ...rows.flatMap((r) => (r[i] ?? ['']).map((l) => l.length))));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const body = rows.flatMap((r) => {
    const height = Math.max(...r.map((c) => c.length));
    return Array.from({ length: height }, (_, k) => line(r.map((c) => c[k] ?? '')));
  });
  const header = line(headers);
  const dash = '-'.repeat(Math.max(header.length, ...body.map((l) => l.length)));
  return [header, dash, ...body, dash];
}

function snapshotTable(list: Snapshot[], reasons: Map<string, string[]> | undefined): string[] {
  const sorted = [...list].sort(byTime);
  const withSize = sorted.some((s) => typeof s.summary?.total_bytes_processed === 'number');
  const headers = ['ID', 'Time', 'Host', 'Tags', ...(reasons ? ['Reasons'] : []), 'Paths', ...(withSize ? ['Size'] : [])];
  const rows = sorted.map((s) => [
    [s.id.slice(0, 8)],
    [localTime(s.time)],
    [s.hostname ?? ''],
    [(s.tags ?? []).join(',')],
    ...(reasons ? [reasons.get(s.id) ?? ['']] : []),
    s.paths.length > 0 ? [...s.paths] : [''],
    ...(withSize ? [[typeof s.summary?.total_bytes_processed === 'number' ? resticBytes(s.summary.total_bytes_processed) : '']] : []),
  ]);
  return [...resticMultiLineTable(headers, rows, [8, 19, 10, 10]), timestampsNote(process.env.TZ), `${sorted.length} snapshots`, ''];
}


/** The text of `forget` (without prune's). */
export function forgetText(policy: RetentionPolicy, d: RetentionDecision<Snapshot>, dryRun: boolean): string {
  if (isEmptyPolicy(policy)) return 'no policy was specified, no snapshots will be removed';
  const lines = [`Applying Policy: ${policyText(policy)}`];
  for (const g of forgetGroups(d)) {
    if (g.keep.length > 0) lines.push(`keep ${g.keep.length} snapshots:`, ...snapshotTable(g.keep, d.reasons));
    if (g.remove.length > 0) lines.push(`remove ${g.remove.length} snapshots:`, ...snapshotTable(g.remove, undefined));
  }
  if (dryRun && d.remove.length > 0) lines.push('Would have removed the following snapshots:', `{${d.remove.map((s) => s.id.slice(0, 8)).sort().join(' ')}}`, '');
  // restic ends with an empty line.
  return lines.join('\n');
}

/** A snapshot as restic 0.19 marshals it (Go's omitempty), with its program_version and summary. */
export function snapshotJson(s: Snapshot): Record<string, unknown> {
  return goSnapshotFields(s, { ...(s.program_version ? { program_version: s.program_version } : {}), ...(s.summary ? { summary: s.summary } : {}) });
}

/** `forget --json`: restic's array of groups (Go's nil slices are null). */
export function forgetJson(d: RetentionDecision<Snapshot>): Record<string, unknown>[] {
  const list = (l: Snapshot[]) => (l.length > 0 ? [...l].sort(byTime).reverse().map(snapshotJson) : null);
  return forgetGroups(d).map((g) => ({
    tags: null,
    host: g.hostname,
    paths: g.paths,
    keep: list(g.keep),
    remove: list(g.remove),
    reasons: g.keep.length > 0 ? [...g.keep].sort(byTime).reverse().map((s) => ({ snapshot: snapshotJson(s), matches: d.reasons.get(s.id) ?? [] })) : null,
  }));
}
