// The real `sidestash repo` CLI next to the real restic 0.14: restic's unlock (which sends
// SIGHUP to same-host lock holders) does not kill a running backup, a running dump holds a
// shared lock that restic's prune respects, and location/password/--keep-* are read as
// restic reads them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { RepositoryLock } from '../common/repository/lock.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { blockStream, plan } from './helpers/data.ts';
import { heldLocks } from './helpers/locks.ts';
import { restic, resticIn, sha256Of } from './helpers/restic.ts';
import { waitFor } from './helpers/scenario.ts';
import { tempDir } from './helpers/tmp.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'sidestash.ts');
const PASSWORD = 'secret pw';
const MiB = 1024 * 1024;
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** `sidestash repo ARGS` with only the given RESTIC_* variables set. */
function sidestash(args: string[], env: Record<string, string>, stdio: ('pipe' | 'ignore')[] = ['ignore', 'pipe', 'pipe'], collectStdout = true): Run {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RESTIC_')));
  const child = spawn(process.execPath, [CLI, 'repo', ...args], { env: { ...clean, ...env }, stdio: stdio as ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  if (collectStdout) child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function lockCount(path: string): Promise<number> {
  return (await readdir(join(path, 'locks'))).length;
}

describe('restic-exact locks and credentials, real processes', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    // A failed assertion must not leave a blocked dump behind.
    for (const child of running) child.kill('SIGKILL');
    await dir.cleanup();
  });

  it('restic unlock (SIGHUP to a same-host lock holder) neither kills a running sidestash backup nor removes its lock', async () => {
    const path = join(dir.path, 'sighup');
    await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const run = sidestash(['backup', '--json', '--stdin-filename', 'dumpfile.sql'], { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD }, ['pipe', 'pipe', 'pipe']);
    const blocks = plan('sighup', 4 * MiB);
    const data = Buffer.concat(await blockStream(blocks).toArray());
    run.child.stdin!.write(data.subarray(0, MiB));
    await waitFor('the backup to hold its lock', 60_000, async () => ((await heldLocks(path)).length > 0 ? true : undefined));
    const unlock = await restic(path, PASSWORD, ['unlock']);
    assert.equal(unlock.code, 0, unlock.stderr);
    assert.equal(await lockCount(path), 1, 'the live backup\'s lock stays');
    // restic probes a same-host holder with SIGHUP: the process ignores it.
    run.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(run.child.exitCode, null, 'a SIGHUP does not end the backup');
    run.child.stdin!.end(data.subarray(MiB));
    const { code, signal } = await run.exited;
    // Deno's child_process reports a child that outlived a signal sent to it as killed by that
    // signal (seen with a plain script too); the snapshot the backup printed and stored proves
    // it ran to the end.
    if (!('Deno' in globalThis)) {
      assert.equal(signal, null, `killed by ${signal}: ${run.stderr()}`);
      assert.equal(code, 0, run.stderr());
    }
    const { snapshot_id: snapshotId } = JSON.parse(run.stdout()) as { snapshot_id: string };
    const snaps = await restic(path, PASSWORD, ['snapshots', '--json']);
    assert.deepEqual((JSON.parse(snaps.stdout) as { id: string }[]).map((s) => s.id), [snapshotId]);
    assert.equal(await lockCount(path), 0);
  });

  it('restic in another PID namespace of the same host (a sibling container) neither removes nor ignores a live sidestash lock', async () => {
    const path = join(dir.path, 'pidns');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    await writeSnapshot(repo, blockStream(plan('pidns', MiB)), { filename: 'dumpfile.sql' });
    // Run restic in a new PID namespace (as root: unshare), where this process's PID is not visible.
    const sibling = (args: string[]) => resticIn(['unshare', '--pid', '--fork', '--mount-proc'], path, PASSWORD, args);
    const held = await RepositoryLock.acquire(repo, false);
    try {
      const unlock = await sibling(['unlock']);
      assert.equal(unlock.code, 0, unlock.stderr);
      assert.equal(await lockCount(path), 1, 'the live lock stays');
      const prune = await sibling(['prune']);
      assert.notEqual(prune.code, 0, 'restic prune does not run under the live lock');
      assert.match(prune.stderr, /locked/);
      // Control: the same lock with the bare host name, as restic writes it, is taken for stale there.
      const bare = await repo.saveJson('locks', { time: new Date().toISOString(), exclusive: false, hostname: hostname(), username: 'x', pid: process.pid });
      const again = await sibling(['unlock']);
      assert.equal(again.code, 0, again.stderr);
      assert.ok(!(await readdir(join(path, 'locks'))).includes(bare), 'restic removes a bare-hostname lock whose PID it cannot see');
      assert.equal(await lockCount(path), 1);
    } finally {
      await held.release();
    }
  });

  it('a running dump holds a shared lock: restic prune and sidestash prune are refused until it ends', async () => {
    const path = join(dir.path, 'dump-lock');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const blocks = plan('dump-lock', 16 * MiB);
    await writeSnapshot(repo, blockStream(blocks), { filename: 'dumpfile.sql' });
    // A consumer that reads nothing yet: the dump blocks on a full pipe, lock held.
    const dump = sidestash(['dump', 'latest'], { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD }, ['ignore', 'pipe', 'pipe'], false);
    await waitFor('the dump to hold its lock', 60_000, async () => ((await heldLocks(path)).length > 0 ? true : undefined));
    const resticPrune = await restic(path, PASSWORD, ['prune']);
    assert.notEqual(resticPrune.code, 0, resticPrune.stdout);
    assert.match(resticPrune.stderr, /locked/);
    const ourPrune = sidestash(['prune'], { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD });
    assert.equal((await ourPrune.exited).code, 11, 'restic\'s exit status for "failed to lock"');
    assert.match(ourPrune.stderr(), /SIDESTASH_REPOSITORY_LOCKED/);
    const got = await sha256Of(dump.child.stdout!);
    assert.equal((await dump.exited).code, 0, dump.stderr());
    assert.equal(got.sha256, (await sha256Of(blockStream(blocks))).sha256);
    assert.equal(await lockCount(path), 0);
    const after = await restic(path, PASSWORD, ['prune']);
    assert.equal(after.code, 0, after.stderr);
  });

  it('password files, RESTIC_PASSWORD_COMMAND and RESTIC_REPOSITORY_FILE are read as restic reads them; --keep-* takes "unlimited" and -1 (also as its own word)', async () => {
    const path = join(dir.path, 'creds');
    await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const pwFile = join(dir.path, 'pw');
    // A UTF-8 byte order mark and white space around (a Secret edited on Windows, a trailing newline).
    await writeFile(pwFile, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`  ${PASSWORD} \t\r\n`)]));
    const repoFile = join(dir.path, 'repo-location');
    await writeFile(repoFile, `  ${path}\n`);
    const command = `sh -c 'echo "  ${PASSWORD}  "'`;
    const cases: [string, Record<string, string>, string[]][] = [
      ['RESTIC_PASSWORD_FILE', { RESTIC_REPOSITORY: path, RESTIC_PASSWORD_FILE: pwFile }, []],
      ['--password-file', { RESTIC_REPOSITORY: path }, ['--password-file', pwFile]],
      ['RESTIC_PASSWORD_COMMAND', { RESTIC_REPOSITORY: path, RESTIC_PASSWORD_COMMAND: command }, []],
      ['RESTIC_REPOSITORY_FILE', { RESTIC_REPOSITORY_FILE: repoFile, RESTIC_PASSWORD: PASSWORD }, []],
    ];
    for (const [name, env, flags] of cases) {
      // restic itself accepts the same settings...
      const r = spawn('restic', ['--no-cache', ...flags, 'snapshots'], { env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RESTIC_'))), ...env }, stdio: 'ignore' });
      assert.equal(await new Promise((resolve) => r.once('close', resolve)), 0, `restic with ${name}`);
      // ...and so does sidestash.
      const run = sidestash([...flags, 'snapshots'], env);
      assert.equal((await run.exited).code, 0, `${name}: ${run.stderr()}`);
    }
    const both = sidestash(['snapshots'], { RESTIC_REPOSITORY: path, RESTIC_PASSWORD_FILE: pwFile, RESTIC_PASSWORD_COMMAND: command });
    assert.equal((await both.exited).code, 2);
    assert.match(both.stderr(), /mutually exclusive/);
    const failing = sidestash(['snapshots'], { RESTIC_REPOSITORY: path, RESTIC_PASSWORD_COMMAND: 'false' });
    assert.equal((await failing.exited).code, 2);

    await writeSnapshot(await Repository.open(new LocalBackend(path), PASSWORD), blockStream(plan('keep', MiB)), { filename: 'dumpfile.sql' });
    const removed = (stdout: string): unknown[] => (JSON.parse(stdout) as { remove: unknown[] | null }[]).flatMap((g) => g.remove ?? []);
    const forget = sidestash(['forget', '--json', '--keep-last', 'unlimited', '--keep-daily', '1'], { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD });
    assert.equal((await forget.exited).code, 0, forget.stderr());
    assert.deepEqual(removed(forget.stdout()), []);
    // -1 as its own word, as restic (pflag) takes it and README.md writes it.
    const minusOne = ['forget', '--keep-last', '-1', '--keep-daily', '1', '--dry-run'];
    const byRestic = await restic(path, PASSWORD, minusOne);
    assert.equal(byRestic.code, 0, byRestic.stderr);
    const spaced = sidestash([...minusOne, '--json'], { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD });
    assert.equal((await spaced.exited).code, 0, spaced.stderr());
    assert.deepEqual(removed(spaced.stdout()), []);
    const minusTwo = sidestash(['forget', '--keep-last', '-2', '--dry-run'], { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD });
    assert.equal((await minusTwo.exited).code, 2);
    assert.match(minusTwo.stderr(), /--keep-last must be a non-negative integer or \\"unlimited\\", not \\"-2\\"/);
    for (const bad of ['-2', '', '1.5', '0x10', 'all']) {
      const run = sidestash(['forget', `--keep-last=${bad}`, '--dry-run'], { RESTIC_REPOSITORY: path, RESTIC_PASSWORD: PASSWORD });
      assert.equal((await run.exited).code, 2, `--keep-last ${JSON.stringify(bad)}`);
    }
  });
});
