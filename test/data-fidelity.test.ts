// Every byte comes back: a database built to catch fidelity bugs (NULL against 'NULL', every
// byte value in BLOBs, latin1 and 4-byte utf8mb4 text, quotes, backslashes, newlines, NUL, a
// value that looks like the dump's closing comment, zero dates, extreme numbers, generated
// columns, a 64 MiB LONGBLOB row) is backed up by the agent, dropped, restored by the agent,
// and CHECKSUM TABLE ... EXTENDED must equal the original for every table, with and without
// --hex-blob.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../agent/backup-runner.ts';
import type { AgentConfig } from '../agent/config.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { tempDir } from './helpers/tmp.ts';

const execFileAsync = promisify(execFile);
const log = createLogger({}, { level: 'error' });
const TABLES = ['texts', 'latin', 'bytes', 'numbers', 'dates', 'generated', 'big'];

async function createFidelity(db: MariaDB): Promise<void> {
  // Zero dates need a permissive SQL mode when they are written; mariadb-dump's output sets
  // its own mode (NO_AUTO_VALUE_ON_ZERO) when it is loaded.
  await db.sql(`SET GLOBAL sql_mode = '';
    CREATE DATABASE fidelity CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    CREATE TABLE fidelity.texts (id INT PRIMARY KEY, u VARCHAR(300) CHARACTER SET utf8mb4, t TEXT CHARACTER SET utf8mb4, n INT NULL, s VARCHAR(20) NULL) ENGINE=InnoDB;
    CREATE TABLE fidelity.latin (id INT PRIMARY KEY, s VARCHAR(300), t TEXT) ENGINE=InnoDB DEFAULT CHARSET=latin1;
    CREATE TABLE fidelity.bytes (id INT PRIMARY KEY, b BLOB, vb VARBINARY(300), c CHAR(1) CHARACTER SET binary) ENGINE=InnoDB;
    CREATE TABLE fidelity.numbers (id INT PRIMARY KEY, f FLOAT, d DOUBLE, x DECIMAL(65,30), u BIGINT UNSIGNED, i BIGINT, bits BIT(64), e ENUM('a','b','c'), st SET('x','y','z'), j JSON) ENGINE=InnoDB;
    CREATE TABLE fidelity.dates (id INT PRIMARY KEY, d DATE, dt DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, y YEAR, tm TIME(3)) ENGINE=InnoDB;
    CREATE TABLE fidelity.generated (id INT PRIMARY KEY, a INT, b INT AS (a * 2) VIRTUAL, c VARCHAR(20) AS (CONCAT('x-', a)) STORED, KEY (c)) ENGINE=InnoDB;
    CREATE TABLE fidelity.big (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB;`);
  await db.sql(`SET NAMES utf8mb4; SET SESSION sql_mode = '';
    INSERT INTO texts VALUES
      (1, '😀 𝄞 𠜎 emoji and 4-byte CJK', 'it''s "quoted" \\\\ back\\\\slash \`tick\`', NULL, 'NULL'),
      (2, 'line1\\nline2\\r\\n\\ttab', '-- Dump completed on 2026-01-01  0:00:00', 0, ''),
      (3, '', CONCAT('-- Dump completed', CHAR(10)), NULL, NULL),
      (4, CONCAT('nul', CHAR(0 USING utf8mb4), 'inside'), ';\\nDROP TABLE texts; -- \\\\', -1, 'x'),
      (5, 'Ünïcödé ßtraße ½ € 中文 العربية', REPEAT('long text ', 5000), 2147483647, '\\\\');
    INSERT INTO latin VALUES (1, 'café naïve ÿ ½ ¼ ©', CONCAT('latin1 ', CHAR(0xE9 USING latin1), CHAR(0xFF USING latin1))), (2, '', NULL);
    INSERT INTO bytes SELECT seq, UNHEX(LPAD(HEX(seq), 2, '0')), UNHEX(LPAD(HEX(seq), 2, '0')), UNHEX(LPAD(HEX(seq), 2, '0')) FROM seq_0_to_255;
    SET SESSION group_concat_max_len = 1048576;
    INSERT INTO bytes SELECT 1000, CAST(GROUP_CONCAT(UNHEX(LPAD(HEX(seq), 2, '0')) ORDER BY seq SEPARATOR '') AS BINARY), NULL, NULL FROM seq_0_to_255;
    INSERT INTO numbers VALUES
      (1, 3.40282e38, 1.7976931348623157e308, '12345678901234567890123456789012345.123456789012345678901234567890', 18446744073709551615, -9223372036854775808, b'1111111111111111111111111111111111111111111111111111111111111111', 'c', 'x,z', '{"k": "v\\\\n", "u": "\\\\u00e9", "n": null, "a": [1.5, -0.0]}'),
      (2, -1.17549e-38, 4.9e-324, '-0.000000000000000000000000000001', 0, 0, b'0', 'a', '', 'null'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    INSERT INTO dates VALUES
      (1, '0000-00-00', '0000-00-00 00:00:00', NULL, 0, '-838:59:59'),
      (2, '2026-02-00', '2026-00-10 12:00:00.5', '2038-01-19 03:14:07.999999', 2155, '838:59:59.999'),
      (3, '9999-12-31', '1000-01-01 00:00:00.000001', '1970-01-01 00:00:01', 1901, '00:00:00.001');
    INSERT INTO generated (id, a) SELECT seq, seq FROM seq_1_to_2000;
    INSERT INTO big SELECT 1, REPEAT(b, 262144) FROM bytes WHERE id = 1000;`, 'fidelity');
  await db.sql(`SET GLOBAL sql_mode = DEFAULT`);
}

