// REVIEW-13 FINDINGS (adversarial review of issue 13): each test below FAILS on the code under
// review (main at 36ef361) and shows one defect; the product code is not changed here.
// Real MariaDB; the statements go through the same seam the restore runner uses for a granular
// restore (splitDump -> selectStatements -> loadDump) or a full one (splitDump -> loadDump ->
// verifyTables).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadDump } from '../agent/parallel-restore/dump-loader.ts';
import { selectStatements } from '../common/sql-dump/dump-selection.ts';
import type { DumpSelection } from '../common/sql-dump/dump-selection.ts';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';

describe('REVIEW-13 findings (failing tests: defects of the change under review)', () => {
  let db: MariaDB;
  const connection = () => ({ socket: db.socket, username: 'root', password: '' });
  const split = (sql: string | Buffer) => splitDump(Readable.from([Buffer.isBuffer(sql) ? sql : Buffer.from(sql)]), { collect: true });
  /** A granular restore as agent/restore-runner.ts runs it (no start database; the selection creates and USEs its target). */
  const restoreSelection = async (sql: string, selection: DumpSelection, parallel = 2) =>
    loadDump(selectStatements(split(sql), selection), { connection: connection(), parallel, signal: new AbortController().signal });
  const original = async () => (await db.sql('SELECT GROUP_CONCAT(id ORDER BY id) FROM shop.orders')).trim();

  before(async () => {
    db = await startMariaDB();
  });
  after(async () => {
    await db?.stop();
  });

  const resetShop = async () => {
    await db.sql('DROP DATABASE IF EXISTS shop; DROP DATABASE IF EXISTS shop_restored; DROP DATABASE IF EXISTS other; CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY); INSERT INTO shop.orders VALUES (10),(11),(12);');
  };
  /** A mariadb-dump-shaped dump of shop.orders, with `evil` inside the table's data section. */
  const dumpWith = (evil: string) => `/*!40101 SET NAMES utf8mb4 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
CREATE DATABASE /*!32312 IF NOT EXISTS*/ \`shop\` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */;
USE \`shop\`;
DROP TABLE IF EXISTS \`orders\`;
CREATE TABLE \`orders\` (
  \`id\` int(11) NOT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
LOCK TABLES \`orders\` WRITE;
/*!40000 ALTER TABLE \`orders\` DISABLE KEYS */;
INSERT INTO \`orders\` VALUES (1),(2);
${evil}
/*!40000 ALTER TABLE \`orders\` ENABLE KEYS */;
UNLOCK TABLES;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
`;

  // FINDING 1 (high): --as must never change the original. dump-selection.ts namesDatabase only
  // knows `db`. / `db` . / db\s*. spellings, and a USE that statementKind does not recognise
  // (a comment after the name) is 'ordered', stays in the table's section and is loaded.
  // (The USE case with spec.parallel 1; over N connections the USE lands on one of them and
  // whatever the plan puts on that connection next goes to the original.)
  for (const [name, evil, parallel] of [
    ['a USE with a comment switches the connection back to the original (parallel 1)', 'USE `shop` /* back to the original */;\nDELETE FROM `orders`;', 1],
    ['`db`/**/.`t` (a comment before the dot)', 'DELETE FROM `shop`/**/.`orders`;'],
    ['`db`<two spaces>.`t`', 'DELETE FROM `shop`  .`orders`;'],
    ['`db`<newline>.`t`', 'DELETE FROM `shop`\n.`orders`;'],
    ['"db".t under ANSI_QUOTES (a session statement, which always passes)', "SET sql_mode = 'ANSI_QUOTES';\nDELETE FROM \"shop\".orders;\nSET sql_mode = '';"],
  ] as [string, string, number?][]) {
    it(`FINDING 1: restoring shop.orders --as shop_restored leaves shop.orders untouched: ${name}`, async () => {
      await resetShop();
      try {
        await restoreSelection(dumpWith(evil), { tables: [{ database: 'shop', table: 'orders' }], as: 'shop_restored' }, parallel);
      } catch {
        // Refusing the dump is a fine outcome; changing the original is not.
      }
      assert.equal(await original(), '10,11,12', 'the original database was changed by a restore --as another name');
    });
  }

  it('control (passes): the same dump without the trap leaves the original untouched and restores the copy', async () => {
    await resetShop();
    await restoreSelection(dumpWith('SELECT 1;'), { tables: [{ database: 'shop', table: 'orders' }], as: 'shop_restored' });
    assert.equal(await original(), '10,11,12');
    assert.equal((await db.sql('SELECT GROUP_CONCAT(id ORDER BY id) FROM shop_restored.orders')).trim(), '1,2');
  });

  // FINDING 1b (high): a table selection (no --as) touches a database outside the selection the same way.
  it('FINDING 1b: restoring only shop.orders does not write into another database', async () => {
    await resetShop();
    await db.sql('CREATE DATABASE other; CREATE TABLE other.keep (id INT PRIMARY KEY); INSERT INTO other.keep VALUES (1);');
    try {
      await restoreSelection(dumpWith('USE other -- x\n;\nDROP TABLE `keep`;'), { tables: [{ database: 'shop', table: 'orders' }] }, 1);
    } catch {
      // a refusal is fine
    }
    assert.equal((await db.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'other' AND table_name = 'keep'")).trim(), '1', 'other.keep was dropped by a restore of shop.orders');
  });

  // FINDING 9 (medium): `sidestash repo dump --table` prints SQL "loadable with mariadb as
  // printed" (cli/repo-dump-selection.ts, render-sql.ts), but passes a snapshot's statements
  // through as they are and does not start with mariadb-dump's sandbox line: a snapshot without
  // it (Stash's, older mariadb-dump, a crafted one) can put a client command (\! shell) in the
  // selected table's section, and the DBA who loads the printed SQL with `mariadb` runs it.
  // The agent's own restore is safe (statements go over the wire); the printed SQL is not.
  it('FINDING 9: repo dump --table output runs no client command when loaded with mariadb', async () => {
    await resetShop();
    const { mkdtemp, rm, access } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { renderSql } = await import('../common/sql-dump/render-sql.ts');
    const dir = await mkdtemp(join(tmpdir(), 'r13-'));
    const proof = join(dir, 'pwned');
    try {
      const sql = dumpWith(`\\! touch ${proof}\nSELECT 1;`);
      const parts: Buffer[] = [];
      for await (const b of renderSql(selectStatements(split(sql), { tables: [{ database: 'shop', table: 'orders' }], as: 'shop_restored' }))) parts.push(b);
      const printed = Buffer.concat(parts);
      const client = spawnSync('mariadb', ['--no-defaults', '-uroot', `--socket=${db.socket}`], { input: printed });
      assert.equal(client.status, 0, String(client.stderr));
      const ran = await access(proof).then(() => true, () => false);
      assert.equal(ran, false, 'loading the printed SQL with mariadb ran a shell command from the snapshot');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
