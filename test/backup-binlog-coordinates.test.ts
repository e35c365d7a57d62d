// A backup of a configuration that archives binlogs records where in the binary log its dump was
// taken (mariadb-dump --master-data=2, read from the stream): on the result, and as tags of the
// snapshot that the point-in-time planner reads. Real MariaDB with its binary log on, and one
// without (the backup then fails, saying why).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { runBackup } from '../agent/backup-runner.ts';
import { dumpCoordinates, parseGtidList } from '../common/binlog/archive-layout.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { findSnapshot } from '../common/repository/snapshot.ts';
import { DEFAULT_DUMP_ARGS } from '../controller/resources/types.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });
const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });

describe('binlog coordinates of a backup', () => {
  let withBinlog: MariaDB;
  let without: MariaDB;
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
    [withBinlog, without] = await Promise.all([startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] }), startMariaDB()]);
    await Promise.all([createShop(withBinlog, 50), createShop(without, 5)]);
  });
  after(async () => {
    await Promise.all([withBinlog?.stop(), without?.stop()]);
    await dir?.cleanup();
  });

  const assignment = (db: MariaDB, name: string): BackupAssignment => ({
    kind: 'BackupSession', namespace: 'default', name, target: 'default/db', repositoryName: 'r', invoker: 'nightly', snapshotHost: 'db', filename: 'dumpfile.sql',
    database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
    repository: { location: `local:${dir.path}/repo`, password: 'pw', credentials: {} },
    dumpArgs: ['--databases', 'shop', ...DEFAULT_DUMP_ARGS.filter((x) => x !== '--all-databases')], recordBinlogCoordinates: true,
  });

  it('records the file, position and GTID state the dump was taken at, on the result and the snapshot', async () => {
    await withBinlog.sql("INSERT INTO shop.customers (id, name) VALUES (9001, 'after the first rows')");
    // A trigger an application created, its body holding lines of the shape the coordinates have
    // (mariadb-dump writes trigger bodies verbatim): they must neither move nor take away the
    // dump's coordinates. Over the wire: the mariadb client would strip the comments.
    const conn = await mysql.createConnection({ socketPath: withBinlog.socket, user: 'root', database: 'shop' });
    await conn.query("CREATE TRIGGER c_bi BEFORE INSERT ON customers FOR EACH ROW BEGIN\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4;\n-- SET GLOBAL gtid_slave_pos='0-7-999';\nSET NEW.name = NEW.name;\nEND");
    await conn.end();
    const [file, position] = (await withBinlog.sql('SHOW MASTER STATUS')).trim().split('\t');
    const gtid = (await withBinlog.sql('SELECT @@gtid_binlog_pos')).trim();
    assert.ok(parseGtidList(gtid)!.length > 0, gtid);
    const r = await runBackup(testAgentConfig(dir.path), assignment(withBinlog, 'b1'), hooks());
    assert.equal(r.phase, 'Succeeded', JSON.stringify(r.error));
    assert.deepEqual(r.binlogCoordinates, { file, position: Number(position), gtid });
    assert.notEqual(gtid, '0-7-999');
    const repo = await Repository.open(new LocalBackend(`${dir.path}/repo`), 'pw');
    const snap = await findSnapshot(repo, r.snapshotId!);
    const c = dumpCoordinates(snap);
    assert.deepEqual({ file: c?.file, position: c?.position, gtid: c?.gtid, serverId: c?.serverId }, { file, position: Number(position), gtid: parseGtidList(gtid), serverId: 7 });
    assert.ok(c!.seenAtMs! >= Date.parse(snap.time) && c!.seenAtMs! <= Date.now(), 'read while the dump streamed');
  });

  it('fails, saying why, on a server without a binary log', async () => {
    const r = await runBackup(testAgentConfig(dir.path), assignment(without, 'b2'), hooks()).catch((err: unknown) => err);
    assert.ok(isSidestashError(r, ErrorCodes.DUMP_FAILED), String(r));
    assert.match((r as Error).message, /not using binary logging/);
  });
});
