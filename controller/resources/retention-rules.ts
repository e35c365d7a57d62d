// A BackupConfiguration's retentionPolicy: refused at apply time when it would keep nothing
// of the target, and turned into the policy the agent applies (Stash's keepTags semantics).
import { parseTagList } from '../../common/repository/retention.ts';
import type { RetentionPolicy } from '../../common/repository/retention.ts';
import type { RetentionPolicySpec } from './types.ts';

const COUNT_RULES = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

/**
 * Why the policy is refused, or undefined when it keeps something. A policy must have a count
 * rule that keeps at least one snapshot (n >= 1, or -1 for unlimited): keepTags alone keeps only
 * snapshots that carry a user's tags, and sidestash's backups carry none (their tags are
 * namespace=, target=, invoker= and session=), so such a policy would remove every backup.
 */
export function retentionPolicyProblem(rp: Partial<RetentionPolicySpec> | undefined): string | undefined {
  if (!rp || typeof rp !== 'object') return undefined;
  const counts = COUNT_RULES.map((k) => rp[k]).filter((v): v is number => typeof v === 'number');
  if (counts.some((v) => v >= 1 || v === -1)) return undefined;
  const rules = COUNT_RULES.join(', ');
  if (Array.isArray(rp.keepTags) && rp.keepTags.length > 0) {
    return `keepTags alone would remove every backup (sidestash's snapshots carry no tags of yours): add a count rule of at least 1 (one of ${rules})`;
  }
  return `keeps no snapshot: set one of ${rules} to at least 1 (-1: unlimited), or remove retentionPolicy to keep every snapshot`;
}

/**
 * The policy the agent applies. Stash passes one restic --keep-tag per keepTags entry, and
 * restic keeps a snapshot that has all tags of ANY one flag (a flag's value may list several,
 * comma-separated): so each entry is its own list. `prune` is false unless set, as in Stash
 * (its CRD requires the field; Go's zero value is false, and Stash adds --prune only when true).
 */
export function assignmentRetentionPolicy(rp: RetentionPolicySpec): RetentionPolicy & { prune: boolean; dryRun: boolean } {
  const { name: _n, dryRun, keepTags, prune, ...counts } = rp;
  const tagLists = (keepTags ?? []).map(parseTagList);
  return { ...counts, ...(tagLists.length > 0 ? { keepTags: tagLists } : {}), prune: prune ?? false, dryRun: dryRun ?? false };
}