/**
 * CHECKSUM TABLE ... EXTENDED of every table, except that a table with generated columns is
 * hashed by a query naming every column: MariaDB 10.11's CHECKSUM TABLE does not read a STORED
 * generated column and checksums whatever its record buffer held (MDEV-22943), so its value
 * changes from run to run on identical data.
 */
async function checksums(db: MariaDB): Promise<Record<string, string>> {
  const plain = TABLES.filter((t) => t !== 'generated');
  const out = await db.sql(`CHECKSUM TABLE ${plain.map((t) => `fidelity.${t}`).join(', ')} EXTENDED`);
  const sums: Record<string, string> = {};
  for (const line of out.trim().split('\n')) {
    const [table, sum] = line.split('\t');
    sums[table!] = sum!;
  }
  sums['fidelity.generated'] = (await db.sql("SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, a, b, c))), BIT_XOR(CRC32(CONCAT_WS('|', id, a, b, c))) FROM fidelity.generated")).trim();
  return sums;
}

describe('data fidelity through backup and restore', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let config: AgentConfig;
  let original: Record<string, string>;
  before(async () => {
    dir = await tempDir();
    // The server must take a 64 MiB row (and its dump's INSERT statement) at all.
    db = await startMariaDB({ serverArgs: ['--max-allowed-packet=512M'] });
    await createShop(db, 10);
    await createFidelity(db);
    original = await checksums(db);
    config = testAgentConfig(dir.path);
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  it('built what it meant to: every table non-empty, the big row 64 MiB, the byte table all 256 values', async () => {
    assert.deepEqual(Object.keys(original).sort(), TABLES.map((t) => `fidelity.${t}`).sort());
    for (const [t, sum] of Object.entries(original)) assert.notEqual(sum, 'NULL', t);
    assert.equal((await db.sql('SELECT LENGTH(b) FROM fidelity.big')).trim(), String(64 * 1024 * 1024));
    assert.equal((await db.sql('SELECT COUNT(DISTINCT b), LENGTH((SELECT b FROM fidelity.bytes WHERE id = 1000)) FROM fidelity.bytes WHERE id < 256')).trim(), '256\t256');
    assert.equal((await db.sql("SELECT HEX(u) FROM fidelity.texts WHERE id = 1")).trim().slice(0, 8), 'F09F9880', '4-byte UTF-8 stored as such');
    assert.equal((await db.sql('SELECT COUNT(*) FROM fidelity.dates WHERE d = 0')).trim(), '1', 'a zero date');
  });

  // --default-character-set=binary: the dump holds each column's bytes as stored (SET NAMES
  // binary, as mydumper writes it), which the agent's default dump arguments use (the server
  // then converts nothing on restore); it must restore as exactly, by the agent and by the
  // plain client (restic dump | mariadb, as Stash restores).
  for (const variant of ['plain', 'hex', 'binary'] as const) {
    const hexBlob = variant === 'hex';
    it(`restores every table byte-exact ${variant === 'hex' ? 'with --hex-blob' : variant === 'binary' ? 'with --default-character-set=binary' : 'with plain options'}`, async () => {
      const database = { socket: db.socket, username: DB_USER, password: DB_PASSWORD };
      const repository = { location: `local:${join(dir.path, 'repo')}`, password: 'fidelity', credentials: {} };
      const name = `fidelity-${variant}`;
      const hooks = { signal: new AbortController().signal, log, onProgress: () => {} };
      const backup: BackupAssignment = {
        kind: 'BackupSession', namespace: 'default', name, invoker: 'fidelity', target: 'default/db', repositoryName: 'repo', database, repository,
        dumpArgs: ['--databases', 'fidelity', '--single-transaction', '--routines', '--events', '--triggers', ...(hexBlob ? ['--hex-blob'] : []), ...(variant === 'binary' ? ['--default-character-set=binary'] : [])],
        snapshotHost: 'db', filename: 'dumpfile.sql',
      };
      const stored = await runBackup(config, backup, hooks);
      assert.equal(stored.phase, 'Succeeded');
      assert.ok(stored.bytesRead! > 64 * 1024 * 1024, `the dump holds the big row: ${stored.bytesRead}`);
      await db.sql('DROP DATABASE fidelity');
      const restore: RestoreAssignment = {
        kind: 'RestoreSession', namespace: 'default', name: `${name}-restore`, target: 'default/db', repositoryName: 'repo', database, repository,
        snapshot: stored.snapshotId!, snapshotHost: 'db',
      };
      const restored = await runRestore(config, restore, hooks);
      assert.equal(restored.phase, 'Succeeded');
      assert.deepEqual(await checksums(db), original);
      if (variant === 'binary') {
        await db.sql('DROP DATABASE fidelity');
        await execFileAsync('sh', ['-c', `restic -r ${join(dir.path, 'repo')} dump ${stored.snapshotId} /dumpfile.sql | mariadb --no-defaults -uroot --socket=${db.socket} --max-allowed-packet=1G`], { env: { ...process.env, RESTIC_PASSWORD: 'fidelity' } });
        assert.deepEqual(await checksums(db), original, 'restic dump | mariadb');
      }
    });
  }
});
