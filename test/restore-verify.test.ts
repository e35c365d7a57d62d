// Verified restore through the agent's restore runner, against a real MariaDB: every table that
// received rows is counted against the rows of the dump; a snapshot whose rows do not all stay
// (a DELETE after the INSERT, a trigger that removes rows) fails the session with
// RESTORE_VERIFY_FAILED and the per-table results; verify: checksum records CHECKSUM TABLE;
// parallel and writeBinlog reach the loader.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import type { AgentConfig } from '../agent/config.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { RestoreAssignment } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { targetTags } from '../common/repository/snapshot-selector.ts';
import { SnapshotWriteStream } from '../common/repository/snapshot-writer.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });
const REPO_PASSWORD = 'verify-test';

describe('verified restore', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let config: AgentConfig;
  const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });
  const restore = (repo: string, over: Partial<RestoreAssignment> = {}): RestoreAssignment => ({
    kind: 'RestoreSession', namespace: 'default', name: 'r', target: 'default/db', repositoryName: repo,
    database: { socket: db.socket, username: 'root', password: '' }, repository: { location: `local:${join(dir.path, repo)}`, password: REPO_PASSWORD, credentials: {} },
    snapshot: 'latest', snapshotHost: 'db', ...over,
  });
  async function snapshotOf(repo: string, sql: string): Promise<void> {
    const r = await Repository.init(new LocalBackend(join(dir.path, repo)), REPO_PASSWORD);
    const tags = ['invoker=cfg', 'session=s', ...targetTags({ namespace: 'default', name: 'db' })];
    await pipeline(Readable.from([Buffer.from(sql)]), new SnapshotWriteStream(r, { filename: 'dumpfile.sql', hostname: 'db', tags }));
  }
  const section = (table: string, rows: number) => `DROP TABLE IF EXISTS \`${table}\`;\nCREATE TABLE \`${table}\` (id INT PRIMARY KEY);\nINSERT INTO \`${table}\` VALUES ${Array.from({ length: rows }, (_, i) => `(${i + 1})`).join(',')};\n`;

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    config = testAgentConfig(dir.path, { progressIntervalMs: 50 });
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  it('reports every table with rows, counted, and their checksums on request', async () => {
    await snapshotOf('r-ok', `/*!40014 SET FOREIGN_KEY_CHECKS=0 */;\nCREATE DATABASE IF NOT EXISTS \`v\`;\nUSE \`v\`;\n${section('a', 5)}${section('b', 3)}INSERT INTO \`b\` VALUES (4);\nDROP TABLE IF EXISTS \`empty\`;\nCREATE TABLE \`empty\` (id INT);\n`);
    const r = await runRestore(config, restore('r-ok', { parallel: 3, verify: 'checksum' }), hooks());
    assert.equal(r.phase, 'Succeeded', JSON.stringify(r.error));
    const sums = (await db.sql('CHECKSUM TABLE v.a, v.b EXTENDED')).trim().split('\n').map((l) => l.split('\t')[1]);
    assert.deepEqual(r.tables, [
      { database: 'v', table: 'a', expectedRows: 5, restoredRows: 5, checksum: sums[0] },
      { database: 'v', table: 'b', expectedRows: 4, restoredRows: 4, checksum: sums[1] },
    ]);
    const plain = await runRestore(config, restore('r-ok'), hooks());
    assert.deepEqual(plain.tables?.map((t) => Object.keys(t).includes('checksum')), [false, false], 'no checksum unless asked');
  });

  it('fails the session when a DELETE in the dump removes rows it inserted, naming the table', async () => {
    await snapshotOf('r-delete', `CREATE DATABASE IF NOT EXISTS \`v2\`;\nUSE \`v2\`;\n${section('kept', 4)}${section('lost', 10)}DELETE FROM \`lost\` WHERE id > 7;\n`);
    const r = await runRestore(config, restore('r-delete', { parallel: 2 }), hooks());
    assert.equal(r.phase, 'Failed');
    assert.equal(r.error?.code, ErrorCodes.RESTORE_VERIFY_FAILED);
    assert.equal(r.error?.message, '1 of 2 restored tables do not hold the rows of the dump: `v2`.`lost`: 7 rows restored, 10 in the dump');
    assert.deepEqual(r.tables, [
      { database: 'v2', table: 'lost', expectedRows: 10, restoredRows: 7 },
      { database: 'v2', table: 'kept', expectedRows: 4, restoredRows: 4 },
    ]);
  });

  it('fails the session when a trigger drops rows as they load', async () => {
    // A trigger that folds ids together: INSERT IGNORE then skips the duplicates it made.
    await snapshotOf('r-trigger', `CREATE DATABASE IF NOT EXISTS \`v3\`;\nUSE \`v3\`;\nDROP TABLE IF EXISTS \`t\`;\nCREATE TABLE \`t\` (id INT PRIMARY KEY, x INT);\nDELIMITER ;;\nCREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.id = NEW.id DIV 2; END ;;\nDELIMITER ;\nINSERT IGNORE INTO \`t\` VALUES (1,1),(2,2),(3,3),(4,4);\n`);
    const r = await runRestore(config, restore('r-trigger'), hooks());
    assert.equal(r.phase, 'Failed', JSON.stringify(r));
    assert.equal(r.error?.code, ErrorCodes.RESTORE_VERIFY_FAILED);
    assert.deepEqual(r.tables, [{ database: 'v3', table: 't', expectedRows: 4, restoredRows: 3 }]);
  });

  it("refuses a statement longer than the server's max_allowed_packet before sending it, naming its offset", async () => {
    const head = 'CREATE DATABASE IF NOT EXISTS `v5`;\nUSE `v5`;\nCREATE TABLE `t` (b LONGBLOB);\n';
    await snapshotOf('r-long', `${head}INSERT INTO \`t\` VALUES ('${'x'.repeat(2 * 1024 * 1024)}');\n`);
    await db.sql('SET GLOBAL max_allowed_packet = 1048576');
    try {
      await assert.rejects(runRestore(config, restore('r-long'), hooks()), (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED)
        // The splitter's refusal, not the server's (ERROR 1153 would name the packet): it was never sent.
        && err.message === `the statement at byte ${head.length} of the dump is longer than ${1048576 - 64} bytes (the server's max_allowed_packet)`);
    } finally {
      await db.sql('SET GLOBAL max_allowed_packet = DEFAULT');
    }
  });

  it('fails with the statement, its offset and the server error, as RESTORE_FAILED', async () => {
    const head = 'CREATE DATABASE IF NOT EXISTS `v4`;\nUSE `v4`;\n';
    await snapshotOf('r-bad', `${head}INSERT INTO \`missing\` VALUES (1);\n`);
    await assert.rejects(runRestore(config, restore('r-bad'), hooks()), (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED)
      && err.message === `the statement at byte ${head.length} of the dump (table \`v4\`.\`missing\`) failed: ERROR 1146 (42S02): Table 'v4.missing' doesn't exist`);
  });
});
