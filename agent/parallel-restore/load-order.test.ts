import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { createTableReads } from '../../common/sql-dump/create-table-reads.ts';
import { splitDump } from '../../common/sql-dump/dump-statements.ts';
import type { ClassifiedStatement } from '../../common/sql-dump/dump-statements.ts';
import { loadOrder } from './load-order.ts';

async function taken(sql: string, parallel: number): Promise<ClassifiedStatement[]> {
  const out: ClassifiedStatement[] = [];
  for await (const st of loadOrder(splitDump(Readable.from([Buffer.from(sql)]), { collect: true }), parallel)) out.push(st);
  return out;
}

const section = (t: string) => [`DROP TABLE IF EXISTS \`${t}\`;`, `CREATE TABLE \`${t}\` (id int, KEY (id)) ENGINE=MyISAM;`, `/*!40000 ALTER TABLE \`${t}\` DISABLE KEYS */;`, `INSERT INTO \`${t}\` VALUES (1);`, `/*!40000 ALTER TABLE \`${t}\` ENABLE KEYS */;`];

describe('loadOrder', () => {
  it('plans a CREATE TABLE that reads another table as an ordered statement', async () => {
    const creates = ['CREATE TABLE `b` (id int) SELECT * FROM `a`', 'CREATE TABLE `b` (id int) AS /*!50001 select */ id FROM `a`', 'CREATE TABLE `b` (LIKE `a`)', "CREATE TABLE `b` (id int) SELECT 'x' AS id"];
    const got = await taken(creates.map((c) => `${c};`).join('\n'), 2);
    assert.deepEqual(got.map((st) => st.what), creates.map(() => ({ kind: 'ordered' })));
  });

  it("keeps mariadb-dump's CREATE TABLE table DDL (comments, strings, backslashes, partitions)", async () => {
    const create = "CREATE TABLE `b` (\n  `id` int NOT NULL COMMENT 'it''s a \\\\ select, like',\n  `s` varchar(9) DEFAULT 'LIKE',\n  `select` int,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='SELECT'\n/*!50100 PARTITION BY HASH (`id`) PARTITIONS 2 */";
    assert.equal(createTableReads(create), false);
    const got = await taken(`${create};`, 2);
    assert.deepEqual(got[0]!.what, { kind: 'table-ddl', table: 'b', verb: 'create' });
  });

  it('plans an INSERT that is not of the VALUES form (... SELECT, ... SET) as an ordered statement', async () => {
    const inserts = ['INSERT INTO `x` SELECT * FROM `a`', 'INSERT INTO `x` (`id`) SELECT `id` FROM `a`', 'REPLACE INTO `x` (SELECT * FROM `a`)', 'INSERT INTO `x` SET `id` = (SELECT MAX(`id`) FROM `a`)', 'INSERT INTO `x` TABLE `a`', 'INSERT INTO `x` VALUESX'];
    const got = await taken(inserts.map((c) => `${c};`).join('\n'), 2);
    assert.deepEqual(got.map((st) => st.what), inserts.map(() => ({ kind: 'ordered' })));
  });

  it("keeps mariadb-dump's INSERTs rows, a column list longer than the head too", async () => {
    const columns = Array.from({ length: 40 }, (_, i) => `\`column_with_a_long_name_${i}\``);
    const inserts = ['INSERT INTO `t` VALUES (1),(2)', 'INSERT IGNORE INTO `t` VALUES (1)', 'REPLACE INTO `d`.`t` VALUES (1)', 'INSERT INTO `t` (`id`, `k`) VALUES (1,2)', 'INSERT INTO `t` (`id`, row_start, row_end) VALUES (1,2,3)', `INSERT INTO \`t\` (${columns.join(', ')}) VALUES (${columns.map((_, i) => i).join(',')})`];
    assert.ok(inserts.at(-1)!.indexOf('VALUES') > 512);
    const got = await taken(inserts.map((c) => `${c};`).join('\n'), 2);
    assert.deepEqual(got.map((st) => st.what.kind), inserts.map(() => 'data'));
  });

  it('counts a text it cannot read for sure as reading', () => {
    assert.equal(createTableReads("CREATE TABLE `b` (id int COMMENT 'x\\' , SELECT 1 FROM a, '')"), true);
    assert.equal(createTableReads("CREATE TABLE `b` (id int COMMENT 'open)"), true);
  });

  it('holds ENABLE KEYS back over two connections and keeps the dump order over one (a binary log replay)', async () => {
    const sql = [...section('a'), ...section('b')].join('\n');
    const texts = (sts: ClassifiedStatement[]) => sts.map((st) => st.text!.toString());
    const dumpOrder = texts(await taken(sql, 1));
    assert.deepEqual(dumpOrder, sql.split('\n').map((l) => l.replace(/;$/, '')));
    const two = texts(await taken(sql, 2));
    assert.notDeepEqual(two, dumpOrder);
    assert.equal(two.indexOf('/*!40000 ALTER TABLE `a` ENABLE KEYS */'), two.length - 2);
  });
});
