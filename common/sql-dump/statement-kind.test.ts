import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqlModeTracker, statementKind } from './statement-kind.ts';
import { HEAD_BYTES, StatementSplitter } from './statement-splitter.ts';

const kindOf = (sql: string) => {
  const s = new StatementSplitter();
  return statementKind([...s.feed(Buffer.from(`${sql};`)), ...s.end()][0]!);
};

describe('statementKind', () => {
  const table: [string, unknown][] = [
    ["INSERT INTO `t` VALUES (1),(2),(3)", { kind: 'data', table: 't', rows: 3 }],
    ["INSERT INTO `a``b` (`x`,`y`) VALUES (1,'('),(2,')')", { kind: 'data', table: 'a`b', rows: 2 }],
    ['REPLACE INTO `d`.`t` VALUES (1)', { kind: 'data', database: 'd', table: 't', rows: 1 }],
    ['INSERT IGNORE INTO `t` VALUES (1)', { kind: 'data', table: 't', rows: 1 }],
    ["/*M!999999\\- enable the sandbox mode */ \n/*!40101 SET NAMES utf8mb4 */", { kind: 'session' }],
    // mariadb-dump 10.11's first statement: the sandbox line, its header comment, then the first SET.
    ["/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n-- Host: localhost    Database: \n# x\n/* plain */\n/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */", { kind: 'session' }],
    ["/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */", { kind: 'session' }],
    ["/*!40000 SET GLOBAL gtid_slave_pos='0-1-5' */", { kind: 'ordered' }],
    ['USE `shop`', { kind: 'use', database: 'shop' }],
    ['USE shop', { kind: 'use', database: 'shop' }],
    ['use `a``b` ', { kind: 'use', database: 'a`b' }],
    ['USE shop x', { kind: 'ordered' }],
    // The first statement of a newer mariadb-dump: the sandbox line, the header comments, then a SET.
    ['/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19\n--\n-- Host: localhost    Database: shop\n-- ------\n/* a plain comment */\n# another\n/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */', { kind: 'session' }],
    ['CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */', { kind: 'create-database', database: 'shop' }],
    ['/*!40000 DROP DATABASE IF EXISTS `shop`*/', { kind: 'drop-database', database: 'shop' }],
    ['DROP TABLE IF EXISTS `orders`', { kind: 'table-ddl', table: 'orders', verb: 'drop' }],
    ['CREATE TABLE `orders` (\n `id` int)', { kind: 'table-ddl', table: 'orders', verb: 'create' }],
    ['/*!40000 ALTER TABLE `orders` DISABLE KEYS */', { kind: 'table-ddl', table: 'orders', verb: 'alter' }],
    ['ALTER TABLE `orders` ADD COLUMN x int', { kind: 'ordered' }],
    ['LOCK TABLES `orders` WRITE', { kind: 'lock' }],
    ['UNLOCK TABLES', { kind: 'lock' }],
    ['commit', { kind: 'transaction' }],
    ['/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50001 VIEW `v` AS select 1 */', { kind: 'ordered' }],
    ['DROP TABLE IF EXISTS `a`, `b`', { kind: 'ordered' }],
    ['CREATE TABLE `t2` SELECT * FROM `t`', { kind: 'ordered' }],
    ["SELECT 'x'", { kind: 'ordered' }],
  ];
  for (const [sql, want] of table) it(sql.slice(0, 60), () => assert.deepEqual(kindOf(sql), want));

  // Classification reads the first HEAD_BYTES of a statement: a form that must end where its name
  // ends (one table dropped, keys switched, a plain USE/COMMIT/UNLOCK) is not that form when the
  // statement goes on past the head (DROP TABLE `a` <spaces>, `prod`.`orders` drops two tables).
  const longer: [string, string][] = [
    ['DROP TABLE IF EXISTS `a`', ', `prod`.`orders`'],
    ['/*!40000 ALTER TABLE `a` ENABLE KEYS', ', RENAME TO `prod`.`a` */'],
    ['ALTER TABLE `a` DISABLE KEYS', ', DROP COLUMN `id`'],
    ['USE `shop`', ' x'],
    ['COMMIT', ' AND CHAIN'],
    ['UNLOCK TABLES', ' x'],
  ];
  for (const [start, rest] of longer) {
    it(`${start} with more past the first ${HEAD_BYTES} bytes is ordered`, () => {
      const pad = ' '.repeat(HEAD_BYTES - start.length);
      assert.notEqual(kindOf(`${start}${pad}`).kind, 'ordered', 'the same head, the whole statement');
      assert.deepEqual(kindOf(`${start}${pad}${rest}`), { kind: 'ordered' });
    });
  }
});

describe('SqlModeTracker', () => {
  it("follows mariadb-dump's save, set and restore of sql_mode", () => {
    const t = new SqlModeTracker();
    assert.equal(t.follow("SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */"), false);
    t.follow('SET @saved_sql_mode       = @@sql_mode */');
    assert.equal(t.follow("SET sql_mode              = 'NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES' */"), true);
    assert.equal(t.backslashEscapes, false);
    assert.equal(t.follow('SET sql_mode              = @saved_sql_mode */'), true);
    assert.equal(t.backslashEscapes, true);
  });

  it("follows mariadb-binlog's numeric sql_mode (NO_BACKSLASH_ESCAPES is bit 20)", () => {
    const t = new SqlModeTracker();
    assert.equal(t.follow('SET @@session.sql_mode=1411383296'), false);
    assert.equal(t.follow(`SET @@session.sql_mode=${1411383296 + 2 ** 20}`), true);
    assert.equal(t.backslashEscapes, false);
    assert.equal(t.follow('SET @@session.sql_mode=1411383296'), true);
    assert.equal(t.backslashEscapes, true);
  });
});
