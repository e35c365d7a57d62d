// Retention means what it means in Stash: for a set of Stash retention policies, the agent's
// forget decisions (controller's assignmentRetentionPolicy, then common/repository/forget.ts)
// equal `restic forget --dry-run --json` run with exactly the flags Stash's restic wrapper
// builds from the same policy (stashed/apimachinery pkg/restic/commands.go tryCleanup: one
// --keep-* flag per count > 0, one --keep-tag per keepTags entry, no --host, no --group-by).
// Checked with restic 0.14 (Debian 12, `restic` on PATH; it has no "keep the oldest while
// counts are left" rule) and 0.19.1 (.tools/bin, the rules of Stash's restic 0.18.1), each run
// under several TZ values: restic buckets a snapshot by the wall clock of the offset it
// recorded, never by the process's zone. Snapshots span hours to years, use many UTC offsets
// (days, ISO weeks and years that differ from UTC's), sub-millisecond times, several hosts and
// path sets, tagged (sidestash's) and untagged (Stash's) snapshots.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { forget } from '../common/repository/forget.ts';
import { Repository } from '../common/repository/repository.ts';
import type { RetentionPolicy } from '../common/repository/retention.ts';
import { loadSnapshot } from '../common/repository/snapshot.ts';
import type { SnapshotJson } from '../common/repository/snapshot.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { formatZoned } from '../common/repository/time.ts';
import { assignmentRetentionPolicy } from '../controller/resources/retention-rules.ts';
import type { RetentionPolicySpec } from '../controller/resources/types.ts';
import { RESTIC_0_19, runRestic } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'pw-retention';
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };
const ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata'];
const VERSIONS = [
  { name: 'restic 0.14', bin: 'restic', keepOldest: false },
  { name: 'restic 0.19.1', bin: RESTIC_0_19, keepOldest: true },
];

/** Exactly the arguments Stash's restic wrapper passes to `restic forget` (apimachinery tryCleanup). */
function stashForgetArgs(p: RetentionPolicySpec): string[] {
  const args = ['forget', '--quiet', '--json'];
  const counts = [['--keep-last', p.keepLast], ['--keep-hourly', p.keepHourly], ['--keep-daily', p.keepDaily], ['--keep-weekly', p.keepWeekly], ['--keep-monthly', p.keepMonthly], ['--keep-yearly', p.keepYearly]] as const;
  for (const [flag, n] of counts) if (n !== undefined && n > 0) args.push(flag, String(n));
  for (const tag of p.keepTags ?? []) args.push('--keep-tag', tag);
  if (p.prune) args.push('--prune');
  args.push('--dry-run'); // Stash adds it only for dryRun: true; here restic must change nothing.
  return args;
}

/** The policy the agent applies for this Stash policy (the BackupSession assignment). */
function agentPolicy(p: RetentionPolicySpec, keepOldest: boolean): RetentionPolicy {
  const { prune: _p, dryRun: _d, ...policy } = assignmentRetentionPolicy(p);
  return keepOldest ? policy : { ...policy, keepOldestWithCountsLeft: false };
}

const POLICIES: RetentionPolicySpec[] = [
  { name: 'last', keepLast: 5, prune: true },
  { name: 'hourly', keepHourly: 30, prune: false },
  { name: 'daily', keepDaily: 14, prune: true },
  { name: 'weekly', keepWeekly: 12, prune: true },
  { name: 'monthly', keepMonthly: 18, prune: true },
  { name: 'yearly', keepYearly: 4, prune: true },
  { name: 'typical', keepLast: 3, keepHourly: 12, keepDaily: 7, keepWeekly: 5, keepMonthly: 12, keepYearly: 3, prune: true },
  { name: 'zero counts are no flag', keepLast: 0, keepDaily: 2, keepWeekly: 0, keepMonthly: 3, prune: false },
  { name: 'several keepTags', keepLast: 2, keepTags: ['gold', 'silver,pinned'], prune: true },
  { name: 'keepTags with spaces, empty tags and counts', keepDaily: 3, keepMonthly: 2, keepTags: ['monthly', ' silver , pinned ', 'gold,,silver', ''], prune: true },
  { name: 'more counts than snapshots', keepWeekly: 1000, keepYearly: 1000, prune: true },
];

