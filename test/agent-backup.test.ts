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
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });
const REPO_PASSWORD = 'agent-test-repository';

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
    config = { controllerUrl: 'http://unused', bootstrapToken: 'x', name: 'a', namespace: 'default', targets: ['default/db'], progressIntervalMs: 50, mariadbDumpPath: 'mariadb-dump', mariadbPath: 'mariadb', tmpDir: dir.path };
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

  it('restores over TCP with a cancelled session leaving the database as it was', async () => {
    const before = await checksums(db);
    await db.sql('DROP DATABASE shop');
    const tcp = { host: '127.0.0.1', port: db.port, username: DB_USER, password: DB_PASSWORD };
    const r = await runRestore(config, { kind: 'RestoreSession', namespace: 'default', name: 'r', target: 'default/db', repositoryName: 'repo', database: tcp, repository: { location: `local:${join(dir.path, 'repo')}`, password: REPO_PASSWORD, credentials: {} }, snapshot: 'latest', snapshotHost: 'db' }, hooks());
    assert.equal(r.phase, 'Succeeded');
    assert.equal(await checksums(db), before);
    const ac = new AbortController();
    ac.abort(new Error('cancelled by the controller'));
    await assert.rejects(runBackup(config, assignment({}, 'r-cancel'), { signal: ac.signal, log, onProgress: () => {} }));
    assert.equal(await checksums(db), before);
  });
});
