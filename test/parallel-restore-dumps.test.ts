// The parallel loader and the verification after it on dumps of less usual shapes, against a
// real MariaDB, through the seam the restore runner uses (splitDump -> loadDump -> verifyTables):
// each restores as `mariadb < dump` does and verifies. A dump holding a table twice, a dump
// without SET NAMES or without foreign_key_checks=0 (mariadb-dump --compact), a dump of one
// database without USE, system-versioned tables with their history; a cancel during the
// verification; a deadlock inside a transaction the dump opened.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadDump } from '../agent/parallel-restore/dump-loader.ts';
import { RestoreConnection } from '../agent/parallel-restore/restore-connection.ts';
import { mismatches, verifyTables } from '../agent/parallel-restore/restore-verify.ts';
import type { TableRows } from '../agent/parallel-restore/dump-loader.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';

const execFileAsync = promisify(execFile);

describe('parallel restore of dumps of every shape', () => {
  let db: MariaDB;
  const connection = () => ({ socket: db.socket, username: 'root', password: '' });
  const split = (sql: string | Buffer) => splitDump(Readable.from([Buffer.isBuffer(sql) ? sql : Buffer.from(sql)]), { collect: true });
  const dump = async (...args: string[]): Promise<Buffer> =>
    (await execFileAsync('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${db.socket}`, ...args], { encoding: 'buffer', maxBuffer: 1 << 26 })).stdout;
  const load = (sql: string | Buffer, parallel = 2, database?: string) =>
    loadDump(split(sql), { connection: connection(), parallel, signal: new AbortController().signal, ...(database ? { database } : {}) });
  const verify = async (tables: TableRows[]) => {
    const conn = await RestoreConnection.open(connection());
    try {
      return await verifyTables(conn, tables);
    } finally {
      await conn.end();
    }
  };
  const shopOrders = async () => (await db.sql('SELECT GROUP_CONCAT(id ORDER BY id) FROM shop.orders')).trim();
  const resetShop = () => db.sql('DROP DATABASE IF EXISTS shop; CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY); INSERT INTO shop.orders VALUES (10),(11),(12);');

  before(async () => {
    db = await startMariaDB();
  });
  after(async () => {
    await db?.stop();
  });

  it('a dump holding a table twice (mariadb-dump --databases shop shop) verifies against its last section', async () => {
    await resetShop();
    const sql = await dump('--single-transaction', '--databases', 'shop', 'shop');
    await db.sql('DROP DATABASE shop');
    const r = await load(sql);
    assert.equal(await shopOrders(), '10,11,12', 'the load itself is right');
    assert.deepEqual(r.tables, [{ database: 'shop', table: 'orders', rows: 3 }]);
    assert.deepEqual(mismatches(await verify(r.tables)), []);
  });

  it('a USE the agent cannot read fails the load instead of switching one connection only', async () => {
    await resetShop();
    await db.sql('CREATE DATABASE IF NOT EXISTS other; CREATE TABLE IF NOT EXISTS other.orders (id INT PRIMARY KEY)');
    const sql = 'USE `shop`;\nUSE `other` /* a comment */;\nINSERT INTO `orders` VALUES (1),(2);\nINSERT INTO `orders` VALUES (3);\n';
    await assert.rejects(load(sql), (err: Error & { code?: string; details?: { offset?: number } }) => err.code === 'SIDESTASH_RESTORE_FAILED' && /a USE the agent cannot read/.test(err.message) && err.details?.offset === 12);
    assert.equal(await shopOrders(), '10,11,12', 'nothing after it ran');
    assert.equal((await db.sql('SELECT COUNT(*) FROM other.orders')).trim(), '0');
  });

  it('a dump without SET NAMES (--compact) restores text as `mariadb < dump` does, 4-byte characters too', async () => {
    await db.sql("DROP DATABASE IF EXISTS cs; CREATE DATABASE cs; CREATE TABLE cs.l (id INT PRIMARY KEY, s VARCHAR(20) CHARACTER SET latin1, u VARCHAR(20) CHARACTER SET utf8mb4); SET NAMES utf8mb4; INSERT INTO cs.l VALUES (1, 'café', 'café ✓ 😀');");
    const want = (await db.sql('SELECT HEX(s), HEX(u) FROM cs.l')).trim();
    assert.equal(want, '636166E9\t636166C3A920E29C9320F09F9880');
    const sql = await dump('--compact', '--databases', 'cs');
    assert.ok(!sql.includes('SET NAMES'), 'a --compact dump sets no character set');
    await db.sql('DROP DATABASE cs');
    await load(sql);
    assert.equal((await db.sql('SELECT HEX(s), HEX(u) FROM cs.l')).trim(), want, 'restored text differs from the original');
  });

  it('a dump without foreign_key_checks=0 whose child rows could overtake the parent\'s restores over 2 connections', async () => {
    const rows = Array.from({ length: 60000 }, (_, i) => `(${i + 3},'${'x'.repeat(100)}')`).join(',');
    const sql = `CREATE DATABASE \`fk\`;
USE \`fk\`;
CREATE TABLE \`customers\` (\`id\` int NOT NULL, \`pad\` varchar(100), PRIMARY KEY (\`id\`)) ENGINE=InnoDB;
INSERT INTO \`customers\` VALUES (1,'a'),(2,'b');
INSERT INTO \`customers\` VALUES ${rows};
CREATE TABLE \`orders\` (\`id\` int NOT NULL, \`customer\` int NOT NULL, PRIMARY KEY (\`id\`), FOREIGN KEY (\`customer\`) REFERENCES \`customers\` (\`id\`)) ENGINE=InnoDB;
INSERT INTO \`orders\` VALUES (1,60002);
`;
    await db.sql('DROP DATABASE IF EXISTS fk');
    const client = spawnSync('mariadb', ['--no-defaults', '-uroot', `--socket=${db.socket}`, '--binary-mode', '--sandbox'], { input: sql, maxBuffer: 1 << 26 });
    assert.equal(client.status, 0, `mariadb < dump loads it: ${client.stderr}`);
    await db.sql('DROP DATABASE fk');
    await load(sql);
    assert.equal((await db.sql('SELECT COUNT(*) FROM fk.customers; SELECT COUNT(*) FROM fk.orders')).trim().split('\n').join(','), '60002,1');
  });

  // unique_checks stays the server's (1) until the dump sets it: restore-connection.ts says why.
  it('every connection starts with utf8mb4 and foreign_key_checks=0, the server\'s unique_checks and time zone', async () => {
    await db.sql('DROP DATABASE IF EXISTS sess; CREATE DATABASE sess; CREATE TABLE sess.s (k VARCHAR(40) PRIMARY KEY, v VARCHAR(80))');
    const vars = ['character_set_client', 'character_set_connection', 'character_set_results', 'foreign_key_checks', 'unique_checks', 'time_zone'];
    const sql = `USE \`sess\`;\n${vars.map((v) => `INSERT INTO \`s\` VALUES ('${v}', @@session.${v});`).join('\n')}\n`;
    await load(sql, 3);
    const got = Object.fromEntries((await db.sql('SELECT k, v FROM sess.s')).trim().split('\n').map((l) => l.split('\t')));
    assert.deepEqual(got, { character_set_client: 'utf8mb4', character_set_connection: 'utf8mb4', character_set_results: 'utf8mb4', foreign_key_checks: '0', unique_checks: '1', time_zone: 'SYSTEM' });
  });

  it('one database from a dump without USE (mariadb-dump shop) verifies its tables', async () => {
    await resetShop();
    const sql = await dump('--single-transaction', 'shop');
    await db.sql('DROP DATABASE shop; CREATE DATABASE shop');
    const r = await load(sql, 2, 'shop');
    assert.equal(await shopOrders(), '10,11,12', 'the load itself is right');
    assert.deepEqual(r.tables, [{ database: 'shop', table: 'orders', rows: 3 }]);
    assert.deepEqual(mismatches(await verify(r.tables)), []);
  });

  for (const ordered of [true, false]) {
    it(`MyISAM and Aria tables come back with their indexes enabled and their rows, each ENABLE KEYS run after its table's rows on every connection (${ordered ? 'a trigger and a view between and after the tables' : 'the dump cut after the last table, without its trailer'})`, async () => {
      // Many small INSERTs (--net-buffer-length) spread each table over both connections; a
      // trigger or view is an ordered statement the held ENABLE KEYS must precede, and without
      // them (and without the trailer's SET statements) the held ones run at the dump's end.
      const tables = ['m1', 'm2', 'a1', 'm3'];
      const extra = ordered ? 'CREATE TRIGGER m2_bi BEFORE INSERT ON m2 FOR EACH ROW SET NEW.k = NEW.k; CREATE VIEW v AS SELECT COUNT(*) AS n FROM m1;' : '';
      await db.sql(`DROP DATABASE IF EXISTS mk; CREATE DATABASE mk; USE mk; ${tables.map((t) => `CREATE TABLE ${t} (id INT PRIMARY KEY, k INT, pad VARCHAR(200), KEY (k), KEY (pad)) ENGINE=${t.startsWith('a') ? 'Aria' : 'MyISAM'}; INSERT INTO ${t} SELECT seq, seq % 97, REPEAT(CHAR(65 + seq % 26), 150) FROM seq_1_to_3000;`).join(' ')} ${extra}`);
      const checksums = async () => (await db.sql(`CHECKSUM TABLE ${tables.map((t) => `mk.${t}`).join(', ')}`)).trim();
      const before = await checksums();
      const whole = await dump('--single-transaction', '--triggers', '--net-buffer-length=16384', '--databases', 'mk');
      const sql = ordered ? whole : whole.subarray(0, whole.lastIndexOf('UNLOCK TABLES;') + 'UNLOCK TABLES;'.length);
      assert.equal((sql.toString('latin1').match(/ENABLE KEYS/g) ?? []).length, tables.length, "the dump enables each table's keys");
      await db.sql('DROP DATABASE mk');
      const r = await load(sql);
      assert.equal(await checksums(), before);
      // DISABLE KEYS left without its ENABLE KEYS shows as "disabled" on every non-unique index.
      assert.equal((await db.sql("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'mk' AND COMMENT = 'disabled'")).trim(), '0');
      assert.equal((await db.sql("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'mk' AND NON_UNIQUE = 1")).trim(), String(2 * tables.length));
      if (ordered) assert.equal((await db.sql('SELECT n FROM mk.v')).trim(), '3000');
      assert.deepEqual(mismatches(await verify(r.tables)), []);
    });
  }

  it('a held ENABLE KEYS runs on its own table whatever character set the dump sets after it, and before rows a trigger reads its keys in', async () => {
    const disabled = async () => (await db.sql("SELECT GROUP_CONCAT(TABLE_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'ek' AND COMMENT = 'disabled'")).trim();
    const myisam = (t: string) => `CREATE TABLE \`${t}\` (id INT PRIMARY KEY, k INT, KEY (k)) ENGINE=MyISAM;`;
    const section = (t: string) => [`/*!40000 ALTER TABLE \`${t}\` DISABLE KEYS */;`, `INSERT INTO \`${t}\` VALUES (1,1),(2,2);`, `/*!40000 ALTER TABLE \`${t}\` ENABLE KEYS */;`];
    // Under swe7 the byte [ is the letter Ä: run after the SET, ENABLE KEYS of `a[` enables `aÄ`'s.
    await db.sql('DROP DATABASE IF EXISTS ek; CREATE DATABASE ek');
    await load(['USE `ek`;', myisam('a['), myisam('aÄ'), ...section('a['), '/*!40101 SET character_set_client = swe7 */;'].join('\n'));
    assert.equal(await disabled(), 'NULL', "every table's keys are enabled");
    // A trigger on log reads t's index state: `mariadb < dump` enables t's keys before log's rows.
    await db.sql('DROP DATABASE IF EXISTS ek; CREATE DATABASE ek');
    const trigger = "CREATE TRIGGER `log_bi` BEFORE INSERT ON `log` FOR EACH ROW SET NEW.state = (SELECT IFNULL(MAX(COMMENT), '') FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'ek' AND TABLE_NAME = 't' AND INDEX_NAME = 'k');";
    await load(['USE `ek`;', myisam('t'), 'CREATE TABLE `log` (id INT, state VARCHAR(20));', trigger, ...section('t'), "INSERT INTO `log` VALUES (1, 'x');"].join('\n'));
    assert.equal((await db.sql('SELECT state FROM ek.log')).trim(), '', "t's keys were enabled when log's row came");
    assert.equal(await disabled(), 'NULL');
  });

  it('a held ENABLE KEYS that fails names its own offset and table, though it was planned after later statements', async () => {
    await db.sql('DROP DATABASE IF EXISTS ek; CREATE DATABASE ek');
    const head = 'USE `ek`;\nCREATE TABLE `t` (id INT) ENGINE=MyISAM;\n';
    const sql = `${head}/*!40000 ALTER TABLE \`gone\` ENABLE KEYS */;\nCREATE TABLE \`u\` (id INT);\nINSERT INTO \`u\` VALUES (1);\n`;
    await assert.rejects(load(sql), (err: Error & { code?: string; details?: { offset?: number; table?: string } }) => err.code === 'SIDESTASH_RESTORE_FAILED' && err.details?.offset === Buffer.byteLength(head) && err.details?.table === 'gone' && /doesn't exist/.test(err.message));
  });

  it('a system-versioned table dumped with its history (--dump-history) verifies, counted FOR SYSTEM_TIME ALL', async () => {
    await db.sql('DROP DATABASE IF EXISTS hv; CREATE DATABASE hv; CREATE TABLE hv.t (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING; INSERT INTO hv.t VALUES (1,1),(2,2); UPDATE hv.t SET v=10 WHERE id=1; DELETE FROM hv.t WHERE id=2; CREATE TABLE hv.plain (id INT PRIMARY KEY); INSERT INTO hv.plain VALUES (1),(2);');
    const sql = await dump('--single-transaction', '--dump-history', '--databases', 'hv');
    await db.sql('DROP DATABASE hv');
    const r = await load(sql);
    assert.equal((await db.sql('SELECT COUNT(*) FROM hv.t FOR SYSTEM_TIME ALL')).trim(), '3', 'the load itself is complete, history included');
    const verified = await verify(r.tables);
    assert.deepEqual(verified.map((t) => [t.table, t.expectedRows, t.restoredRows]), [['plain', 2, 2], ['t', 3, 3]]);
    // A row removed after the load is still noticed (current and history rows both count).
    await db.sql('SET @@system_versioning_alter_history = KEEP; ALTER TABLE hv.t DROP SYSTEM VERSIONING');
    assert.deepEqual(mismatches(await verify(r.tables)).map((t) => [t.table, t.restoredRows]), [['t', 1]]);
  });

  it('a cancel stops the verification at once: the statement in flight is KILLed on the server', async () => {
    await resetShop();
    const holder = await RestoreConnection.open(connection());
    const conn = await RestoreConnection.open(connection());
    const waiting = async () => (await db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT COUNT(*) FROM `shop`.`orders`%'")).trim();
    try {
      await holder.query('LOCK TABLES shop.orders WRITE');
      const ac = new AbortController();
      let settled = false;
      const verifying = verifyTables(conn, [{ database: 'shop', table: 'orders', rows: 3 }], { checksum: true, signal: ac.signal }).then(
        () => {
          settled = true;
          return undefined;
        },
        (err: unknown) => {
          settled = true;
          return err;
        },
      );
      // Cancel once the COUNT(*) waits on the server (for the lock the holder keeps).
      while ((await waiting()) === '0');
      ac.abort(new Error('cancelled'));
      // A round trip to the server and back: the kill is one too.
      await db.sql('SELECT SLEEP(2)');
      const stoppedOnCancel = settled;
      const onServer = await waiting();
      await holder.query('UNLOCK TABLES');
      const err = await verifying;
      assert.ok(stoppedOnCancel, 'verification went on after the restore was cancelled');
      assert.equal(onServer, '0', 'the COUNT(*) still waited on the server');
      assert.ok(isSidestashError(err, ErrorCodes.ABORTED), String(err));
    } finally {
      holder.destroy();
      conn.destroy();
    }
  });

  it('a deadlock inside a transaction the dump opened fails the restore instead of running the statement again', async () => {
    await db.sql('DROP DATABASE IF EXISTS tx; CREATE DATABASE tx; CREATE TABLE tx.t (id INT PRIMARY KEY) ENGINE=InnoDB; CREATE TABLE tx.pad (id INT PRIMARY KEY) ENGINE=InnoDB;');
    const sql = 'USE `tx`;\nBEGIN;\nINSERT INTO `t` VALUES (1);\nINSERT INTO `t` VALUES (2);\nCOMMIT;\n';
    const holder = await RestoreConnection.open(connection());
    try {
      // Not the restore's session: with both checks off, an INSERT into an empty table locks all of it.
      await holder.query('SET unique_checks = 1, foreign_key_checks = 1');
      // The holder's transaction is the heavier one (more rows changed): InnoDB picks the restore's as the victim.
      await holder.query('BEGIN');
      await holder.query(`INSERT INTO tx.pad VALUES ${Array.from({ length: 50 }, (_, i) => `(${i})`).join(',')}`);
      await holder.query('INSERT INTO tx.t VALUES (2)');
      const loading = load(sql, 1).then(() => undefined, (err: unknown) => err);
      // The restore's INSERT (2) waits for the holder's row 2 while its transaction holds row 1.
      while ((await db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'INSERT INTO `t` VALUES (2)%'")).trim() === '0');
      // The holder asks for row 1: a deadlock. The restore's transaction (with row 1) is rolled back.
      await holder.query('INSERT INTO tx.t VALUES (1)');
      await holder.query('ROLLBACK');
      const err = await loading;
      assert.ok(isSidestashError(err, ErrorCodes.RESTORE_FAILED), `the restore failed (${String(err)}); rows in tx.t: ${(await db.sql('SELECT GROUP_CONCAT(id) FROM tx.t')).trim()}`);
      assert.equal(err.details?.errno, 1213);
      assert.match(err.message, /inside a transaction the dump opened/);
    } finally {
      holder.destroy();
    }
  });
});
