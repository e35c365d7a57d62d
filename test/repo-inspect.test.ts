// `sidestash repo snapshots|stats|ls|key|version` through the CLI process, against restic 0.14
// on the same repository: the same rows, the same numbers, the same listings, and keys that
// restic accepts (a key added by sidestash opens the repository for restic; a removed one no
// longer does).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { restic } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'sidestash.ts');
const PASSWORD = 'inspect-password';
const TZ = 'America/New_York';

function sidestash(args: string[], env: Record<string, string>, stdinFile?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RESTIC_')));
    const child = spawn(process.execPath, [CLI, 'repo', ...args], { env: { ...clean, TZ, ...env }, stdio: [stdinFile ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (stdinFile) createReadStream(stdinFile).pipe(child.stdin!);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('repo snapshots, stats, ls, key and version, as restic has them', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let path: string;
  let env: Record<string, string>;
  const rs = (args: string[], password = PASSWORD) => restic(path, password, args, undefined, { TZ });

  before(async () => {
    dir = await tempDir();
    path = join(dir.path, 'repo');
    env = { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD };
    assert.equal((await sidestash(['init'], env)).code, 0);
    const data = join(dir.path, 'dump.sql');
    await writeFile(data, Buffer.alloc(700_000, 'INSERT INTO t VALUES (1);\n'));
    const ours = await sidestash(['backup', '--stdin-filename', 'dump.sql', '--host', 'db-0', '--tag', 'invoker=nightly', '--tag', 'namespace=default'], env, data);
    assert.equal(ours.code, 0, ours.stderr);
    const theirs = await restic(path, PASSWORD, ['backup', '--stdin', '--stdin-filename', 'other.sql', '--host', 'h1', '--tag', 'a,b'], createReadStream(data));
    assert.equal(theirs.code, 0, theirs.stderr);
  });
  after(async () => dir?.cleanup());

  const rows = (text: string): string[][] => text.split('\n').filter((l) => /^[0-9a-f]{8} /.test(l)).map((l) => l.split(/\s{2,}/));

  it('snapshots: a table with restic\'s rows (and the size), JSON with --json', async () => {
    const ours = await sidestash(['snapshots'], env);
    assert.equal(ours.code, 0, ours.stderr);
    const theirs = await rs(['snapshots']);
    assert.match(ours.stdout, /^ID +Time +Host +Tags +Paths +Size\n-+\n/);
    assert.match(ours.stdout, /\n-+\nTimestamps shown in America\/New_York\n2 snapshots\n$/);
    const ourRows = rows(ours.stdout);
    assert.equal(ourRows.length, 2);
    assert.deepEqual(ourRows.map((r) => r.slice(0, 5)), rows(theirs.stdout).map((r) => r.slice(0, 5)), `${ours.stdout}\n${theirs.stdout}`);
    assert.equal(ourRows[0]![5], '683.594 KiB', 'the size of the backup sidestash wrote (restic 0.14 writes no summary)');
    const json = JSON.parse((await sidestash(['snapshots', '--json'], env)).stdout) as { id: string; hostname: string }[];
    assert.deepEqual(json.map((s) => s.hostname).sort(), ['db-0', 'h1']);
  });

  it('stats: the numbers restic computes, in both modes, in text and JSON', async () => {
    for (const mode of ['restore-size', 'raw-data']) {
      const ours = await sidestash(['stats', '--mode', mode, '--json'], env);
      assert.equal(ours.code, 0, ours.stderr);
      assert.deepEqual(JSON.parse(ours.stdout), JSON.parse((await rs(['stats', '--mode', mode, '--json'])).stdout), mode);
      const text = await sidestash(['stats', '--mode', mode], env);
      const resticText = (await rs(['stats', '--mode', mode])).stdout.split('\n').filter((l) => l !== 'scanning...').join('\n');
      assert.equal(text.stdout, resticText, mode);
    }
    const one = await sidestash(['stats', 'latest', '--json'], env);
    assert.deepEqual(JSON.parse(one.stdout), JSON.parse((await rs(['stats', 'latest', '--json'])).stdout));
    assert.equal((await sidestash(['stats', '--mode', 'files-by-contents'], env)).code, 2);
  });

  it('ls: restic\'s listing, long listing and JSON lines, of snapshots both wrote', async () => {
    const snaps = JSON.parse((await sidestash(['snapshots', '--json'], env)).stdout) as { id: string }[];
    for (const s of snaps) {
      for (const flags of [[], ['-l']]) {
        const ours = await sidestash(['ls', ...flags, s.id.slice(0, 8)], env);
        assert.equal(ours.code, 0, ours.stderr);
        assert.equal(ours.stdout, (await rs(['ls', ...flags, s.id.slice(0, 8)])).stdout, `ls ${flags.join(' ')} ${s.id}`);
      }
      const ours = (await sidestash(['ls', '--json', s.id], env)).stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
      const theirs = (await rs(['ls', '--json', s.id])).stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
      assert.deepEqual(ours, theirs);
    }
    assert.equal((await sidestash(['ls'], env)).code, 2);
  });

  it('key list, add and remove: restic reads the repository with the added password, and no longer with a removed one', async () => {
    const list = async () => JSON.parse((await sidestash(['key', 'list', '--json'], env)).stdout) as { id: string; current: boolean }[];
    assert.deepEqual(await list(), JSON.parse((await rs(['key', 'list', '--json'])).stdout));
    const pwFile = join(dir.path, 'new-password');
    await writeFile(pwFile, 'second password\n');
    const added = await sidestash(['key', 'add', '--new-password-file', pwFile], env);
    assert.equal(added.code, 0, added.stderr);
    const id = /^saved new key with ID ([0-9a-f]{64})\n$/.exec(added.stdout)?.[1];
    assert.ok(id, added.stdout);
    const withNew = await rs(['snapshots', '--json'], 'second password');
    assert.equal(withNew.code, 0, withNew.stderr);
    assert.equal((JSON.parse(withNew.stdout) as unknown[]).length, 2);
    const keys = await list();
    assert.equal(keys.length, 2);
    assert.deepEqual(keys.filter((k) => k.current).length, 1);
    assert.ok(keys.some((k) => k.id === id.slice(0, 8) && !k.current));
    const table = (await sidestash(['key', 'list'], env)).stdout;
    assert.match(table, /^ ID +User +Host +Created\n-+\n/);
    assert.match(table, /^\*[0-9a-f]{8} /m, 'the current key marked');
    assert.match(table, new RegExp(`^ ${id.slice(0, 8)} `, 'm'));

    // The key in use is not removed; the other one is, by a prefix.
    const current = keys.find((k) => k.current)!.id;
    const refused = await sidestash(['key', 'remove', current], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing to remove key currently used/);
    const removed = await sidestash(['key', 'remove', id.slice(0, 10)], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, `removed key ${id}\n`);
    assert.notEqual((await rs(['snapshots'], 'second password')).code, 0, 'restic no longer opens it with the removed password');
    assert.equal((await rs(['snapshots'])).code, 0);
    assert.equal((await sidestash(['key', 'remove', 'ffff'], env)).code, 1);
    assert.equal((await sidestash(['key', 'add'], env)).code, 2, 'add needs a new password');
  });

  it('version needs no repository', async () => {
    const v = await sidestash(['version'], {});
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^sidestash \d+\.\d+\.\d+ compiled with (node|deno) \S+ on \w+\/\w+/);
  });
});
