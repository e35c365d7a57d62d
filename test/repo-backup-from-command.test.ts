// `sidestash repo backup --stdin-from-command -- mariadb-dump ...`, as restic >= 0.17 has it,
// through the real CLI process against a real MariaDB: the command's output is stored and
// restic reads it back byte for byte; a command that fails (access denied, an exit after
// partial output, killed, not found) stores no snapshot and leaves no lock, and restic 0.19.1
// given the same words stores none either. A pipe into `repo backup` cannot know: README.md's
// "Working with a repository directly" uses --stdin-from-command for that reason.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { runCliProcess } from './helpers/cli-process.ts';
import type { CliResult } from './helpers/cli-process.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { RESTIC_0_19, restic, runRestic } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'repo-backup-from-command-password';
let db: MariaDB;
let tmp: { path: string; cleanup: () => Promise<void> };
let path: string;

const repo = (args: string[], input?: string): Promise<CliResult> =>
  runCliProcess(['repo', ...args], { env: { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD }, ...(input === undefined ? {} : { input }) });

const dumpArgs = (): string[] => ['--no-defaults', '-uroot', `--socket=${db.socket}`, '--skip-dump-date', '--databases', 'shop'];

async function snapshotIds(): Promise<string[]> {
  const r = await repo(['snapshots', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { id: string }[]).map((s) => s.id).sort();
}

before(async () => {
  [db, tmp] = await Promise.all([startMariaDB(), tempDir()]);
  await db.sql("CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name TEXT); INSERT INTO shop.items VALUES (1, 'one'), (2, 'two');");
  path = join(tmp.path, 'repo');
  const init = await repo(['init']);
  assert.equal(init.code, 0, init.stderr);
});
after(async () => {
  await db?.stop();
  await tmp?.cleanup();
});

describe('repo backup --stdin-from-command', () => {
  it('stores the command\'s output; restic reads back what mariadb-dump writes', async () => {
    const stored = await repo(['backup', '--stdin-filename', 'dumpfile.sql', '--stdin-from-command', '--', 'mariadb-dump', ...dumpArgs()]);
    assert.equal(stored.code, 0, stored.stderr);
    const direct = (await promisify(execFile)('mariadb-dump', dumpArgs(), { maxBuffer: 64 * 1024 * 1024 })).stdout;
    assert.match(direct, /INSERT INTO `items` VALUES\n\(1,'one'\),\n\(2,'two'\);/);
    const back = await restic(path, PASSWORD, ['dump', 'latest', '/dumpfile.sql']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, direct);
    assert.equal((await snapshotIds()).length, 1);
  });

  it('a command that fails stores no snapshot and leaves no lock, as with restic 0.19.1', async () => {
    const before = await snapshotIds();
    const cases: [string, string[], RegExp][] = [
      ['mariadb-dump refused by the server', ['mariadb-dump', '--no-defaults', '-unobody-here', `--socket=${db.socket}`, '--all-databases'], /"mariadb-dump" exited with code 2/],
      ['partial output, then a non-zero exit', ['sh', '-c', 'printf "CREATE TABLE half"; exit 3'], /"sh" exited with code 3/],
      ['partial output, then killed', ['sh', '-c', 'printf "CREATE TABLE half"; kill -TERM $$'], /"sh" was killed by SIGTERM/],
      ['a command that does not exist', [join(tmp.path, 'no-such-command')], /cannot run .*no-such-command/],
    ];
    for (const [name, command, message] of cases) {
      const r = await repo(['backup', '--stdin-filename', 'dumpfile.sql', '--stdin-from-command', '--', ...command]);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      const line = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { code: string; msg: string };
      assert.equal(line.code, 'SIDESTASH_SUBPROCESS_FAILED', name);
      assert.match(line.msg, message, name);
      assert.match(line.msg, /no snapshot was stored/, name);
      assert.deepEqual(await snapshotIds(), before, `${name}: no snapshot`);
      assert.deepEqual(await readdir(join(path, 'locks')), [], `${name}: no lock left`);
      // restic 0.19.1's --stdin-from-command, given the same words, stores nothing either.
      const byRestic = await runRestic(RESTIC_0_19, path, PASSWORD, ['backup', '--stdin-filename', 'dumpfile.sql', '--stdin-from-command', '--', ...command]);
      assert.notEqual(byRestic.code, 0, `${name}: restic 0.19.1 failed too`);
      assert.deepEqual(await snapshotIds(), before, `${name}: restic stored none either`);
    }
    // Without --stdin-from-command the same partial output, piped in, is stored: nothing can tell.
    const piped = await repo(['backup', '--stdin-filename', 'dumpfile.sql'], 'CREATE TABLE half');
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal((await snapshotIds()).length, before.length + 1);
  });

  it('needs the command after the options (usage error)', async () => {
    const r = await repo(['backup', '--stdin-from-command']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--stdin-from-command needs the command after the options/);
  });
});
