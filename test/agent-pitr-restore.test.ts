// A point-in-time RestoreSession as the agent runs it (agent/pitr-restore.ts): a backup of a
// configuration that archives binlogs records its coordinates (--master-data=2, read from the
// stream), the binlog files after it are archived, and a restore to a time between two batches
// of writes gives exactly the rows committed before it, into another server. A point before the
// oldest dump fails with PITR_UNREACHABLE and changes nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import { runPointInTimeRestore } from '../agent/pitr-restore.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { archiveClosedBinlogs, nextSecond } from './helpers/binlog-archive.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error', write: () => {} });
const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });
const PASSWORD = 'agent-pitr';

describe('point-in-time restore by the agent', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let source: MariaDB;
  let target: MariaDB;
  let batch2Second: number;
  let afterBatch1: string;
  let dumpSecond: number;
  const base = (db: MariaDB) => ({ namespace: 'default', target: 'default/db', repositoryName: 'repo', snapshotHost: 'db', database: { socket: db.socket, username: 'root', password: '' }, repository: { location: `local:${join(dir.path, 'repo')}`, password: PASSWORD, credentials: {} } });
  const restore = (point: NonNullable<RestoreAssignment['pointInTime']>): RestoreAssignment => ({ ...base(target), kind: 'RestoreSession', name: 'r', snapshot: 'latest', parallel: 2, pointInTime: point });

  before(async () => {
    dir = await tempDir('sidestash-agent-pitr-');
    [source, target] = await Promise.all([startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] }), startMariaDB()]);
    await source.sql("CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(40)); INSERT INTO shop.orders VALUES (1, 'before the dump');");
    dumpSecond = await nextSecond();
    const b: BackupAssignment = { ...base(source), kind: 'BackupSession', name: 'b1', invoker: 'nightly', filename: 'dumpfile.sql', dumpArgs: ['--databases', 'shop', '--single-transaction', '--default-character-set=binary'], recordBinlogCoordinates: true };
    assert.equal((await runBackup(testAgentConfig(dir.path), b, hooks())).phase, 'Succeeded');
    await nextSecond();
    await source.sql("INSERT INTO shop.orders VALUES (2, 'batch 1'); UPDATE shop.orders SET note = 'changed in batch 1' WHERE id = 1;");
    afterBatch1 = (await source.sql('SELECT * FROM shop.orders ORDER BY id')).trim();
    batch2Second = await nextSecond();
    await source.sql("INSERT INTO shop.orders VALUES (3, 'batch 2'); DELETE FROM shop.orders WHERE id = 2; FLUSH BINARY LOGS;");
    const repo = await Repository.open(new LocalBackend(join(dir.path, 'repo')), PASSWORD);
    await archiveClosedBinlogs(source, repo, { chain: '0123456789abcdef', serverId: 7, hostname: 'db', tags: ['namespace=default', 'target=default/db'] });
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    await dir?.cleanup();
  });

  it('restores the newest dump before the point, then the binlog up to it: exactly the rows committed before it', async () => {
    const r = await runPointInTimeRestore(testAgentConfig(dir.path), restore({ kind: 'time', time: new Date(batch2Second * 1000).toISOString() }), hooks());
    assert.equal(r.phase, 'Succeeded', JSON.stringify(r.error));
    assert.equal((await target.sql('SELECT * FROM shop.orders ORDER BY id')).trim(), afterBatch1);
    const latest = await runPointInTimeRestore(testAgentConfig(dir.path), restore({ kind: 'latest' }), hooks());
    assert.equal(latest.phase, 'Succeeded');
    assert.equal((await target.sql('SELECT * FROM shop.orders ORDER BY id')).trim(), (await source.sql('SELECT * FROM shop.orders ORDER BY id')).trim());
  });

  it('refuses a point before the oldest dump, changing nothing', async () => {
    await target.sql("UPDATE shop.orders SET note = 'untouched' WHERE id = 1");
    const before = (await target.sql('SELECT * FROM shop.orders ORDER BY id')).trim();
    await assert.rejects(runPointInTimeRestore(testAgentConfig(dir.path), restore({ kind: 'time', time: new Date((dumpSecond - 3600) * 1000).toISOString() }), hooks()), (err) => {
      assert.ok(isSidestashError(err, ErrorCodes.PITR_UNREACHABLE), String(err));
      assert.equal(err.details.reason, 'before-oldest-dump');
      return true;
    });
    assert.equal((await target.sql('SELECT * FROM shop.orders ORDER BY id')).trim(), before);
  });
});
