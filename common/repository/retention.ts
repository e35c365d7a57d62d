// Retention ("forget") as a pure function, following restic's ApplyPolicy: snapshots sorted
// newest first; each keep-* rule is a bucket that keeps a snapshot when its time falls in a
// new hour/day/ISO week/month/year (in the zone the snapshot recorded) while the rule has
// counts left; -1 means unlimited; when a rule still has counts left at the oldest snapshot,
// that one is kept too. Tags keep without counting, matched as restic's Snapshot.HasTags.
// Groups by host and paths, as restic's default --group-by host,paths. Reasons are restic's
// words. test/retention-vs-restic.test.ts compares every decision with restic 0.14 and 0.19.1.
import type { ZonedTime } from './time.ts';
import { isoWeek, localFields, parseTime } from './time.ts';

export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** Keep every snapshot that has all tags of at least one of these lists (see parseTagList). */
  keepTags?: string[][];
  /**
   * restic >= 0.16 also keeps the oldest snapshot of a group while a rule still has counts
   * left (the default here); false gives restic 0.14's rules (Debian 12's restic), which
   * also have no -1 "keep all".
   */
  keepOldestWithCountsLeft?: boolean;
}

export interface RetentionSnapshot {
  id: string;
  time: string;
  hostname?: string | undefined;
  paths?: string[] | undefined;
  tags?: string[] | null | undefined;
}

export interface RetentionDecision<S extends RetentionSnapshot> {
  keep: S[];
  remove: S[];
  /** Why each kept snapshot is kept, by snapshot id. */
  reasons: Map<string, string[]>;
}

type Bucker = (t: ZonedTime, nr: number) => number;

const buckers: [keyof RetentionPolicy, Bucker, string][] = [
  ['keepLast', (_t, nr) => nr, 'last snapshot'],
  ['keepHourly', (t) => { const f = localFields(t); return f.year * 1_000_000 + f.month * 10_000 + f.day * 100 + f.hour; }, 'hourly snapshot'],
  ['keepDaily', (t) => { const f = localFields(t); return f.year * 10_000 + f.month * 100 + f.day; }, 'daily snapshot'],
  ['keepWeekly', (t) => { const w = isoWeek(localFields(t).date); return w.year * 100 + w.week; }, 'weekly snapshot'],
  ['keepMonthly', (t) => { const f = localFields(t); return f.year * 100 + f.month; }, 'monthly snapshot'],
  ['keepYearly', (t) => localFields(t).year, 'yearly snapshot'],
];

/**
 * One --keep-tag value as restic reads it (splitTagList): split at commas, white space trimmed,
 * empty entries kept. An empty tag matches a snapshot without tags, and no tagged snapshot.
 */
export function parseTagList(value: string): string[] {
  return value.split(',').map((t) => t.trim());
}

/** restic's Snapshot.HasTags, including its rule for the empty tag. */
function hasTags(snapshotTags: readonly string[], list: readonly string[]): boolean {
  for (const tag of list) {
    if (tag === '' && snapshotTags.length === 0) return true;
    if (!snapshotTags.includes(tag)) return false;
  }
  return true;
}

export function isEmptyPolicy(p: RetentionPolicy): boolean {
  return !p.keepTags?.length && buckers.every(([k]) => !p[k]);
}

/** Applies the policy to one group of snapshots (already grouped). */
export function applyPolicy<S extends RetentionSnapshot>(snapshots: readonly S[], policy: RetentionPolicy): RetentionDecision<S> {
  const times = new Map(snapshots.map((s) => [s, parseTime(s.time) ?? { epochMs: 0, subMsNanos: 0, offsetMin: 0 }]));
  const list = [...snapshots].sort((a, b) => {
    const ta = times.get(a)!;
    const tb = times.get(b)!;
    return tb.epochMs - ta.epochMs || tb.subMsNanos - ta.subMsNanos;
  });
  const reasons = new Map<string, string[]>();
  if (isEmptyPolicy(policy)) {
    for (const s of list) reasons.set(s.id, ['policy is empty']);
    return { keep: list, remove: [], reasons };
  }
  const keepOldest = policy.keepOldestWithCountsLeft ?? true;
  const buckets = buckers.map(([k, bucker, reason]) => ({ count: (policy[k] as number | undefined) ?? 0, bucker, reason, last: -1 }));
  const keep: S[] = [];
  const remove: S[] = [];
  list.forEach((cur, nr) => {
    const why: string[] = [];
    for (const tags of policy.keepTags ?? []) {
      if (hasTags(cur.tags ?? [], tags)) why.push(`has tags [${tags.join(', ')}]`);
    }
    for (const b of buckets) {
      if (b.count > 0 || (b.count === -1 && keepOldest)) {
        const val = b.bucker(times.get(cur)!, nr);
        if (val !== b.last || (keepOldest && nr === list.length - 1)) {
          why.push(val === b.last ? `oldest ${b.reason}` : b.reason);
          b.last = val;
          if (b.count > 0) b.count--;
        }
      }
    }
    if (why.length > 0) {
      keep.push(cur);
      reasons.set(cur.id, why);
    } else {
      remove.push(cur);
    }
  });
  return { keep, remove, reasons };
}

/** Groups by hostname and paths, then applies the policy to each group. */
export function applyPolicyGrouped<S extends RetentionSnapshot>(snapshots: readonly S[], policy: RetentionPolicy): RetentionDecision<S> {
  const groups = new Map<string, S[]>();
  for (const s of snapshots) {
    const key = JSON.stringify([s.hostname ?? '', [...(s.paths ?? [])].sort()]);
    const g = groups.get(key) ?? [];
    g.push(s);
    groups.set(key, g);
  }
  const out: RetentionDecision<S> = { keep: [], remove: [], reasons: new Map() };
  for (const g of groups.values()) {
    const d = applyPolicy(g, policy);
    out.keep.push(...d.keep);
    out.remove.push(...d.remove);
    for (const [k, v] of d.reasons) out.reasons.set(k, v);
  }
  return out;
}
