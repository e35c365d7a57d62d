// What the agent refuses, against a real MariaDB: dump arguments off the allow-list (even when
// they never passed the controller) start nothing; a snapshot's SQL is untrusted, so no client
// command in it runs (\!, system, source, tee, pager, connect, LOAD DATA LOCAL INFILE): its
// statements go to the server over the wire, where they are SQL syntax errors.
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import type { AgentConfig } from '../agent/config.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { findSnapshot } from '../common/repository/snapshot.ts';
import { createFileReadStream, findSnapshotFile } from '../common/repository/snapshot-reader.ts';
import { targetTags } from '../common/repository/snapshot-selector.ts';
import { SnapshotWriteStream } from '../common/repository/snapshot-writer.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, checksums, createShop } from './helpers/shop-db.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });
const REPO_PASSWORD = 'untrusted-input-test';

describe('what the agent refuses', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let config: AgentConfig;
  const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });
  const access = (repo: string) => ({ location: `local:${join(dir.path, repo)}`, password: REPO_PASSWORD, credentials: {} });
  const database = () => ({ socket: db.socket, username: DB_USER, password: DB_PASSWORD });
  const backup = (repo: string, dumpArgs: string[]): BackupAssignment => ({
    kind: 'BackupSession', namespace: 'default', name: `s-${Math.random().toString(36).slice(2, 8)}`, invoker: 'cfg', target: 'default/db', repositoryName: repo,
    database: database(), repository: access(repo), dumpArgs, snapshotHost: 'db', filename: 'dumpfile.sql',
  });
  const restore = (repo: string, databaseName?: string): RestoreAssignment => ({
    kind: 'RestoreSession', namespace: 'default', name: 'r', target: 'default/db', repositoryName: repo, database: database(), repository: access(repo), snapshot: 'latest', snapshotHost: 'db',
    ...(databaseName ? { databaseName } : {}),
  });
  /** A program that only leaves a marker file behind when it runs. */
  async function marker(name: string): Promise<string> {
    const path = join(dir.path, `${name}.sh`);
    await writeFile(path, `#!/bin/sh\necho "$@" > ${dir.path}/${name}.ran\nexit 1\n`);
    await chmod(path, 0o755);
    return path;
  }
  /** Stores `sql` as the only snapshot of a new repository, as anyone with its password could (tags included). */
  async function snapshotOf(repo: string, sql: string): Promise<void> {
    const r = await Repository.init(new LocalBackend(join(dir.path, repo)), REPO_PASSWORD);
    const tags = ['invoker=cfg', 'session=forged', ...targetTags({ namespace: 'default', name: 'db' })];
    await pipeline(Readable.from([Buffer.from(sql)]), new SnapshotWriteStream(r, { filename: 'dumpfile.sql', hostname: 'db', tags }));
  }
  const exists = async (name: string) => (await readdir(dir.path)).includes(name);

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 2000);
    await db.sql("CREATE DATABASE untrusted; CREATE TABLE untrusted.log (x TEXT); SET GLOBAL local_infile = 1;");
    await writeFile(join(dir.path, 'secret.txt'), 'the contents of a file on the database host\n');
    await writeFile(join(dir.path, 'sourced.sql'), "INSERT INTO untrusted.log VALUES ('sourced');\n");
    config = testAgentConfig(dir.path, { progressIntervalMs: 50 });
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  it('runs the canonical form of allowed arguments, positional database names included', async () => {
    const spy = join(dir.path, 'spy.sh');
    await writeFile(spy, `#!/bin/sh\necho "$@" > ${dir.path}/spy.argv\nexec mariadb-dump "$@"\n`);
    await chmod(spy, 0o755);
    const r = await runBackup({ ...config, mariadbDumpPath: spy }, backup('r-dump', ['-B', 'shop', 'crm', '--single', '--skip_dump_date', '--add-drop-database']), hooks());
    assert.equal(r.phase, 'Succeeded');
    const argv = (await readFile(join(dir.path, 'spy.argv'), 'utf8')).trim().split(' ').slice(1);
    assert.deepEqual(argv, ['--databases', '--single-transaction', '--skip-dump-date', '--add-drop-database', 'shop', 'crm']);
  });

  it('refuses arguments off the allow-list, though they never passed the controller, before it writes or starts anything', async () => {
    const cfg = { ...config, mariadbDumpPath: await marker('dump'), mariadbPath: await marker('client') };
    for (const dumpArgs of [['--databases', 'shop', '--res=/tmp/x'], ['--loose-log_error=/etc/cron.d/x'], ['-uroot', 'shop'], ['--plugin_d', '/tmp'], ['--where', '1 INTO OUTFILE "/tmp/x"'], ['--', '-x']]) {
      await assert.rejects(runBackup(cfg, backup('r-refused', dumpArgs), hooks()), (err) => isSidestashError(err, ErrorCodes.DUMP_ARGS_REFUSED) && /dumpArgs\[\d\]/.test(err.message), JSON.stringify(dumpArgs));
    }
    assert.equal(await exists('dump.ran'), false, 'mariadb-dump never started');
    assert.equal(await exists('client.ran'), false, 'the client never started');
    assert.equal(await exists('r-refused'), false, 'no repository was created');
    assert.deepEqual((await readdir(dir.path)).filter((f) => f.startsWith('sidestash-')), [], 'no option file was written');
  });

  it('opens no local repository in a system directory, though the path never passed the controller', async () => {
    // Paths where a missing check fails harmlessly too.
    for (const location of ['local:/dev/null/repo', 'local:/sys/sidestash-none', '/proc/sidestash-none', `local:${dir.path}/r-sys/../r-sys2`]) {
      const b = { ...backup('r-sys', ['--databases', 'shop']), repository: { location, password: REPO_PASSWORD, credentials: {} } };
      await assert.rejects(runBackup(config, b, hooks()), (err) => isSidestashError(err, ErrorCodes.INVALID_CONFIG) && /local repository path/.test(err.message), location);
      await assert.rejects(runRestore(config, { ...restore('r-sys'), repository: b.repository }, hooks()), (err) => isSidestashError(err, ErrorCodes.INVALID_CONFIG), location);
    }
  });

  it('restores a real dump, which starts with the sandbox line, and one database of it alone', async () => {
    const repo = await Repository.open(new LocalBackend(join(dir.path, 'r-dump')), REPO_PASSWORD);
    const file = await findSnapshotFile(repo, await findSnapshot(repo, 'latest', {}));
    let first = '';
    for await (const chunk of createFileReadStream(repo, file)) {
      first = String(chunk).split('\n')[0]!;
      break;
    }
    assert.equal(first.trim(), '/*M!999999\\- enable the sandbox mode */');
    const before = await checksums(db);
    await db.sql('DROP DATABASE shop; DROP DATABASE crm;');
    assert.equal((await runRestore(config, restore('r-dump'), hooks())).phase, 'Succeeded');
    assert.equal(await checksums(db), before);
    // One database: the other one's DROP DATABASE (--add-drop-database) and its data stay out.
    await db.sql("DROP DATABASE shop; UPDATE crm.contacts SET phone = 'changed' WHERE id = 1;");
    assert.equal((await runRestore(config, restore('r-dump', 'shop'), hooks())).phase, 'Succeeded');
    assert.equal((await db.sql('SELECT phone FROM crm.contacts WHERE id = 1')).trim(), 'changed');
    await db.sql("UPDATE crm.contacts SET phone = '+49 30 1234' WHERE id = 1;");
    assert.equal(await checksums(db), before);
  });

  it('refuses a database the snapshot does not contain, naming those it does, having changed nothing', async () => {
    // The restore sends the dump's statements itself: no client program runs at all.
    const cfg = { ...config, mariadbPath: await marker('restore-client') };
    const before = await checksums(db);
    const databases = await db.sql('SHOW DATABASES');
    await assert.rejects(runRestore(cfg, restore('r-dump', 'nosuchdb'), hooks()), (err) => {
      assert.ok(isSidestashError(err, ErrorCodes.NOT_IN_SNAPSHOT), String(err));
      assert.match(err.message, /^snapshot [0-9a-f]{8}: database nosuchdb is not in the snapshot; it contains databases shop, crm \(nothing was restored\)$/);
      assert.deepEqual(err.details.databases, ['shop', 'crm']);
      return true;
    });
    assert.equal(await db.sql('SHOW DATABASES'), databases, 'no database was created');
    assert.equal(await checksums(db), before);
    // A database the snapshot has.
    await db.sql('DROP DATABASE shop');
    assert.equal((await runRestore(cfg, restore('r-dump', 'shop'), hooks())).phase, 'Succeeded');
    assert.equal(await checksums(db), before);
    assert.equal(await exists('restore-client.ran'), false, 'no client program ran');
  });

  const COMMANDS: [string, string, RegExp][] = [
    ['shell', '\\! touch MARKER', /syntax/],
    ['system', 'system touch MARKER', /syntax/],
    ['source', 'source SOURCED', /syntax/],
    ['tee', 'tee MARKER', /syntax/],
    ['tee-short', '\\T MARKER', /syntax/],
    ['pager', 'pager touch MARKER', /syntax/],
    ['connect', '\\r untrusted 127.0.0.2', /syntax/],
    ['infile', "LOAD DATA LOCAL INFILE 'SECRET' INTO TABLE log;", /local infile/i],
  ];
  for (const [name, command, message] of COMMANDS) {
    it(`runs no client command from a snapshot: ${name}`, async () => {
      const markerPath = join(dir.path, `${name}.marker`);
      const line = command.replace('MARKER', markerPath).replace('SOURCED', join(dir.path, 'sourced.sql')).replace('SECRET', join(dir.path, 'secret.txt'));
      await snapshotOf(`r-${name}`, `USE untrusted;\nINSERT INTO log VALUES ('before ${name}');\n${line}\nINSERT INTO log VALUES ('after ${name}');\n`);
      await assert.rejects(runRestore(config, restore(`r-${name}`), hooks()), (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED) && message.test(err.message), `${name}: a clear error`);
      assert.equal(await exists(`${name}.marker`), false, `${name}: nothing ran`);
      const rows = (await db.sql('SELECT x FROM untrusted.log')).split('\n');
      assert.ok(rows.includes(`before ${name}`), 'the statements before it ran');
      assert.ok(!rows.includes(`after ${name}`), 'the restore stopped there');
      assert.ok(!rows.some((r) => /sourced|contents of a file/.test(r)), `${name}: no file was read`);
    });
  }
});
