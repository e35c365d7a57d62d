// `sidestash repo init|backup|forget|prune|check|unlock` print what restic prints: its text by
// default, its JSON messages with --json. Each is run through the CLI process next to restic
// 0.19.1 doing the same on the same repository (or on one made the same way), and the two
// outputs are compared: exactly where the repository decides everything (forget, prune's
// statistics, check), by the shape of each line where ids, sizes and times differ.
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCliOnTerminal, runCliProcess } from './helpers/cli-process.ts';
import type { CliResult } from './helpers/cli-process.ts';
import { RESTIC_0_19, runRestic } from './helpers/restic.ts';
import type { ResticResult } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'verbs-output';
const TZ = 'UTC';

let tmp: { path: string; cleanup: () => Promise<void> };
before(async () => {
  tmp = await tempDir();
});
after(async () => tmp?.cleanup());

const ours = (path: string, args: string[], input?: string): Promise<CliResult> =>
  runCliProcess(['repo', ...args], { env: { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD, TZ }, ...(input !== undefined ? { input } : {}) });
const theirs = (path: string, args: string[], input?: string): Promise<ResticResult> =>
  runRestic(RESTIC_0_19, path, PASSWORD, args, input === undefined ? undefined : Readable.from([Buffer.from(input)]), { TZ });

function ok<T extends { code: number; stderr: string }>(r: T, what: string): T {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
  return r;
}

/** A line's shape: ids, numbers and sizes' units stand for themselves no more. */
const shape = (text: string): string => text.replace(/\b[0-9a-f]{8,64}\b/g, 'ID').replace(/\d+(\.\d+)?/g, 'N').replace(/\/tmp\/\S+/g, 'PATH').replace(/\b(B|KiB|MiB|GiB)\b/g, 'UNIT');

const jsonLines = (text: string): Record<string, unknown>[] => text.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('repo init and backup print restic\'s text, and its JSON with --json', () => {
  it('init: "created restic repository ID at LOCATION" and the password note; --json: the "initialized" message', async () => {
    const [a, b] = [join(tmp.path, 'init-ours'), join(tmp.path, 'init-theirs')];
    const o = ok(await ours(a, ['init']), 'init');
    const t = ok(await theirs(b, ['init']), 'restic init');
    const m = /^created restic repository ([0-9a-f]{10}) at (.+)\n/.exec(o.stdout);
    assert.ok(m, o.stdout);
    assert.equal(m[2], a, 'the location as given');
    assert.equal(o.stdout.replaceAll(a, 'LOC').replace(m[1]!, 'ID'), t.stdout.replaceAll(b, 'LOC').replace(/[0-9a-f]{10}/, 'ID'), 'restic 0.19.1\'s words');
    // The id printed is the repository's: restic's `cat config` names it.
    const config = JSON.parse(ok(await theirs(a, ['cat', 'config']), 'cat config').stdout) as { id: string };
    assert.equal(config.id.slice(0, 10), m[1]);

    const oj = jsonLines(ok(await ours(`${a}-json`, ['init', '--json']), 'init --json').stdout);
    const tj = jsonLines(ok(await theirs(`${b}-json`, ['init', '--json']), 'restic init --json').stdout);
    assert.equal(oj.length, 1);
    assert.deepEqual(Object.keys(oj[0]!), Object.keys(tj[0]!));
    assert.equal(oj[0]!.message_type, 'initialized');
    assert.equal(oj[0]!.repository, `${a}-json`);
    assert.match(String(oj[0]!.id), /^[0-9a-f]{64}$/);
  });

  it('backup: Files/Dirs/Added/processed lines and "snapshot ID saved"; --json: restic 0.19\'s "summary" message', async () => {
    const path = join(tmp.path, 'backup');
    ok(await ours(path, ['init']), 'init');
    const data = 'INSERT INTO t VALUES (1);\n'.repeat(1000);
    const o = ok(await ours(path, ['backup', '--stdin-filename', 'dump.sql'], data), 'backup');
    const t = ok(await theirs(path, ['backup', '--stdin', '--stdin-filename', 'other.sql'], data), 'restic backup');
    assert.equal(shape(o.stdout), shape(t.stdout), `ours:\n${o.stdout}\nrestic's:\n${t.stdout}`);
    assert.match(o.stdout, /^\nFiles: +1 new, +0 changed, +0 unmodified\nDirs: +0 new, +0 changed, +0 unmodified\nAdded to the repository: [\d.]+ (B|KiB) \([\d.]+ (B|KiB) stored\)\n\nprocessed 1 files, 25\.391 KiB in \d+:\d\d\nsnapshot [0-9a-f]{8} saved\n$/);
    const short = /snapshot ([0-9a-f]{8}) saved/.exec(o.stdout)![1]!;
    const listed = JSON.parse(ok(await theirs(path, ['snapshots', '--json']), 'snapshots').stdout) as { id: string; paths: string[] }[];
    assert.ok(listed.some((s) => s.id.startsWith(short) && s.paths[0] === '/dump.sql'), 'the id printed is the snapshot restic lists');

    const oj = jsonLines(ok(await ours(path, ['backup', '--json', '--stdin-filename', 'dump.sql'], `${data}more\n`), 'backup --json').stdout);
    const tj = jsonLines(ok(await theirs(path, ['backup', '--json', '--stdin', '--stdin-filename', 'other.sql'], `${data}more\n`), 'restic backup --json').stdout);
    assert.equal(oj.length, 1, 'one message, no status lines off a terminal');
    const summary = oj[0]!;
    assert.deepEqual(Object.keys(summary), Object.keys(tj.at(-1)!), 'restic 0.19.1\'s fields, in its order');
    assert.equal(summary.message_type, 'summary');
    assert.equal(summary.total_bytes_processed, data.length + 5);
    assert.equal(summary.files_new, 1);
    const stored = (JSON.parse(ok(await theirs(path, ['snapshots', '--json', 'latest', '--path', '/dump.sql']), 'snapshots').stdout) as { id: string; summary: Record<string, unknown> }[])[0]!;
    assert.equal(summary.snapshot_id, stored.id);
    for (const k of ['data_blobs', 'tree_blobs', 'data_added', 'data_added_packed', 'backup_start', 'backup_end']) assert.equal(summary[k], stored.summary[k], `${k}: what the snapshot records`);
  });
});

