// The pure pieces of `sidestash repo init|backup|forget|prune|check|unlock`'s output, on tables
// of restic 0.19.1's own output (test/repo-verbs-output.test.ts compares the whole with restic).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckReport } from '../common/repository/check.ts';
import type { PruneResult } from '../common/repository/prune.ts';
import type { RetentionPolicy } from '../common/repository/retention.ts';
import type { Snapshot } from '../common/repository/snapshot.ts';
import { forgetGroups, forgetJson, forgetText, policyText, resticMultiLineTable, snapshotJson, timestampsNote } from './restic-forget-text.ts';
import { brokenPacks, checkJson, checkText, pruneJson, pruneText, subsetLine } from './restic-maintenance-text.ts';
import { backupJson, backupText, displayLocation, initText, resticDuration, unlockText } from './restic-write-text.ts';

const ID = (c: string): string => c.repeat(64);

describe('restic 0.19.1\'s words for init, backup and unlock', () => {
  it('init names the first 10 hex digits of the id', () => {
    assert.match(initText(ID('a'), '/srv/repo'), /^created restic repository aaaaaaaaaa at \/srv\/repo\n\nPlease note that knowledge of your password is required to access\n/);
  });

  const locations: [string, string][] = [
    ['rest:https://user:secret@backup.example/repo/', 'rest:https://user@backup.example/repo/'],
    ['rest:http://:secret@h:8000/', 'rest:http://@h:8000/'],
    ['rest:https://backup.example/repo/', 'rest:https://backup.example/repo/'],
    ['s3:https://s3.example/bucket', 's3:https://s3.example/bucket'],
    ['/srv/a:b@c', '/srv/a:b@c'],
  ];
  for (const [given, shown] of locations) it(`location ${given} is shown as ${shown}`, () => assert.equal(displayLocation(given), shown));

  const durations: [number, string][] = [[0, '0:00'], [0.9, '0:00'], [59.99, '0:59'], [61, '1:01'], [3599, '59:59'], [3661, '1:01:01'], [-1, '0:00']];
  for (const [s, want] of durations) it(`${s} s is ${want}`, () => assert.equal(resticDuration(s), want));

  const summary = { backup_start: '2026-12-01T10:00:00.25Z', backup_end: '2026-12-01T10:01:05.75Z', files_new: 1, files_changed: 0, files_unmodified: 0, dirs_new: 0, dirs_changed: 0, dirs_unmodified: 0, data_blobs: 3, tree_blobs: 1, data_added: 300000, data_added_packed: 1200, total_files_processed: 1, total_bytes_processed: 2 * 1024 * 1024 };
  it('backup: restic\'s report of a backup of standard input', () => {
    assert.equal(backupText(ID('b'), summary), '\nFiles:           1 new,     0 changed,     0 unmodified\nDirs:            0 new,     0 changed,     0 unmodified\nAdded to the repository: 292.969 KiB (1.172 KiB stored)\n\nprocessed 1 files, 2.000 MiB in 1:05\nsnapshot bbbbbbbb saved');
  });
  it('backup --json: the summary message with the duration in seconds', () => {
    const j = backupJson(ID('b'), summary);
    assert.equal(j.message_type, 'summary');
    assert.equal(j.total_duration, 65.5);
    assert.equal(j.snapshot_id, ID('b'));
    assert.deepEqual(Object.keys(j).slice(-4), ['total_duration', 'backup_start', 'backup_end', 'snapshot_id']);
  });
  it('unlock says nothing without locks', () => {
    assert.equal(unlockText(0), undefined);
    assert.equal(unlockText(2), 'successfully removed 2 locks');
  });
});

const snap = (id: string, time: string, over: Partial<Snapshot> = {}): Snapshot => ({ id: ID(id), time, tree: ID('f'), paths: ['/db.sql'], hostname: 'db-0', username: 'root', uid: 0, gid: 0, ...over });

