// A granular restore (tables, a database, --as another name) changes nothing outside its
// selection, however the dump spells a name; and `repo dump --table` output runs no client
// command when loaded with mariadb. Real MariaDB; the statements go through the seam the restore
// runner uses (splitDump -> selectStatements -> loadDump) and the one `repo dump` uses
// (selectStatements -> renderSql).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadDump } from '../agent/parallel-restore/dump-loader.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { SANDBOX_LINE } from '../common/sql-dump/client-commands.ts';
import { selectStatements } from '../common/sql-dump/dump-selection.ts';
import type { DumpSelection, SelectionWarning } from '../common/sql-dump/dump-selection.ts';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { renderSql } from '../common/sql-dump/render-sql.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';

const execFileAsync = promisify(execFile);

describe('granular restore safety', () => {
  let db: MariaDB;
  const connection = () => ({ socket: db.socket, username: 'root', password: '' });
  const split = (sql: string) => splitDump(Readable.from([Buffer.from(sql)]), { collect: true });
  /** A granular restore as agent/restore-runner.ts runs it (no start database; the selection creates and USEs its target). */
  const restoreSelection = async (sql: string, selection: DumpSelection, parallel = 2, warnings: SelectionWarning[] = []) =>
    loadDump(selectStatements(split(sql), selection, { onWarning: (w) => warnings.push(w) }), { connection: connection(), parallel, signal: new AbortController().signal });
  const original = async () => (await db.sql('SELECT GROUP_CONCAT(id ORDER BY id) FROM shop.orders')).trim();
  const refused = (err: unknown) => isSidestashError(err, ErrorCodes.RESTORE_FAILED) && /cannot be restored selectively/.test(err.message);
  const toShopRestored: DumpSelection = { tables: [{ database: 'shop', table: 'orders' }], as: 'shop_restored' };

  before(async () => {
    db = await startMariaDB();
  });
  after(async () => {
    await db?.stop();
  });

  const resetShop = async () => {
    await db.sql('DROP DATABASE IF EXISTS shop; DROP DATABASE IF EXISTS shop_restored; DROP DATABASE IF EXISTS other; CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY); INSERT INTO shop.orders VALUES (10),(11),(12); CREATE TABLE shop.keep (id INT); CREATE DATABASE other; CREATE TABLE other.keep (id INT PRIMARY KEY); INSERT INTO other.keep VALUES (1);');
  };
  const untouched = async () => {
    assert.equal(await original(), '10,11,12', 'shop.orders was changed');
    assert.equal((await db.sql("SELECT COUNT(*) FROM information_schema.tables WHERE (table_schema, table_name) IN (('other', 'keep'), ('shop', 'keep'))")).trim(), '2', 'a table outside the selection was dropped');
    assert.equal((await db.sql('SELECT COUNT(*) FROM other.keep')).trim(), '1', 'other.keep was changed');
  };
  /** A mariadb-dump-shaped dump of shop.orders, with `evil` in the table's data section and `after` behind it. */
  const dumpWith = (evil: string, afterData = '') => `/*M!999999\\- enable the sandbox mode */ 
-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)
/*!40101 SET NAMES utf8mb4 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
CREATE DATABASE /*!32312 IF NOT EXISTS*/ \`shop\` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */;
USE \`shop\`;
DROP TABLE IF EXISTS \`orders\`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE \`orders\` (
  \`id\` int(11) NOT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
/*!40101 SET character_set_client = @saved_cs_client */;
LOCK TABLES \`orders\` WRITE;
/*!40000 ALTER TABLE \`orders\` DISABLE KEYS */;
INSERT INTO \`orders\` VALUES (1),(2);
${evil}
/*!40000 ALTER TABLE \`orders\` ENABLE KEYS */;
UNLOCK TABLES;
${afterData}
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
`;

  it('restores the table --as another name from a plain dump, the original untouched', async () => {
    await resetShop();
    await restoreSelection(dumpWith(''), toShopRestored);
    await untouched();
    assert.equal((await db.sql('SELECT GROUP_CONCAT(id ORDER BY id) FROM shop_restored.orders')).trim(), '1,2');
  });

  it("passes mariadb-dump's own output of every column type, whatever its options, and restores it --as another name", async () => {
    await db.sql(`DROP DATABASE IF EXISTS types; CREATE DATABASE types; SET NAMES utf8mb4;
      CREATE TABLE types.t (id INT PRIMARY KEY, b BIT(5), bl BLOB, vb VARBINARY(10), g GEOMETRY, d DECIMAL(10,3), f DOUBLE, dt DATETIME(6), j JSON, e ENUM('a','b'), s SET('x','y'), u VARCHAR(80) CHARACTER SET utf8mb4, l VARCHAR(20) CHARACTER SET latin1, n INT NULL, CHECK (d > -1000)) WITH SYSTEM VERSIONING;
      INSERT INTO types.t (id, b, bl, vb, g, d, f, dt, j, e, s, u, l, n) VALUES
        (1, b'10101', 0x00FF27225C0A0D1A, 'a\\b''c', ST_GeomFromText('POINT(1 2)'), -12.5, -1.5e-10, '2024-01-02 03:04:05.123456', '{"a": "b.c"}', 'b', 'x,y', 'it''s \\"quoted\\" ✓ -- not a comment; /* nor */ this', 'café', NULL),
        (2, NULL, '', NULL, NULL, 0, 1e300, NULL, NULL, NULL, '', '', '', -3);
      UPDATE types.t SET n = 7 WHERE id = 2;
      CREATE TRIGGER types.t_bu BEFORE UPDATE ON types.t FOR EACH ROW SET NEW.n = IFNULL(NEW.n, 0);
      CREATE VIEW types.v AS SELECT t.id, t.u FROM types.t t WHERE t.d > 1.5;`);
    const sums = async (d: string, history = '') => (await db.sql(`SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, HEX(b), HEX(bl), HEX(vb), HEX(g), d, f, dt, j, e, s, HEX(u), HEX(l), n))) FROM \`${d}\`.t ${history}`)).trim();
    const want = await sums('types');
    const wantAll = await sums('types', 'FOR SYSTEM_TIME ALL');
    for (const args of [[], ['--hex-blob'], ['--complete-insert', '--insert-ignore'], ['--replace', '--no-autocommit', '--skip-extended-insert'], ['--dump-history'], ['--compact'], ['--skip-set-charset', '--default-character-set=binary']]) {
      const { stdout } = await execFileAsync('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${db.socket}`, '--single-transaction', '--triggers', '--routines', '--events', ...args, '--databases', 'types'], { encoding: 'buffer', maxBuffer: 1 << 26 });
      await db.sql('DROP DATABASE IF EXISTS types2');
      const warnings: SelectionWarning[] = [];
      await loadDump(selectStatements(splitDump(Readable.from([stdout]), { collect: true }), { database: 'types', as: 'types2' }, { onWarning: (w) => warnings.push(w) }), { connection: connection(), parallel: 2, signal: new AbortController().signal });
      // The trigger and the view as mariadb-dump writes them name the original database.
      assert.deepEqual(warnings.map((w) => w.code), args.includes('--dump-history') ? warnings.map(() => 'NAMES_ORIGINAL_DATABASE') : ['NAMES_ORIGINAL_DATABASE'], `${args.join(' ')}: ${warnings.map((w) => w.message).join('; ')}`);
      // (--compact and --skip-set-charset set no character set: the loader reads such a dump as
      // utf8mb4, as the client does, which binary bytes of a latin1 column are not; how a dump
      // without SET NAMES loads is the loader's matter, not the selection's: parallel-restore-dumps.test.ts.)
      if (!args.includes('--compact') && !args.includes('--skip-set-charset')) assert.equal(await sums('types2'), want, args.join(' '));
      if (args.includes('--dump-history')) assert.equal(await sums('types2', 'FOR SYSTEM_TIME ALL'), wantAll);
    }
  });

  // Each of these would act on the original (or another database) if it ran; each is refused
  // and fails the restore before it runs.
  for (const [name, evil, parallel] of [
    ['a USE with a comment after the name (parallel 1)', 'USE `shop` /* back to the original */;\nDELETE FROM `orders`;', 1],
    ['a USE with a line comment', 'USE other -- x\n;\nDROP TABLE `keep`;', 1],
    ['`db`/**/.`t` (a comment before the dot)', 'DELETE FROM `shop`/**/.`orders`;'],
    ['`db`<two spaces>.`t`', 'DELETE FROM `shop`  .`orders`;'],
    ['`db`<newline>.`t`', 'DELETE FROM `shop`\n.`orders`;'],
    ['"db".t under ANSI_QUOTES', "SET sql_mode = 'ANSI_QUOTES';\nDELETE FROM \"shop\".orders;\nSET sql_mode = '';"],
    ['"db".t where the server default sql_mode could have ANSI_QUOTES', 'DELETE FROM "shop".orders;'],
    ['a session SET calling a function of the original', 'SET @x = `shop`.f();'],
    ['a session SET calling a function', 'SET @x = (SELECT COUNT(*) FROM shop.orders);'],
    ['a SET GLOBAL', 'SET GLOBAL max_connections = 10;'],
    ['rows that call a function', 'INSERT INTO `orders` VALUES (3),(shop.f());'],
    ['rows with a subquery', 'INSERT INTO `orders` VALUES ((SELECT MAX(id) FROM other.keep));'],
    ['rows into the original', 'INSERT INTO `shop`.`orders` VALUES (3);'],
    ['a DROP TABLE of another table in the section', 'DROP TABLE `keep`;'],
    ['a statement mariadb-dump does not write', 'DELETE FROM `orders`;'],
    ['a CREATE TABLE ... SELECT from the original', 'CREATE TABLE `orders` (`id` int) SELECT id FROM `shop`.`orders`;'],
    ['a LOCK TABLES of more tables', 'LOCK TABLES `orders` WRITE, `keep` WRITE;'],
    ['a trigger before the rows it would run on', 'CREATE TRIGGER t_bi BEFORE INSERT ON `orders` FOR EACH ROW DELETE FROM other.keep;\nINSERT INTO `orders` VALUES (5);'],
  ] as [string, string, number?][]) {
    it(`refuses ${name}: restoring shop.orders --as shop_restored fails and changes nothing outside it`, async () => {
      await resetShop();
      await assert.rejects(restoreSelection(dumpWith(evil), toShopRestored, parallel ?? 2), refused);
      await untouched();
    });
  }

  it('a table selection (no --as) writes into no other database', async () => {
    await resetShop();
    await assert.rejects(restoreSelection(dumpWith('USE other -- x\n;\nDROP TABLE `keep`;'), { tables: [{ database: 'shop', table: 'orders' }] }, 1), refused);
    await untouched();
    await assert.rejects(restoreSelection(dumpWith('DELETE FROM `other`.`keep`;'), { tables: [{ database: 'shop', table: 'orders' }] }), refused);
    await untouched();
  });

  it('leaves out (with a warning) a trigger that names the original or another database, and restores the rest', async () => {
    await resetShop();
    const warnings: SelectionWarning[] = [];
    const triggers = [
      'DELIMITER ;;',
      '/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER orders_ai AFTER INSERT ON `orders` FOR EACH ROW DELETE FROM `shop`\n  .  `keep` */;;',
      '/*!50003 CREATE*/ /*!50003 TRIGGER orders_c AFTER UPDATE ON `orders` FOR EACH ROW DELETE FROM `shop` /* a comment in an executable comment */ . `keep` */;;',
      '/*!50003 CREATE*/ /*!50003 TRIGGER other.t2 AFTER INSERT ON `orders` FOR EACH ROW SET @a = 1 */;;',
      '/*!50003 CREATE*/ /*!50003 TRIGGER orders_ok AFTER INSERT ON `orders` FOR EACH ROW SET @n = NEW.id */;;',
      'DELIMITER ;',
    ].join('\n');
    await restoreSelection(dumpWith('', triggers), toShopRestored, 2, warnings);
    await untouched();
    // other.t2 is another database's trigger: not of the selection at all.
    assert.deepEqual(warnings.map((w) => w.code), ['NAMES_ORIGINAL_DATABASE', 'UNDECIDABLE_DEFINITION']);
    assert.equal((await db.sql("SELECT GROUP_CONCAT(trigger_schema, '.', trigger_name) FROM information_schema.triggers WHERE trigger_name LIKE 'orders%' OR trigger_name = 't2'")).trim(), 'shop_restored.orders_ok');
  });

  it('repo dump --table output starts with the sandbox line, which the mariadb client honours', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-'));
    const proof = join(dir, 'ran');
    try {
      const parts: Buffer[] = [];
      // A dump without the line (Stash's, an older mariadb-dump's): the printed SQL has it all the same.
      for await (const b of renderSql(selectStatements(split(dumpWith('').replace(/^.*\n/, '')), toShopRestored))) parts.push(b);
      assert.ok(Buffer.concat(parts).toString().startsWith(`${SANDBOX_LINE} \n`));
      assert.equal(Buffer.concat(parts).toString().split(SANDBOX_LINE).length, 2, 'printed once');
      // The client here (10.11) in sandbox mode refuses a client command after the line.
      const client = spawnSync('mariadb', ['--no-defaults', '-uroot', `--socket=${db.socket}`], { input: `${SANDBOX_LINE}\n\\! touch ${proof}\nSELECT 1;\n` });
      assert.notEqual(client.status, 0);
      assert.match(String(client.stderr), /sandbox/i);
      assert.equal(await access(proof).then(() => true, () => false), false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const [name, line] of [
    ['a backslash command', '\\! touch PROOF'],
    ['a client command word at the start of a line', 'system touch PROOF'],
  ] as const) {
    it(`repo dump --table refuses to print a statement that would run a client command: ${name}`, async () => {
      await resetShop();
      const dir = await mkdtemp(join(tmpdir(), 'r13-'));
      const proof = join(dir, 'pwned');
      try {
        // A trigger after the rows passes the selection; its text carries the command.
        const trigger = `DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER orders_x AFTER INSERT ON \`orders\` FOR EACH ROW BEGIN\nSET @a = 1;\n${line.replace('PROOF', proof)}\nEND */;;\nDELIMITER ;`;
        const parts: Buffer[] = [];
        await assert.rejects(
          (async () => {
            for await (const b of renderSql(selectStatements(split(dumpWith('', trigger)), toShopRestored))) parts.push(b);
          })(),
          (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED) && /client command/.test(err.message),
        );
        // What was printed before the refusal runs no command either.
        spawnSync('mariadb', ['--no-defaults', '-uroot', `--socket=${db.socket}`], { input: Buffer.concat(parts) });
        assert.equal(await access(proof).then(() => true, () => false), false);
        await untouched();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