/** A deterministic pseudo-random sequence (LCG), so that the data set is the same every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Planned {
  time: string;
  hostname: string;
  paths: string[];
  tags?: string[];
}

function plan(): Planned[] {
  const rnd = prng(18);
  // Offsets in minutes: Berlin winter/summer, New York, India, Chatham, Marquesas, Kiritimati, Baker Island.
  const offsets = [0, 60, 120, -300, -240, 330, 765, -570, 840, -720];
  const gapsMs = [17 * 60_000, 50 * 60_000, 3 * 3_600_000, 11 * 3_600_000, 86_400_000, 2.5 * 86_400_000, 6 * 86_400_000, 23 * 86_400_000];
  const out: Planned[] = [];
  const used = new Set<string>();
  let t = Date.UTC(2026, 5, 20, 12, 0, 0);
  const tagsFor = (i: number): string[] | undefined => {
    const tags: string[] = [];
    if (i % 5 === 0) tags.push('gold');
    if (i % 7 === 0) tags.push('silver');
    if (i % 11 === 0) tags.push('silver', 'pinned');
    if (i % 13 === 0) tags.push('monthly');
    return tags.length > 0 ? [...new Set(tags)] : undefined;
  };
  const push = (epochMs: number, nanos: number, offsetMin: number, hostname: string, paths: string[], tags: string[] | undefined): void => {
    while (used.has(`${epochMs}.${nanos}`)) epochMs += 1; // restic orders equal times by listing order: none here
    used.add(`${epochMs}.${nanos}`);
    const p: Planned = { time: formatZoned(epochMs, (epochMs % 1000) * 1_000_000 + nanos, offsetMin), hostname, paths };
    if (tags) p.tags = tags;
    out.push(p);
  };
  // sidestash's snapshots of one target, going back about seven years with dense recent history.
  for (let i = 0; i < 170; i++) {
    const gap = gapsMs[Math.min(gapsMs.length - 1, Math.floor(rnd() * (2 + i / 18)))]!;
    t -= Math.round(gap * (0.5 + rnd()));
    const nanos = i % 3 === 0 ? Math.floor(rnd() * 1_000_000) : 0;
    push(t, nanos, offsets[Math.floor(rnd() * offsets.length)]!, 'shop-db', ['/dumpfile.sql'], ['invoker=shop-backup', ...(tagsFor(i) ?? [])]);
  }
  // Edges: local days, ISO weeks (2026-W53 holds 2027-01-01..03; 2020-W53 holds 2021-01-01..03) and years that differ from UTC's.
  const edges: [string, number][] = [
    ['2026-12-31T23:30:00Z', 840], ['2027-01-01T00:30:00Z', -720], ['2027-01-03T23:59:59Z', 0], ['2027-01-04T00:00:01Z', 0],
    ['2026-12-28T04:00:00Z', -300], ['2020-12-31T12:00:00Z', 0], ['2021-01-03T20:00:00Z', 330], ['2021-01-04T01:00:00Z', -300],
    ['2026-05-01T23:30:00Z', 120], ['2026-05-02T03:40:00Z', -300], ['2026-03-29T00:59:59Z', 60], ['2026-03-29T01:00:00Z', 120],
  ];
  edges.forEach(([iso, off], i) => push(Date.parse(iso), 0, off, 'shop-db', ['/dumpfile.sql'], ['invoker=shop-backup', ...(tagsFor(i + 1) ?? [])]));
  // Two snapshots within one millisecond: ordered by their nanoseconds.
  push(Date.parse('2027-01-05T10:00:00.123Z'), 456_789, 60, 'shop-db', ['/dumpfile.sql'], ['invoker=shop-backup']);
  push(Date.parse('2027-01-05T10:00:00.123Z'), 456_788, 60, 'shop-db', ['/dumpfile.sql'], ['invoker=shop-backup', 'gold']);
  // Stash's own snapshots in the same repository: host-0, no tags; a group of its own.
  let s = Date.UTC(2026, 4, 1, 1, 0, 0);
  for (let i = 0; i < 40; i++) {
    s -= Math.round(gapsMs[Math.floor(rnd() * gapsMs.length)]! * (0.5 + rnd()));
    push(s, 0, offsets[i % offsets.length]!, 'host-0', ['/dumpfile.sql'], undefined);
  }
  // Paths are compared sorted: these are one group.
  for (let i = 0; i < 12; i++) {
    push(Date.UTC(2026, 0, 1 + i * 9, 6, i), 0, 330, 'shop-db', i % 2 ? ['/b.sql', '/a.sql'] : ['/a.sql', '/b.sql'], tagsFor(i * 5));
  }
  return out;
}

interface ResticGroup {
  host: string;
  paths: string[];
  keep: { id: string }[] | null;
  remove: { id: string }[] | null;
  /** In the order of keep (restic 0.14 writes no id here). */
  reasons: { matches: string[] }[] | null;
}