describe('repo forget, prune, check and unlock print restic\'s text, and JSON with --json', () => {
  let path: string;
  before(async () => {
    path = join(tmp.path, 'maintenance');
    ok(await ours(path, ['init']), 'init');
    // Two groups (host and path), snapshots by both programs, tags for --keep-tag.
    for (const [i, tag] of ['a', 'b', 'c', 'd'].entries()) {
      if (i % 2 === 0) ok(await ours(path, ['backup', '--stdin-filename', 'db.sql', '--host', 'db-0', '--tag', tag, ...(tag === 'a' ? ['--tag', 'x'] : [])], `dump ${i}\n`), 'backup');
      else ok(await theirs(path, ['backup', '--stdin', '--stdin-filename', 'db.sql', '--host', 'db-0', '--tag', tag], `dump ${i}\n`), 'restic backup');
    }
    ok(await ours(path, ['backup', '--stdin-filename', 'other.sql', '--host', 'db-1'], 'other\n'), 'backup');
  });

  const policy = ['--keep-last', '1', '--keep-tag', 'a', '--keep-tag', 'b,c'];

  it('forget --dry-run: restic\'s very text, group by group, and its JSON groups', async () => {
    const one = [...policy, '--host', 'db-0'];
    const o = ok(await ours(path, ['forget', '--dry-run', ...one]), 'forget');
    const t = ok(await theirs(path, ['forget', '--dry-run', ...one]), 'restic forget');
    assert.equal(o.stdout, t.stdout, 'restic 0.19.1\'s text, byte for byte');
    const tagsOnly = ['forget', '--dry-run', '--keep-tag', 'x', '--host', 'db-0'];
    const ot = ok(await ours(path, tagsOnly), 'forget --keep-tag');
    assert.equal(ot.stdout, ok(await theirs(path, tagsOnly), 'restic forget --keep-tag').stdout);
    assert.match(ot.stdout, /^Applying Policy: keep all snapshots with tags \[\[x\]\]\n/);
    assert.match(o.stdout, /^Applying Policy: keep 1 latest snapshots and all snapshots with tags \[\[a\] \[b, c\]\]\nkeep 2 snapshots:\nID +Time +Host +Tags +Reasons +Paths +Size\n-+\n[0-9a-f]{8}  2\S+ \S+  db-0 +a,x +has tags \[a\] +\/db\.sql  7 B\n/);
    assert.match(o.stdout, /\nremove 2 snapshots:\nID +Time +Host +Tags +Paths +Size\n/);
    assert.match(o.stdout, /\nWould have removed the following snapshots:\n\{[0-9a-f]{8} [0-9a-f]{8}\}\n\n$/);
    // Every group, as restic's default --group-by host,paths (restic's order of groups is random).
    const all = ok(await ours(path, ['forget', '--dry-run', ...policy]), 'forget');
    assert.match(all.stdout, /\nkeep 1 snapshots:\n.*\n-+\n[0-9a-f]{8}  \S+ \S+  db-1 +last snapshot  \/other\.sql  6 B\n/);
    assert.equal(all.stdout.replace(/keep 1 snapshots:\n(.*\n){3}-+\n.*\n1 snapshots\n\n/, ''), o.stdout);

    type Group = { host: string; keep: unknown[] | null; remove: unknown[] | null };
    const oj = JSON.parse(ok(await ours(path, ['forget', '--dry-run', '--json', ...policy]), 'forget --json').stdout) as Group[];
    const tj = JSON.parse(ok(await theirs(path, ['forget', '--dry-run', '--json', ...policy]), 'restic forget --json').stdout) as Group[];
    const byHost = (gs: Group[]) => [...gs].sort((x, y) => x.host.localeCompare(y.host));
    assert.deepEqual(byHost(oj), byHost(tj), 'restic 0.19.1\'s JSON, snapshot for snapshot');
  });

  it('prune --dry-run: restic\'s statistics; prune: the same lines and "done"; --json: the numbers', async () => {
    const removed = ok(await ours(path, ['forget', ...policy]), 'forget');
    assert.match(removed.stdout, /^remove 2 snapshots:$/m);
    assert.doesNotMatch(removed.stdout + removed.stderr, /files deleted/, 'no progress line off a terminal');
    const copy = `${path}-copy`;
    await cp(path, copy, { recursive: true });
    const stats = (text: string): string => text.split('\n').filter((l) => /^(to repack|this removes|to delete|total prune|remaining|unused size after prune):/.test(l)).join('\n');
    const o = ok(await ours(path, ['prune', '--dry-run']), 'prune --dry-run');
    const t = ok(await theirs(path, ['prune', '--dry-run']), 'restic prune --dry-run');
    assert.match(stats(o.stdout), /^to repack: +0 blobs \/ 0 B\nthis removes: +0 blobs \/ 0 B\nto delete: +4 blobs \/ \d+ B\ntotal prune: +4 blobs \/ \d+ B\nremaining: +\d+ blobs \/ .*\nunused size after prune: 0 B \(0\.00% of remaining size\)$/);
    assert.equal(stats(o.stdout), stats(t.stdout), `ours:\n${o.stdout}\nrestic's:\n${t.stdout}`);
    assert.match(o.stdout, /\nWould have made the following changes:\n\n/);

    const pruned = ok(await ours(path, ['prune']), 'prune');
    assert.equal(stats(pruned.stdout), stats(o.stdout));
    assert.match(pruned.stdout, /\nrebuilding index\nremoving \d+ old packs\ndone\n$/);
    ok(await theirs(path, ['check', '--read-data']), 'restic checks the pruned repository');

    const j = jsonLines(ok(await ours(copy, ['prune', '--json']), 'prune --json').stdout);
    assert.equal(j.length, 1);
    assert.equal(j[0]!.message_type, 'summary');
    assert.equal(j[0]!.to_delete_blobs, 4);
    assert.ok(Number(j[0]!.packs_removed) > 0);
  });

  it('check: restic\'s lines and "no errors were found"; damaged: the errors on stderr, exit 1; --json: restic\'s summary', async () => {
    const o = ok(await ours(path, ['check', '--read-data']), 'check');
    const t = ok(await theirs(path, ['check', '--read-data']), 'restic check');
    assert.equal(o.stdout, 'load indexes\ncheck all packs\ncheck snapshots, trees and blobs\nread all data\nno errors were found\n');
    for (const line of o.stdout.trim().split('\n')) assert.ok(t.stdout.split('\n').includes(line), `restic prints "${line}" too:\n${t.stdout}`);
    for (const subset of ['1/2', '2/2', '50%']) {
      const readLine = (text: string): string | undefined => text.split('\n').find((l) => l.startsWith('read '));
      const os = ok(await ours(path, ['check', '--read-data-subset', subset]), `check ${subset}`);
      const ts = ok(await theirs(path, ['check', '--read-data-subset', subset]), `restic check ${subset}`);
      assert.equal(readLine(os.stdout), readLine(ts.stdout), `--read-data-subset ${subset}`);
    }
    const oj = jsonLines(ok(await ours(path, ['check', '--json']), 'check --json').stdout);
    const tj = jsonLines(ok(await theirs(path, ['check', '--json']), 'restic check --json').stdout);
    assert.deepEqual(oj, tj);

    const damaged = `${path}-damaged`;
    await cp(path, damaged, { recursive: true });
    const { readdir, readFile, writeFile, chmod } = await import('node:fs/promises');
    const pack = join(damaged, 'data', (await readdir(join(damaged, 'data'), { recursive: true })).filter((f) => /[0-9a-f]{64}$/.test(f)).sort()[0]!);
    const bytes = await readFile(pack);
    bytes[10] = bytes[10]! ^ 0xff;
    await chmod(pack, 0o644);
    await writeFile(pack, bytes);
    const bad = await ours(damaged, ['check', '--read-data']);
    assert.equal(bad.code, 1, bad.stderr);
    assert.doesNotMatch(bad.stdout, /no errors were found/);
    assert.match(bad.stderr, new RegExp(`pack ${pack.split('/').at(-1)}: `));
    assert.match(bad.stderr, /Fatal: repository contains errors\n$/);
    const badJson = await ours(damaged, ['check', '--read-data', '--json']);
    const badTheirs = await theirs(damaged, ['check', '--read-data', '--json']);
    assert.equal(badJson.code, 1);
    assert.equal(badTheirs.code, 1);
    const [summary] = jsonLines(badJson.stdout);
    const theirSummary = jsonLines(badTheirs.stdout).find((m) => m.message_type === 'summary')!;
    assert.deepEqual(summary!.broken_packs, theirSummary.broken_packs, 'the pack restic finds broken');
    assert.deepEqual(Object.keys(summary!), Object.keys(theirSummary));
    assert.ok(jsonLines(badJson.stderr).some((m) => m.message_type === 'error' && String(m.message).startsWith(`pack ${pack.split('/').at(-1)}`)), badJson.stderr);
    assert.deepEqual(jsonLines(badJson.stderr).at(-1), jsonLines(badTheirs.stderr).at(-1), 'restic\'s exit_error message last');
  });

  it('--quiet/-q: nothing on stdout, as restic', async () => {
    for (const args of [['check', '-q'], ['forget', '--quiet', '--dry-run', '--keep-last', '1'], ['prune', '-q', '--dry-run'], ['unlock', '-q']]) {
      const o = ok(await ours(path, args), args.join(' '));
      assert.equal(o.stdout, '', args.join(' '));
      // (The helper runs restic with --no-cache, which prune warns about even when quiet.)
      assert.equal(o.stdout, ok(await theirs(path, args), `restic ${args.join(' ')}`).stdout.replace(/^warning: running prune without a cache.*\n/m, ''), args.join(' '));
    }
    assert.equal(ok(await ours(`${path}-quiet`, ['init', '-q']), 'init -q').stdout, '');
    assert.equal(ok(await ours(`${path}-quiet`, ['backup', '-q', '--stdin-filename', 'q.sql'], 'q\n'), 'backup -q').stdout, '');
    assert.equal(jsonLines(ok(await ours(`${path}-quiet`, ['backup', '-q', '--json', '--stdin-filename', 'q.sql'], 'q\n'), 'backup -q --json').stdout)[0]!.message_type, 'summary', 'restic 0.19 prints the summary with --json --quiet');
  });

  it('snapshots: restic 0.19.1\'s table, byte for byte', async () => {
    const o = ok(await ours(path, ['snapshots']), 'snapshots');
    assert.equal(o.stdout, ok(await theirs(path, ['snapshots']), 'restic snapshots').stdout);
    assert.match(o.stdout, /\nTimestamps shown in UTC\n\d+ snapshots\n$/);
  });

  it('unlock: nothing when there is no lock, as restic; --json: the count', async () => {
    const o = ok(await ours(path, ['unlock']), 'unlock');
    const t = ok(await theirs(path, ['unlock']), 'restic unlock');
    assert.equal(o.stdout, t.stdout);
    assert.equal(o.stdout, '');
    assert.deepEqual(jsonLines(ok(await ours(path, ['unlock', '--json']), 'unlock --json').stdout), [{ message_type: 'summary', removed_locks: 0 }]);
  });

  it('forget on a terminal: restic\'s last progress line; through pipes none (see prune\'s test)', async () => {
    const r = await runCliOnTerminal(['repo', 'forget', '--keep-last', '1', '--host', 'db-0'], { env: { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD, TZ } });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /remove 1 snapshots:\r\n/);
    assert.match(r.output, /\r\n\[\d+:\d\d\] 100\.00%  1 \/ 1 files deleted\r\n/);
  });
});
