// The agent's backup and restore runners against a real MariaDB: credentials stay out of argv,
// failed or truncated dumps store no snapshot, progress carries rate and ETA.
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import type { AgentConfig } from '../agent/config.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { DUMP_STDOUT_BUFFER, resolveStdbuf } from '../agent/stdbuf.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, SessionProgress } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { DB_PASSWORD, DB_USER, checksums, createShop } from './helpers/shop-db.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });
const REPO_PASSWORD = 'agent-test-repository';

/** A database big enough that a restore is still streaming after its first progress report. */
async function createBig(db: MariaDB): Promise<void> {
  await db.sql('CREATE DATABASE big; CREATE TABLE big.t (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB;');
  await db.sql('INSERT INTO t SELECT seq, REPEAT(MD5(seq), 6) FROM seq_1_to_200000;', 'big');
}

describe('agent backup and restore runners', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let config: AgentConfig;
  const assignment = (over: Partial<BackupAssignment> = {}, repo = 'repo'): BackupAssignment => ({
    kind: 'BackupSession', namespace: 'default', name: `s-${Math.random().toString(36).slice(2, 8)}`, invoker: 'cfg', target: 'default/db', repositoryName: 'repo',
    database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
    repository: { location: `local:${join(dir.path, repo)}`, password: REPO_PASSWORD, credentials: {} },
    dumpArgs: ['--all-databases', '--single-transaction'], snapshotHost: 'db', filename: 'dumpfile.sql', ...over,
  });
  const hooks = (progress: SessionProgress[] = []) => ({ signal: new AbortController().signal, log, onProgress: (p: SessionProgress) => progress.push(p) });
  const snapshotsIn = async (repo: string) => listSnapshots(await Repository.open(new LocalBackend(join(dir.path, repo)), REPO_PASSWORD));

  /** A mariadb-dump stand-in that records its argv and option file, then runs `body`. */
  async function fakeDump(name: string, body: string): Promise<string> {
    const path = join(dir.path, `${name}.sh`);
    await writeFile(path, `#!/bin/sh\necho "$@" > ${dir.path}/${name}.argv\nfor a in "$@"; do case "$a" in --defaults-extra-file=*) f="\${a#--defaults-extra-file=}"; stat -c %a "$f" > ${dir.path}/${name}.mode; cp "$f" ${dir.path}/${name}.cnf;; esac; done\necho "$_STDBUF_O" > ${dir.path}/${name}.stdbuf\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 40_000);
    config = testAgentConfig(dir.path, { progressIntervalMs: 50 });
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  it('backs up with credentials only in a private option file, reports progress with an ETA, applies retention', async () => {
    const dump = await fakeDump('spy', 'exec mariadb-dump "$@"');
    const progress: SessionProgress[] = [];
    // Only the test's databases and no dump date: an unchanged database dumps byte-identically
    // (--all-databases would include InnoDB statistics, whose timestamps move on their own).
    const dumpArgs = ['--databases', 'shop', 'crm', '--single-transaction', '--skip-dump-date'];
    const a = assignment({ dumpArgs, retentionPolicy: { keepLast: 1, prune: true, dryRun: false } });
    // Through coreutils' stdbuf, as the agent runs it wherever stdbuf is installed.
    const stdbufPath = resolveStdbuf('auto', process.env.PATH);
    assert.ok(stdbufPath, 'stdbuf (coreutils) is installed');
    const first = await runBackup({ ...config, mariadbDumpPath: dump, stdbufPath }, a, hooks(progress));
    assert.equal(first.phase, 'Succeeded');
    assert.equal((await readFile(join(dir.path, 'spy.stdbuf'), 'utf8')).trim(), DUMP_STDOUT_BUFFER, 'mariadb-dump ran with a larger stdout buffer');
    const argv = await readFile(join(dir.path, 'spy.argv'), 'utf8');
    assert.ok(!argv.includes(DB_PASSWORD) && !/--user|--password/.test(argv), argv);
    assert.equal((await readFile(join(dir.path, 'spy.mode'), 'utf8')).trim(), '600');
    assert.match(await readFile(join(dir.path, 'spy.cnf'), 'utf8'), /password="p@ss\\"w\\\\ord #1;"/);
    assert.deepEqual((await readdir(dir.path)).filter((f) => f.startsWith('sidestash-')), [], 'option file removed');
    const last = progress.at(-1)!;
    assert.ok(last.bytesDumped > 1_000_000 && last.bytesDumped === first.bytesRead);
    assert.ok(progress.some((p) => p.estimatedTotalBytes! > p.bytesDumped && p.etaSeconds !== undefined && p.rateBytesPerSecond > 0), JSON.stringify(progress));
    const second = await runBackup(config, assignment({ dumpArgs, retentionPolicy: { keepLast: 1, prune: true, dryRun: false } }), hooks());
    assert.deepEqual(second.retention, { kept: 1, removed: 1, pruned: true });
    // Stash's file counts (restic's for a stdin backup) and the time spent on the data alone.
    assert.deepEqual([first.files, second.files], [{ new: 1, modified: 0, unmodified: 0 }, { new: 0, modified: 1, unmodified: 0 }]);
    for (const r of [first, second]) assert.ok(r.processingSeconds! > 0 && r.processingSeconds! <= r.durationSeconds!, JSON.stringify(r));
    // Every data chunk is already stored: the second backup adds only its tree.
    assert.ok(second.bytesStored! < first.bytesStored! / 20, `the second dump deduplicates: ${second.bytesStored} of ${first.bytesStored} bytes`);
    const snaps = await snapshotsIn('repo');
    assert.deepEqual(snaps.map((s) => s.id), [second.snapshotId]);
    const chk = await restic(join(dir.path, 'repo'), REPO_PASSWORD, ['check', '--read-data']);
    assert.equal(chk.code, 0, chk.stderr + chk.stdout);
  });

  it('a dump that fails or ends early stores no snapshot', async () => {
    const failing = await fakeDump('fail', 'mariadb-dump "$@"; echo "mariadb-dump: Got error: 2013: Lost connection" >&2; exit 2');
    const r1 = runBackup({ ...config, mariadbDumpPath: failing }, assignment({}, 'r-fail'), hooks());
    await assert.rejects(r1, (err) => isSidestashError(err, ErrorCodes.DUMP_FAILED) && /exited with code 2.*Lost connection/s.test(err.message));
    const truncated = await fakeDump('trunc', 'mariadb-dump "$@" | head -c 300000');
    const r2 = runBackup({ ...config, mariadbDumpPath: truncated }, assignment({}, 'r-fail'), hooks());
    await assert.rejects(r2, (err) => isSidestashError(err, ErrorCodes.DUMP_FAILED) && /ended early/.test(err.message));
    assert.deepEqual(await snapshotsIn('r-fail'), []);
    const chk = await restic(join(dir.path, 'r-fail'), REPO_PASSWORD, ['check']);
    assert.equal(chk.code, 0, chk.stderr + chk.stdout);
  });

  it('wrong credentials or a stopped server fail clearly before anything is written', async () => {
    const bad = assignment({ database: { socket: db.socket, username: DB_USER, password: 'wrong' } }, 'r-cred');
    await assert.rejects(runBackup(config, bad, hooks()), (err) => isSidestashError(err, ErrorCodes.DATABASE_UNAVAILABLE) && !err.retryable && /Access denied/.test(err.message));
    const gone = assignment({ database: { socket: join(dir.path, 'nope.sock'), username: DB_USER, password: DB_PASSWORD } }, 'r-cred');
    await assert.rejects(runBackup(config, gone, hooks()), (err) => isSidestashError(err, ErrorCodes.DATABASE_UNAVAILABLE) && err.retryable);
    assert.deepEqual(await readdir(dir.path).then((f) => f.filter((x) => x === 'r-cred')), []);
  });

  it('restores over TCP', async () => {
    const before = await checksums(db);
    await db.sql('DROP DATABASE shop');
    const tcp = { host: '127.0.0.1', port: db.port, username: DB_USER, password: DB_PASSWORD };
    const r = await runRestore(config, { kind: 'RestoreSession', namespace: 'default', name: 'r', target: 'default/db', repositoryName: 'repo', database: tcp, repository: { location: `local:${join(dir.path, 'repo')}`, password: REPO_PASSWORD, credentials: {} }, snapshot: 'latest', snapshotHost: 'db' }, hooks());
    assert.equal(r.phase, 'Succeeded');
    assert.equal(await checksums(db), before);
    assert.equal(await checksums(db), before);
  });

  it('a backup cancelled mid-stream ends SESSION_CANCELLED: no snapshot, no lock, no option file, no process left', async () => {
    // The real dump's first 256 KiB, then the program blocks (as a dump of a big table would).
    const slow = await fakeDump('slow', `echo $$ > ${dir.path}/slow.pid\nmariadb-dump "$@" | head -c 262144\nexec sleep 60`);
    const ac = new AbortController();
    const progress: SessionProgress[] = [];
    const running = runBackup({ ...config, mariadbDumpPath: slow }, assignment({ dumpArgs: ['--databases', 'shop', '--single-transaction'] }, 'r-cancel'), {
      signal: ac.signal, log, onProgress: (p) => {
        progress.push(p);
        if (p.bytesDumped >= 262144 && !ac.signal.aborted) ac.abort(new Error('cancelled by the controller'));
      },
    });
    await assert.rejects(running, (err) => isSidestashError(err, ErrorCodes.SESSION_CANCELLED) && /cancelled by the controller/.test(err.message));
    assert.ok(progress.some((p) => p.bytesDumped >= 262144), 'it was cancelled mid-stream, not before it started');
    assert.deepEqual(await snapshotsIn('r-cancel'), []);
    assert.deepEqual(await readdir(join(dir.path, 'r-cancel', 'locks')), [], 'the lock is released');
    assert.deepEqual((await readdir(dir.path)).filter((f) => f.startsWith('sidestash-')), [], 'option file removed');
    const pid = Number((await readFile(join(dir.path, 'slow.pid'), 'utf8')).trim());
    assert.throws(() => process.kill(pid, 0), 'the dump program is gone');
    const chk = await restic(join(dir.path, 'r-cancel'), REPO_PASSWORD, ['check']);
    assert.equal(chk.code, 0, chk.stderr + chk.stdout);
  });

  it('a restore cancelled mid-stream ends SESSION_CANCELLED and leaves no client running', async () => {
    await createBig(db);
    const stored = await runBackup(config, assignment({ dumpArgs: ['--databases', 'big', '--single-transaction'] }, 'r-big'), hooks());
    await db.sql('DROP DATABASE big');
    const ac = new AbortController();
    const restore = { kind: 'RestoreSession' as const, namespace: 'default', name: 'r-cancel', target: 'default/db', repositoryName: 'r-big', database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD }, repository: { location: `local:${join(dir.path, 'r-big')}`, password: REPO_PASSWORD, credentials: {} }, snapshot: stored.snapshotId!, snapshotHost: 'db' };
    const progress: SessionProgress[] = [];
    const running = runRestore({ ...config, progressIntervalMs: 20 }, restore, {
      signal: ac.signal, log, onProgress: (p) => {
        progress.push(p);
        if (p.bytesDumped > 0 && !ac.signal.aborted) ac.abort(new Error('cancelled by the controller'));
      },
    });
    await assert.rejects(running, (err) => isSidestashError(err, ErrorCodes.SESSION_CANCELLED) && /restore stopped after \d+ bytes/.test(err.message));
    const last = progress.at(-1)!;
    assert.ok(last.bytesDumped > 0 && last.bytesDumped < stored.bytesRead!, `stopped mid-stream: ${last.bytesDumped} of ${stored.bytesRead}`);
    // The client process has exited; the server drops its connection once it notices (a statement
    // in flight finishes or is aborted first), so this waits a bounded while for that.
    const clients = async (): Promise<string> => (await db.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND (DB = 'big' OR INFO LIKE '%big%')")).trim();
    for (let i = 0; i < 100 && (await clients()) !== '0'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await clients(), '0', 'the restore client is gone');
    assert.deepEqual(await readdir(join(dir.path, 'r-big', 'locks')), [], 'the shared lock is released');
  });
});
