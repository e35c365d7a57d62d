// Our snapshots under restic 0.19.1's rewrite and repair (which re-encode every tree and
// compare ids), with restic's summary, and group-readable local repositories as restic
// makes them. Needs restic 0.14 on PATH and .tools/bin/restic-0.19.1 (scripts/setup.sh).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { blockStream, plan } from './helpers/data.ts';
import { RESTIC_0_19, restic, runRestic } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'sidestash.ts');
const PASSWORD = 'pw-rewrite';
const MiB = 1024 * 1024;
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };

/** `sidestash repo backup` in a given time zone, stdin from a generated stream (or empty). */
async function cliBackup(path: string, tz: string, filename: string, sizeBytes: number): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'repo', 'backup', '--stdin-filename', filename], {
    env: { ...process.env, TZ: tz, RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  blockStream(plan(filename, sizeBytes), sizeBytes).pipe(child.stdin!);
  assert.equal(await exited, 0, stderr);
}

interface ListedSnapshot {
  id: string;
  tree: string;
  time: string;
  summary?: { files_new: number; total_files_processed: number; total_bytes_processed: number; data_blobs: number; tree_blobs: number; backup_start: string; backup_end: string; data_added: number };
}

async function snapshots(bin: string, path: string): Promise<ListedSnapshot[]> {
  const r = await runRestic(bin, path, PASSWORD, ['snapshots', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as ListedSnapshot[]).sort((a, b) => a.id.localeCompare(b.id));
}

describe('restic 0.19.1 rewrite and repair leave our snapshots alone', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it('rewrite and repair snapshots find nothing to change; summaries are there; restic 0.14 and 0.19.1 check --read-data pass', async () => {
    const path = join(dir.path, 'rewrite');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const sizes = new Map<string, number>();
    const one = await writeSnapshot(repo, blockStream(plan('in-process', 3 * MiB)), { filename: 'dumpfile.sql', time: new Date('2026-01-01T10:00:00.120Z') });
    sizes.set(one.snapshotId, 3 * MiB);
    // Other zones (UTC is written "Z", +05:30 as such), a name Go's quoting and HTML escaping change, an empty stream.
    await cliBackup(path, 'UTC', 'empty.sql', 0);
    await cliBackup(path, 'Asia/Kolkata', 'db <&> "q"\\x.sql', MiB + 17);
    await cliBackup(path, 'America/St_Johns', 'dumpfile.sql', 2 * MiB);
    const before = await snapshots(RESTIC_0_19, path);
    assert.equal(before.length, 4);

    const rewrite = await runRestic(RESTIC_0_19, path, PASSWORD, ['rewrite', '--exclude', '/nonexistent']);
    assert.equal(rewrite.code, 0, rewrite.stderr + rewrite.stdout);
    assert.doesNotMatch(rewrite.stderr + rewrite.stdout, /cannot encode|saved new snapshot/);
    assert.deepEqual(await snapshots(RESTIC_0_19, path), before);

    const repair = await runRestic(RESTIC_0_19, path, PASSWORD, ['repair', 'snapshots']);
    assert.equal(repair.code, 0, repair.stderr + repair.stdout);
    assert.match(repair.stdout, /no snapshots were modified/);
    assert.deepEqual(await snapshots(RESTIC_0_19, path), before);

    for (const s of before) {
      assert.ok(s.summary, `snapshot ${s.id} has a summary`);
      assert.equal(s.summary.files_new, 1);
      assert.equal(s.summary.total_files_processed, 1);
      assert.equal(s.summary.tree_blobs, 1);
      assert.ok(Date.parse(s.summary.backup_end) >= Date.parse(s.summary.backup_start));
      if (sizes.has(s.id)) assert.equal(s.summary.total_bytes_processed, sizes.get(s.id));
    }
    for (const bin of ['restic', RESTIC_0_19]) {
      const chk = await runRestic(bin, path, PASSWORD, ['check', '--read-data']);
      assert.equal(chk.code, 0, `${bin}: ${chk.stderr}${chk.stdout}`);
      assert.match(chk.stdout, /no errors were found/);
    }
  });

  it('a repository whose config is group-readable gets group-readable files (0440) and directories, as restic 0.14 makes them', async () => {
    const path = join(dir.path, 'group');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const first = await writeSnapshot(repo, blockStream(plan('private', MiB)), { filename: 'dumpfile.sql' });
    assert.equal((await stat(join(path, 'snapshots', first.snapshotId))).mode & 0o777, 0o400);
    await chmod(join(path, 'config'), 0o440);
    await rm(join(path, 'locks'), { recursive: true });
    const backend = new LocalBackend(path);
    await backend.create();
    assert.equal((await stat(join(path, 'locks'))).mode & 0o050, 0o050, 'group may list new directories');
    const ours = await writeSnapshot(await Repository.open(backend, PASSWORD), blockStream(plan('group', MiB)), { filename: 'dumpfile.sql' });
    assert.equal((await stat(join(path, 'snapshots', ours.snapshotId))).mode & 0o777, 0o440);
    const r = await restic(path, PASSWORD, ['backup', '--stdin', '--stdin-filename', 'restic.sql'], blockStream(plan('restic', MiB)));
    assert.equal(r.code, 0, r.stderr);
    for (const name of await readdir(join(path, 'snapshots'))) {
      if (name === first.snapshotId) continue;
      assert.equal((await stat(join(path, 'snapshots', name))).mode & 0o777, 0o440, `snapshots/${name}`);
    }
  });
});