describe('restic 0.19.1\'s words for forget', () => {
  const policies: [RetentionPolicy, string][] = [
    [{ keepLast: 2 }, 'keep 2 latest snapshots'],
    [{ keepLast: -1, keepDaily: 7, keepTags: [['a', 'b'], ['c']] }, 'keep all latest, 7 daily snapshots and all snapshots with tags [[a, b] [c]]'],
    [{ keepHourly: 1, keepTags: [['a']] }, 'keep 1 hourly snapshots and all snapshots with tags [[a]]'],
    [{ keepTags: [['']] }, 'keep all snapshots with tags [[]]'],
    [{ keepTags: [['zz']] }, 'keep all snapshots with tags [[zz]]'],
    [{ keepWeekly: 4, keepMonthly: 12, keepYearly: 0 }, 'keep 4 weekly, 12 monthly snapshots'],
  ];
  for (const [p, want] of policies) it(`policy ${JSON.stringify(p)}`, () => assert.equal(policyText(p), want));

  it('the time zone line names TZ as Go does', () => {
    assert.equal(timestampsNote(undefined), 'Timestamps shown in local time');
    assert.equal(timestampsNote(''), 'Timestamps shown in UTC');
    assert.equal(timestampsNote('Europe/Berlin'), 'Timestamps shown in Europe/Berlin');
  });

  it('a cell of several lines takes several lines; Host and Tags at least 10 wide', () => {
    assert.deepEqual(resticMultiLineTable(['ID', 'Host', 'Reasons', 'Paths'], [[['aaaa'], ['h'], ['last snapshot', 'oldest daily snapshot'], ['/x']]], [0, 10]), [
      'ID    Host        Reasons                Paths',
      '----------------------------------------------',
      'aaaa  h           last snapshot          /x',
      '                  oldest daily snapshot',
      '----------------------------------------------',
    ]);
  });

  const keep = [snap('1', '2026-12-01T10:00:00Z', { tags: ['a', 'x'] }), snap('2', '2026-12-01T12:00:00Z'), snap('3', '2026-12-01T11:00:00Z', { hostname: 'db-1' })];
  const remove = [snap('4', '2026-12-01T09:00:00Z')];
  const decision = { keep, remove, reasons: new Map([[ID('1'), ['has tags [a]', 'last snapshot']], [ID('2'), ['last snapshot']], [ID('3'), ['last snapshot']]]) };

  it('groups by host and paths', () => {
    assert.deepEqual(forgetGroups(decision).map((g) => [g.hostname, g.keep.length, g.remove.length]), [['db-0', 2, 1], ['db-1', 1, 0]]);
  });

  it('text: a table per group and kind, oldest first, and what a dry run would remove', () => {
    const text = forgetText({ keepLast: 1, keepTags: [['a']] }, decision, true);
    assert.match(text, /^Applying Policy: keep 1 latest snapshots and all snapshots with tags \[\[a\]\]\nkeep 2 snapshots:\nID  +Time +Host +Tags +Reasons +Paths\n-+\n1{8}  \S+ \S+  db-0  +a,x  +has tags \[a\]  +\/db.sql\n {55}last snapshot\n2{8} /);
    assert.match(text, /\nremove 1 snapshots:\nID +Time +Host +Tags +Paths\n-+\n4{8} .*\n-+\nTimestamps shown in .*\n1 snapshots\n\nkeep 1 snapshots:\n/);
    assert.match(text, /\nWould have removed the following snapshots:\n\{44444444\}\n$/);
    assert.doesNotMatch(forgetText({ keepLast: 1 }, decision, false), /Would have removed/);
    assert.equal(forgetText({}, decision, true), 'no policy was specified, no snapshots will be removed');
  });

  it('JSON: restic\'s groups, newest first, nil lists as null, snapshots as restic marshals them', () => {
    const [g0, g1] = forgetJson(decision);
    assert.deepEqual((g0!.keep as { short_id: string }[]).map((s) => s.short_id), ['22222222', '11111111']);
    assert.deepEqual(g1!.remove, null);
    assert.deepEqual((g0!.reasons as { matches: string[] }[])[1]!.matches, ['has tags [a]', 'last snapshot']);
    assert.deepEqual(Object.keys(snapshotJson(snap('5', '2026-12-01T09:00:00Z'))), ['time', 'tree', 'paths', 'hostname', 'username', 'id', 'short_id'], 'zero uid/gid and no tags left out');
  });
});

