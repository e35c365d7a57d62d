// The agent's backup with spec.dumper: parallel (agent/parallel-dump/ in mariadb-dump's place):
// the same snapshot layout (dumpfile.sql and its dump index), a dump plain `mariadb` restores
// and the agent's restore reads, binary-log coordinates read under the snapshot's lock tagged
// exactly as for mariadb-dump's, the dumpArgs the parallel dumper refuses, and a server without
// a binary log failing a backup that records coordinates. Real MariaDB and the real runners.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { dumpCoordinates, parseGtidList } from '../common/binlog/archive-layout.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { findSnapshot, loadTree } from '../common/repository/snapshot.ts';
import { indexFileName } from '../common/sql-dump/dump-index.ts';
import { DEFAULT_DUMP_ARGS } from '../controller/resources/types.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });
const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });

describe('backup with the parallel dumper', () => {
  let withBinlog: MariaDB;
  let without: MariaDB;
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
    [withBinlog, without] = await Promise.all([startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] }), startMariaDB()]);
    await Promise.all([createShop(withBinlog, 3000), createShop(without, 5)]);
  });
  after(async () => {
    await Promise.all([withBinlog?.stop(), without?.stop()]);
    await dir?.cleanup();
  });

  const assignment = (db: MariaDB, name: string, over: Partial<BackupAssignment> = {}): BackupAssignment => ({
    kind: 'BackupSession', namespace: 'default', name, target: 'default/db', repositoryName: 'r', invoker: 'nightly', snapshotHost: 'db', filename: 'dumpfile.sql',
    database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
    repository: { location: `local:${dir.path}/repo-${name}`, password: 'pw', credentials: {} },
    dumpArgs: DEFAULT_DUMP_ARGS, dumper: 'parallel', parallel: 2, ...over,
  });
  const shopState = (db: MariaDB) => db.sql('CHECKSUM TABLE shop.customers, shop.orders EXTENDED');

  it('stores dumpfile.sql and its index, with the coordinates read under the lock, and the agent restores it', async () => {
    const before = await shopState(withBinlog);
    const r = await runBackup(testAgentConfig(dir.path), assignment(withBinlog, 'b1', { recordBinlogCoordinates: true }), hooks());
    assert.equal(r.phase, 'Succeeded', JSON.stringify(r.error));
    const [file, position] = (await withBinlog.sql('SHOW MASTER STATUS')).trim().split('\t');
    const gtid = (await withBinlog.sql('SELECT @@gtid_binlog_pos')).trim();
    assert.deepEqual(r.binlogCoordinates, { file, position: Number(position), gtid }, 'nothing was written since: the coordinates are the server\'s now');
    const repo = await Repository.open(new LocalBackend(`${dir.path}/repo-b1`), 'pw');
    const snap = await findSnapshot(repo, r.snapshotId!);
    const c = dumpCoordinates(snap);
    assert.deepEqual({ file: c?.file, position: c?.position, gtid: c?.gtid, serverId: c?.serverId }, { file, position: Number(position), gtid: parseGtidList(gtid), serverId: 7 });
    const tree = await loadTree(repo, snap.tree);
    assert.deepEqual(tree.nodes.map((n) => n.name).sort(), ['dumpfile.sql', indexFileName('dumpfile.sql')].sort());
    await withBinlog.sql('DROP DATABASE shop');
    const restore: RestoreAssignment = { kind: 'RestoreSession', namespace: 'default', name: 'r1', target: 'default/db', repositoryName: 'r', snapshotHost: 'db', database: assignment(withBinlog, 'b1').database, repository: assignment(withBinlog, 'b1').repository, snapshot: r.snapshotId! };
    const rr = await runRestore(testAgentConfig(dir.path), restore, hooks());
    assert.equal(rr.phase, 'Succeeded', JSON.stringify(rr.error));
    assert.equal(await shopState(withBinlog), before);
  });

  it('refuses dumpArgs the parallel dumper does not support, before anything is written', async () => {
    const r = await runBackup(testAgentConfig(dir.path), assignment(withBinlog, 'b2', { dumpArgs: ['shop', 'orders'] }), hooks()).catch((err: unknown) => err);
    assert.ok(isSidestashError(r, ErrorCodes.DUMP_ARGS_REFUSED), String(r));
    await assert.rejects(stat(`${dir.path}/repo-b2`), 'no repository was created');
  });

  it('a cancel while the dump waits on the server fails the backup as cancelled and ends all its connections', async () => {
    const dumpThreads = async () => Number((await withBinlog.sql(`SELECT COUNT(*) FROM information_schema.processlist WHERE user = '${DB_USER}'`)).trim());
    const { default: mysql } = await import('mysql2/promise');
    const locker = await mysql.createConnection({ socketPath: withBinlog.socket, user: 'root' });
    try {
      // An application's LOCK TABLES ... WRITE: the snapshot's BACKUP STAGE waits for it ("Waiting for backup lock"), for as long as the test needs.
      await locker.query('LOCK TABLES shop.orders WRITE');
      const ac = new AbortController();
      const run = runBackup(testAgentConfig(dir.path), assignment(withBinlog, 'b4'), { ...hooks(), signal: ac.signal });
      run.catch(() => undefined);
      while (!(await withBinlog.sql(`SELECT COUNT(*) FROM information_schema.processlist WHERE user = '${DB_USER}' AND state LIKE 'Waiting for%'`)).startsWith('1')) await new Promise((r) => setTimeout(r, 20));
      ac.abort(new Error('cancelled by the test'));
      await assert.rejects(run, (err: unknown) => isSidestashError(err, ErrorCodes.SESSION_CANCELLED));
      while ((await dumpThreads()) > 0) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await locker.end();
    }
  });

  it('fails, saying why, when it records coordinates on a server without a binary log', async () => {
    const r = await runBackup(testAgentConfig(dir.path), assignment(without, 'b3', { recordBinlogCoordinates: true }), hooks()).catch((err: unknown) => err);
    assert.ok(isSidestashError(r, ErrorCodes.DUMP_FAILED), String(r));
    assert.match((r as Error).message, /not using binary logging/);
  });
});