interface Decision {
  keep: string[];
  remove: string[];
  reasons: Map<string, string[]>;
}

function fromRestic(stdout: string): Decision {
  const line = stdout.split('\n').find((l) => l.startsWith('['));
  assert.ok(line, `no JSON in restic's output: ${stdout.slice(0, 500)}`);
  const groups = JSON.parse(line) as ResticGroup[];
  const reasons = new Map<string, string[]>();
  for (const g of groups) (g.keep ?? []).forEach((s, i) => reasons.set(s.id, g.reasons?.[i]?.matches ?? []));
  return {
    keep: groups.flatMap((g) => (g.keep ?? []).map((s) => s.id)).sort(),
    remove: groups.flatMap((g) => (g.remove ?? []).map((s) => s.id)).sort(),
    reasons,
  };
}

describe('retention equals restic forget run with Stash\'s flags', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let path: string;
  let repo: Repository;
  let total = 0;
  let expectedIds: string[];

  before(async () => {
    dir = await tempDir();
    path = join(dir.path, 'repo');
    repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const first = await writeSnapshot(repo, Readable.from([Buffer.from('-- a small dump\n')]), { filename: 'dumpfile.sql', hostname: 'shop-db', time: new Date('2019-01-01T00:00:00Z') });
    const base = await loadSnapshot(repo, first.snapshotId);
    await repo.backend.remove({ type: 'snapshots', name: first.snapshotId });
    // Snapshot files only: forget reads nothing else. All of them share the one stored tree.
    const ids: string[] = [];
    for (const p of plan()) {
      const json: SnapshotJson = { time: p.time, tree: base.tree, paths: p.paths, hostname: p.hostname, username: 'mysql', uid: 999, gid: 999 };
      if (p.tags) json.tags = p.tags;
      ids.push(await repo.saveJson('snapshots', json));
    }
    total = ids.length;
    expectedIds = ids.sort();
  });
  after(() => dir.cleanup());

  it('restic lists every planned snapshot, with the time as written', async () => {
    const r = await runRestic('restic', path, PASSWORD, ['snapshots', '--json'], undefined, { TZ: 'America/New_York' });
    assert.equal(r.code, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as { id: string; time: string }[];
    assert.deepEqual(listed.map((s) => s.id).sort(), expectedIds);
    assert.ok(total > 200, `${total} snapshots`);
  });

  for (const version of VERSIONS) {
    for (const spec of POLICIES) {
      it(`${version.name}: ${spec.name} (${stashForgetArgs(spec).slice(3).join(' ')})`, async () => {
        const d = await forget(repo, agentPolicy(spec, version.keepOldest), { dryRun: true });
        const ours: Decision = { keep: d.keep.map((s) => s.id).sort(), remove: d.remove.map((s) => s.id).sort(), reasons: d.reasons };
        assert.equal(ours.keep.length + ours.remove.length, total);
        assert.ok((ours.keep.length > 0 && ours.remove.length > 0) || spec.name === 'more counts than snapshots', 'the policy decides something');
        for (const tz of ZONES) {
          const r = await runRestic(version.bin, path, PASSWORD, stashForgetArgs(spec), undefined, { TZ: tz });
          assert.equal(r.code, 0, `${version.name} TZ=${tz}: ${r.stderr}`);
          const theirs = fromRestic(r.stdout);
          assert.deepEqual(ours.keep, theirs.keep, `kept snapshots differ from ${version.name} under TZ=${tz}`);
          assert.deepEqual(ours.remove, theirs.remove, `removed snapshots differ from ${version.name} under TZ=${tz}`);
          for (const id of ours.keep) assert.deepEqual(ours.reasons.get(id), theirs.reasons.get(id), `reasons for ${id} under TZ=${tz}`);
        }
      });
    }
  }

  it('restic 0.14 and 0.19.1 differ where counts are left at the oldest snapshot, and the agent follows 0.19.1', async () => {
    const spec = POLICIES.find((p) => p.name === 'more counts than snapshots')!;
    const agent = await forget(repo, agentPolicy(spec, true), { dryRun: true });
    const old = await forget(repo, agentPolicy(spec, false), { dryRun: true });
    assert.ok(agent.keep.length > old.keep.length, 'restic >= 0.16 keeps each group\'s oldest snapshot too');
    assert.deepEqual(agentPolicy(spec, true), { keepWeekly: 1000, keepYearly: 1000 }, 'the agent applies restic >= 0.16 rules (Stash ships restic 0.18.1)');
  });
});