describe('restic 0.19.1\'s words for prune and check', () => {
  const result: PruneResult = { packsKept: 3, packsRemoved: 2, packsRepacked: 1, packsWritten: 1, orphanedPacksRemoved: 0, leftoversRemoved: 0, bytesRemoved: 0, blobsRemoved: 3, stats: { repackBlobs: 1, repackBytes: 100, removeBlobs: 1, removeBytes: 50, deleteBlobs: 2, deleteBytes: 2048, remainingBlobs: 9, remainingBytes: 1224 } };
  const stats = 'to repack:             1 blobs / 100 B\nthis removes:          1 blobs / 50 B\nto delete:             2 blobs / 2.000 KiB\ntotal prune:           3 blobs / 2.049 KiB\nremaining:             9 blobs / 1.195 KiB\nunused size after prune: 0 B (0.00% of remaining size)';
  it('prune --dry-run: what it would do', () => assert.equal(pruneText(result, true), `\nWould have made the following changes:\n\n${stats}`));
  it('prune: the statistics, then what it did', () => assert.equal(pruneText(result, false), `\n${stats}\n\nrepacking packs\nrebuilding index\nremoving 2 old packs\ndone`));
  it('prune --json: the same numbers', () => {
    const j = pruneJson(result, false);
    assert.equal(j.total_prune_blobs, 3);
    assert.equal(j.total_prune_bytes, 2098);
    assert.equal(pruneJson(result, true).packs_removed, 0);
  });

  const clean: CheckReport = { errors: [], warnings: [], snapshots: 1, packs: 2, blobs: 3, packsRead: 0 };
  const pack = ID('c');
  const damaged: CheckReport = { ...clean, errors: [`pack ${pack}: content does not match its name`, `pack ${ID('d')}: in index but missing from the repository`, 'tree x: y'], warnings: [`pack ${ID('e')}: not referenced in any index`] };
  it('check: the steps and "no errors were found" only without errors', () => {
    assert.equal(checkText(clean, { readData: true }), 'load indexes\ncheck all packs\ncheck snapshots, trees and blobs\nread all data\nno errors were found');
    assert.doesNotMatch(checkText(damaged, { readData: false }), /no errors/);
    assert.match(checkText(damaged, { readData: false }), /check all packs\npack e+: not referenced in any index\n/);
  });
  it('check --read-data-subset: restic 0.19\'s line', () => {
    assert.equal(subsetLine('1/3', { packs: 9, packsRead: 5 }), 'read group #1 of 5 data packs (out of total 9 packs in 3 groups');
    assert.equal(subsetLine('50%', { packs: 9, packsRead: 5 }), 'read 50.0% of packfiles');
    assert.equal(subsetLine('2.5%', { packs: 9, packsRead: 1 }), 'read 2.5% of packfiles');
  });
  it('check --json: restic\'s summary; broken packs are damaged ones, not missing ones', () => {
    assert.deepEqual(checkJson(clean), { message_type: 'summary', num_errors: 0, broken_packs: null, suggest_repair_index: false, suggest_prune: false });
    assert.deepEqual(brokenPacks(damaged), [pack]);
    assert.deepEqual(checkJson(damaged), { message_type: 'summary', num_errors: 3, broken_packs: [pack], suggest_repair_index: false, suggest_prune: true });
  });
});
