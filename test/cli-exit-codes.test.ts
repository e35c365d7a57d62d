// The CLI's exit status through the real process: 0, 1, 2 (usage), 130 (SIGINT), and restic's
// 10 (no repository), 11 (failed to lock) and 12 (wrong password) for `sidestash repo`.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { RepositoryLock } from '../common/repository/lock.ts';
import { Repository } from '../common/repository/repository.ts';
import { cleanEnv, cliCommandLine, runCliProcess, shellQuote } from './helpers/cli-process.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'exit-codes-password';
let tmp: { path: string; cleanup: () => Promise<void> };
let repoPath: string;
const env = () => ({ RESTIC_REPOSITORY: repoPath, RESTIC_PASSWORD: PASSWORD });

before(async () => {
  tmp = await tempDir('sidestash-exit-');
  repoPath = join(tmp.path, 'repo');
  assert.equal((await runCliProcess(['repo', 'init'], { env: env() })).code, 0);
  assert.equal((await runCliProcess(['repo', 'backup', '--stdin-filename', 'a.sql'], { env: env(), input: 'data\n' })).code, 0);
  // Far more than a pipe holds, so that dump is still writing when the reader goes.
  const big = Buffer.from(`${'INSERT INTO t VALUES (1, "row");\n'.repeat(1 << 20)}`);
  assert.equal((await runCliProcess(['repo', 'backup', '--stdin-filename', 'big.sql'], { env: env(), input: big })).code, 0);
});
after(() => tmp?.cleanup());

describe('exit codes', () => {
  it('0 on success', async () => {
    const r = await runCliProcess(['repo', 'snapshots'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
  });

  it('1 on a failure', async () => {
    const r = await runCliProcess(['repo', 'dump', 'latest', 'nosuch.sql'], { env: env() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /SIDESTASH_PATH_NOT_FOUND/);
  });

  it('2 on a usage error', async () => {
    for (const args of [['repo', '--nosuch'], ['repo', 'snapshots', '--keep-last'], ['nosuchcommand'], ['get', 'nosuchkind'], ['repo', 'forget', '--keep-last', 'x']]) {
      const r = await runCliProcess(args, { env: { ...env(), SIDESTASH_ADMIN_TOKEN: 'x'.repeat(32) } });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('10 when the repository does not exist', async () => {
    const r = await runCliProcess(['repo', 'snapshots'], { env: { ...env(), RESTIC_REPOSITORY: join(tmp.path, 'nothing-here') } });
    assert.equal(r.code, 10, r.stderr);
    assert.match(r.stderr, /SIDESTASH_NOT_A_REPOSITORY/);
  });

  it('12 on a wrong password', async () => {
    const r = await runCliProcess(['repo', 'snapshots'], { env: { ...env(), RESTIC_PASSWORD: 'not-the-password' } });
    assert.equal(r.code, 12, r.stderr);
  });

  it('11 when the repository is locked', async () => {
    const repo = await Repository.open(new LocalBackend(repoPath), PASSWORD);
    const lock = await RepositoryLock.acquire(repo, true);
    try {
      for (const args of [['check'], ['prune'], ['dump', 'latest', 'a.sql']]) {
        const r = await runCliProcess(['repo', ...args], { env: env() });
        assert.equal(r.code, 11, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /SIDESTASH_REPOSITORY_LOCKED/);
      }
    } finally {
      await lock.release();
    }
    assert.equal((await runCliProcess(['repo', 'check'], { env: env() })).code, 0, 'unlocked again');
  });

  it('the restic codes are for `repo` only: other commands fail with 1', async () => {
    const r = await runCliProcess(['snapshots', 'r'], { env: { SIDESTASH_ADMIN_TOKEN: 'x'.repeat(32), SIDESTASH_URL: 'https://127.0.0.1:1' } });
    assert.equal(r.code, 1, r.stderr);
  });

  it('130 when interrupted (SIGINT), leaving no lock behind', async () => {
    // Through sh, which reports the CLI's own exit status (a runtime's child_process may report
    // a signal it sent instead of the status the process chose).
    const sh = spawn('sh', ['-c', '"$@"; echo "exit status $?" >&2', 'sh', ...cliCommandLine(), 'repo', 'backup', '--stdin-filename', 'b.sql'], { env: cleanEnv(env()), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    sh.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => sh.once('close', () => resolve()));
    sh.stdin.write('partial dump, the rest never comes\n');
    // Interrupt once the backup holds its lock (it is reading standard input by then).
    while ((await readdir(join(repoPath, 'locks'))).length === 0) await new Promise((r) => setTimeout(r, 20));
    const cli = Number((await readFile(`/proc/${sh.pid}/task/${sh.pid}/children`, 'utf8')).trim().split(/\s+/)[0]);
    process.kill(cli, 'SIGINT');
    await exited;
    sh.stdin.destroy();
    assert.match(stderr, /exit status 130\n$/, stderr);
    assert.deepEqual(await readdir(join(repoPath, 'locks')), []);
  });
});

describe('a reader that closes the pipe early', () => {
  it('`repo dump latest big.sql | head -c 100` ends quietly with 0 and leaves no lock', async () => {
    const cmd = `${[...cliCommandLine(), 'repo', 'dump', 'latest', 'big.sql'].map(shellQuote).join(' ')} 2>"$ERR" | head -c 100; echo "$?:\${PIPESTATUS[0]}"`;
    const errFile = join(tmp.path, 'dump.err');
    const { stdout } = await promisify(execFile)('bash', ['-c', cmd], { env: cleanEnv({ ...env(), ERR: errFile }) });
    assert.equal(stdout.slice(0, 100), 'INSERT INTO t VALUES (1, "row");\n'.repeat(4).slice(0, 100));
    assert.equal(stdout.slice(100).trim(), '0:0', 'head and sidestash both exit 0');
    assert.equal(await readFile(errFile, 'utf8'), '', 'nothing on stderr');
    assert.deepEqual(await readdir(join(repoPath, 'locks')), []);
  });
});
