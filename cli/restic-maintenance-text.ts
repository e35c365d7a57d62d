// What `sidestash repo prune` and `repo check` print, in restic 0.19.1's words: prune's
// statistics ("to repack: ... remaining: ..."), check's steps and "no errors were found"; with
// --json, check's "summary" (and "error") messages as restic 0.19 has them, and for prune (restic
// prints no JSON for it) one "summary" object with the statistics' numbers.
import type { CheckReport } from '../common/repository/check.ts';
import type { PruneResult } from '../common/repository/prune.ts';
import { resticBytes } from './restic-text.ts';

const statLine = (label: string, blobs: number, bytes: number): string => `${`${label}:`.padEnd(23)}${blobs} blobs / ${resticBytes(bytes)}`;

/** prune's text; dryRun: what it would have done. */
export function pruneText(r: PruneResult, dryRun: boolean): string {
  const s = r.stats;
  const lines = dryRun ? ['', 'Would have made the following changes:', ''] : [''];
  lines.push(
    statLine('to repack', s.repackBlobs, s.repackBytes),
    statLine('this removes', s.removeBlobs, s.removeBytes),
    statLine('to delete', s.deleteBlobs, s.deleteBytes),
    statLine('total prune', s.removeBlobs + s.deleteBlobs, s.removeBytes + s.deleteBytes),
    statLine('remaining', s.remainingBlobs, s.remainingBytes),
    // Every partly used pack is repacked: nothing unused stays.
    `unused size after prune: ${resticBytes(0)} (0.00% of remaining size)`,
    '',
  );
  if (dryRun) return lines.join('\n').replace(/\n+$/, '');
  if (r.packsRepacked > 0) lines.push(`repacking packs`);
  if (r.packsRemoved > 0) lines.push('rebuilding index', `removing ${r.packsRemoved} old packs`);
  if (r.leftoversRemoved > 0) lines.push(`removed ${r.leftoversRemoved} leftovers of unfinished saves`);
  lines.push('done');
  return lines.join('\n');
}

/** prune --json (sidestash's choice: restic has none): the statistics, named after its lines. */
export function pruneJson(r: PruneResult, dryRun: boolean): Record<string, unknown> {
  const s = r.stats;
  return {
    message_type: 'summary',
    dry_run: dryRun,
    to_repack_blobs: s.repackBlobs,
    to_repack_bytes: s.repackBytes,
    removes_blobs: s.removeBlobs,
    removes_bytes: s.removeBytes,
    to_delete_blobs: s.deleteBlobs,
    to_delete_bytes: s.deleteBytes,
    total_prune_blobs: s.removeBlobs + s.deleteBlobs,
    total_prune_bytes: s.removeBytes + s.deleteBytes,
    remaining_blobs: s.remainingBlobs,
    remaining_bytes: s.remainingBytes,
    unused_size_after_prune: 0,
    packs_removed: dryRun ? 0 : r.packsRemoved,
    packs_written: r.packsWritten,
    leftovers_removed: r.leftoversRemoved,
    ...(r.leftoversError !== undefined ? { leftovers_error: r.leftoversError } : {}),
  };
}

export interface CheckFlags {
  readData: boolean;
  readDataSubset?: string | undefined;
}

/** check's steps and warnings (stdout), as restic prints them; the errors go to stderr (checkErrors). */
export function checkText(r: CheckReport, flags: CheckFlags): string {
  const lines = ['load indexes', 'check all packs', ...r.warnings, 'check snapshots, trees and blobs'];
  if (flags.readData) lines.push('read all data');
  else if (flags.readDataSubset !== undefined) lines.push(subsetLine(flags.readDataSubset, r));
  if (r.errors.length === 0) lines.push('no errors were found');
  return lines.join('\n');
}

/**
 * restic 0.19's line for --read-data-subset: "read group #n of K data packs (out of total T
 * packs in m groups" (restic's closing parenthesis is missing; kept, so that the lines compare)
 * or "read 50.0% of packfiles".
 */
export function subsetLine(subset: string, r: Pick<CheckReport, 'packs' | 'packsRead'>): string {
  const group = /^(\d+)\/(\d+)$/.exec(subset.trim());
  if (group) return `read group #${Number(group[1])} of ${r.packsRead} data packs (out of total ${r.packs} packs in ${Number(group[2])} groups`;
  const pct = /^([\d.]+)%$/.exec(subset.trim());
  if (pct) return `read ${Number(pct[1]).toFixed(1)}% of packfiles`;
  return `read ${r.packsRead} of ${r.packs} data packs`;
}

/** The packs check found damaged (restic's broken_packs): read or sized wrong, not missing. */
export function brokenPacks(r: CheckReport): string[] {
  const ids = new Set<string>();
  for (const e of r.errors) {
    const m = /^pack ([0-9a-f]{64}): (.*)$/s.exec(e);
    if (m && !m[2]!.startsWith('in index but missing')) ids.add(m[1]!);
  }
  return [...ids].sort();
}

/** check --json's summary, restic 0.19's fields (null: Go's nil slice). */
export function checkJson(r: CheckReport): Record<string, unknown> {
  const broken = brokenPacks(r);
  return {
    message_type: 'summary',
    num_errors: r.errors.length,
    broken_packs: broken.length > 0 ? broken : null,
    suggest_repair_index: false,
    suggest_prune: r.warnings.some((w) => /not referenced in any index/.test(w)),
  };
}

/** check --json's error lines (stderr), restic 0.19's "error" message. */
export function checkErrorJson(message: string): Record<string, unknown> {
  return { message_type: 'error', message };
}
