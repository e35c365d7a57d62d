// The selection's allow-list decisions on tables: the tokenizer's qualifiers, session SETs,
// literal rows, client commands in printed SQL, and the guard's pass / omit / refuse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientCommandProblem } from './client-commands.ts';
import type { SectionOwner } from './dump-sections.ts';
import type { ClassifiedStatement } from './dump-statements.ts';
import { literalRowsProblem } from './literal-rows.ts';
import { SelectionGuard } from './selection-guard.ts';
import { SessionSetFollower } from './session-set.ts';
import { qualifiers, sqlTokens } from './sql-tokens.ts';
import type { SqlModeState } from './sql-tokens.ts';
import { statementKind } from './statement-kind.ts';

const STD: SqlModeState = { backslashEscapes: true, ansiQuotes: false };
const UNKNOWN: SqlModeState = { backslashEscapes: true, ansiQuotes: undefined };

function quals(sql: string, mode: SqlModeState = STD): string[] | string {
  const t = sqlTokens(sql, mode);
  return t.ok ? qualifiers(t.tokens) : `undecidable: ${t.problem}`;
}

describe('sqlTokens: qualified names as the server reads them', () => {
  const cases: [string, string, SqlModeState, string[] | RegExp][] = [
    ['backticks', 'DELETE FROM `shop`.`orders`', STD, ['shop']],
    ['a comment before the dot', 'DELETE FROM `shop`/**/.`orders`', STD, ['shop']],
    ['spaces and a newline', 'DELETE FROM `shop`  \n .  orders', STD, ['shop']],
    ['a line comment between', 'DELETE FROM shop -- x\n.orders', STD, ['shop']],
    ['a # comment between', 'DELETE FROM shop # x\n.orders', STD, ['shop']],
    ['inside an executable comment', '/*!50003 DELETE FROM shop.orders */', STD, ['shop']],
    ['"db".t under ANSI_QUOTES', 'DELETE FROM "shop".orders', { backslashEscapes: true, ansiQuotes: true }, ['shop']],
    ['"db".t, ANSI_QUOTES not known', 'DELETE FROM "shop".orders', UNKNOWN, ['shop']],
    ['"db".t without ANSI_QUOTES: a string', 'SELECT "shop".orders', STD, []],
    ['names in strings are not names', "SELECT 'shop.orders', `a.b`", STD, []],
    ['a backslash-escaped quote keeps the string open', "SELECT 'x\\' , shop.orders'", STD, []],
    ['without backslash escapes it closes', "SELECT 'x\\' , shop.orders, ''", { backslashEscapes: false, ansiQuotes: false }, ['shop']],
    ['numbers are not qualifiers', 'SELECT 1.5, .5, 1e5', STD, []],
    ['a variable is not a qualifier', 'SET @a = @@session.sql_mode', STD, []],
    ['table qualifiers of columns count too', 'SELECT `orders`.`id` FROM `orders`', STD, ['orders']],
    ['a comment in an executable comment', '/*!50003 DELETE FROM shop /* x */ .orders */', STD, /undecidable/],
    ["'--' before a control character", 'DELETE FROM orders --\u0001\n', STD, /undecidable/],
    ['a string that does not end', "SELECT 'x", STD, /undecidable/],
    ['an executable comment of 7 version digits', '/*!5000001shop.orders */', STD, /undecidable/],
    ['mariadb-dump\'s /*M! comment', '/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY */', STD, []],
    ['"a\\" with ANSI_QUOTES not known', 'SELECT "a\\" . shop.x "', UNKNOWN, /undecidable/],
  ];
  for (const [name, sql, mode, want] of cases) {
    it(name, () => {
      const got = quals(sql, mode);
      if (want instanceof RegExp) assert.match(String(got), want);
      else assert.deepEqual(got, want);
    });
  }
});

describe('SessionSetFollower: SETs of literals and variables, sql_mode followed', () => {
  const follow = (f: SessionSetFollower, sql: string) => {
    const t = sqlTokens(sql, f.mode);
    assert.ok(t.ok);
    return f.follow(t.tokens);
  };
  const passes = [
    '/*!40101 SET NAMES utf8mb4 */',
    'SET NAMES utf8mb4 COLLATE utf8mb4_general_ci',
    '/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */',
    "/*!40103 SET TIME_ZONE='+00:00' */",
    '/*!40101 SET character_set_client = @saved_cs_client */',
    '/*M!101100 SET @old_system_versioning_insert_history=@@session.system_versioning_insert_history, @@session.system_versioning_insert_history=1 */',
    'set autocommit=0',
    'SET SESSION sql_log_bin = 0, @x := -1',
  ];
  for (const sql of passes) it(`passes ${sql}`, () => assert.equal(follow(new SessionSetFollower(UNKNOWN), sql), undefined));
  const refused = ['SET @x = shop.f()', 'SET @x = f()', 'SET @x = (SELECT 1)', 'SET GLOBAL x = 1', 'SET @@global.x = 1', 'SET sql_mode = DEFAULT', 'SET sql_mode = @unknown', 'SET sql_mode = CONCAT(@@sql_mode, \',ANSI_QUOTES\')', 'SET PASSWORD = \'x\''];
  for (const sql of refused) it(`refuses ${sql}`, () => assert.notEqual(follow(new SessionSetFollower(UNKNOWN), sql), undefined));

  it('refuses an sql_mode set in a /*M! comment (it runs only on newer servers)', () => {
    const f = new SessionSetFollower(STD);
    const t = sqlTokens("/*M!999998 SET sql_mode = '' */", f.mode);
    assert.ok(t.ok && t.conditional);
    assert.match(String(f.follow(t.tokens, t.conditional)), /may not run/);
  });

  it('follows sql_mode: literals, saved and restored, IFNULL of a saved one', () => {
    const f = new SessionSetFollower(UNKNOWN);
    assert.equal(follow(f, "SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO'"), undefined);
    assert.deepEqual(f.mode, STD);
    assert.equal(follow(f, 'SET @saved = @@sql_mode'), undefined);
    assert.equal(follow(f, "SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'"), undefined);
    assert.deepEqual(f.mode, { ansiQuotes: true, backslashEscapes: false });
    assert.equal(follow(f, 'SET sql_mode = @saved'), undefined);
    assert.deepEqual(f.mode, STD);
    assert.equal(follow(f, "SET sql_mode = 'ORACLE'"), undefined);
    assert.equal(f.mode.ansiQuotes, true);
    assert.equal(follow(f, "SET SQL_MODE=IFNULL(@OLD_SQL_MODE,'')"), undefined);
    assert.deepEqual(f.mode, UNKNOWN, 'back to the mode before the dump, which is not known');
  });
});

describe('literalRowsProblem: VALUES of literals only', () => {
  for (const v of ["(1,'a\\'b',NULL),(-2.5e-3,0x00FF,x'ab',b'101',_binary 'x',_utf8mb4'y','')", "(1, 'it''s')", '(1.5)']) {
    it(`passes ${v}`, () => assert.equal(literalRowsProblem(v, 0, true), undefined));
  }
  for (const v of ['(1),(shop.f())', '((SELECT 1))', '(@x)', '(`a`)', '(1) -- x', '(1) /* x */', '("x")', "('x", '(NOW())', '(1);DELETE']) {
    it(`refuses ${v}`, () => assert.notEqual(literalRowsProblem(v, 0, true), undefined));
  }
});

describe('clientCommandProblem: printed SQL runs no client command', () => {
  it('reads strings as the session does', () => {
    assert.equal(clientCommandProblem(Buffer.from("SELECT 'x\\' \\! y'"), true), undefined);
    assert.notEqual(clientCommandProblem(Buffer.from("SELECT 'x\\' \\! y'"), false), undefined);
  });
  const problem = (s: string) => clientCommandProblem(Buffer.from(s));
  for (const s of ['INSERT INTO `t` VALUES (\'\\\\! not a command\')', 'USE `shop_restored`', '/*M!999999\\- enable the sandbox mode */ \n-- dump\n/*!40101 SET NAMES utf8mb4 */', "CREATE TABLE `t` (\n  `status` int COMMENT 'a\\\\b'\n)", '/* \\! in a comment */ SELECT 1']) {
    it(`passes ${JSON.stringify(s).slice(0, 60)}`, () => assert.equal(problem(s), undefined));
  }
  for (const s of ['\\! touch x', 'SELECT 1 \\! touch x', '/*!50003 CREATE TRIGGER x BEGIN \\! touch y END */', 'system touch x', 'SELECT 1,\nsource /etc/passwd', 'USE other', 'use `a`; \\! x']) {
    it(`refuses ${JSON.stringify(s)}`, () => assert.notEqual(problem(s), undefined));
  }
});

describe('SelectionGuard: pass, omit, refuse', () => {
  const st = (sql: string): ClassifiedStatement => {
    const text = Buffer.from(sql);
    const base = { offset: 0, contentOffset: 0, end: text.length, text, head: text.subarray(0, 512), topLevelGroups: (sql.match(/\(/g) ?? []).length, delimiter: ';' };
    return { ...base, what: statementKind(base) };
  };
  const data: SectionOwner = { part: 'data', database: 'shop', table: 'orders' };
  const structure: SectionOwner = { part: 'structure', database: 'shop', table: 'orders' };
  const trigger: SectionOwner = { part: 'object', database: 'shop', kind: 'trigger', name: 'tr', table: 'orders' };
  const cases: [string, string | undefined, SectionOwner, string, string][] = [
    ['rows of the section', 'x', data, 'INSERT INTO `orders` VALUES (1),(2)', 'pass'],
    ['rows of another table', 'x', data, 'INSERT INTO `keep` VALUES (1)', 'refuse'],
    ['the section\'s DROP TABLE', 'x', structure, 'DROP TABLE IF EXISTS `orders`', 'pass'],
    ['another DROP TABLE', 'x', structure, 'DROP TABLE IF EXISTS `keep`', 'refuse'],
    ['a CREATE TABLE with a foreign key into the original', 'x', structure, 'CREATE TABLE `orders` (`c` int, FOREIGN KEY (`c`) REFERENCES `shop`.`customers` (`id`))', 'refuse'],
    ['a CREATE TABLE with a foreign key into the target', 'x', structure, 'CREATE TABLE `orders` (`c` int, FOREIGN KEY (`c`) REFERENCES `x`.`customers` (`id`))', 'pass'],
    ['LOCK TABLES of the section', 'x', data, 'LOCK TABLES `orders` WRITE', 'pass'],
    ['UNLOCK TABLES', 'x', data, 'UNLOCK TABLES', 'pass'],
    ['a trigger naming the original (as)', 'x', trigger, 'CREATE TRIGGER tr AFTER INSERT ON orders FOR EACH ROW DELETE FROM shop.keep', 'omit'],
    ['the same without as', undefined, trigger, 'CREATE TRIGGER tr AFTER INSERT ON orders FOR EACH ROW DELETE FROM shop.keep', 'pass'],
    ['a trigger in another database', undefined, trigger, 'CREATE TRIGGER other.tr AFTER INSERT ON orders FOR EACH ROW SET @a = 1', 'omit'],
    ['a trigger on another database\'s table', undefined, trigger, 'CREATE TRIGGER tr AFTER INSERT ON other.orders FOR EACH ROW SET @a = 1', 'omit'],
    ['a trigger using NEW and OLD', 'x', trigger, 'CREATE TRIGGER tr BEFORE UPDATE ON orders FOR EACH ROW SET NEW.a = OLD.a', 'pass'],
    ['mariadb-dump\'s ALTER DATABASE of the original (as)', 'x', trigger, '/*!50003 ALTER DATABASE `shop` CHARACTER SET latin1 COLLATE latin1_swedish_ci */', 'omit'],
    ['the same without as', undefined, trigger, '/*!50003 ALTER DATABASE `shop` CHARACTER SET latin1 COLLATE latin1_swedish_ci */', 'pass'],
    ['an ALTER DATABASE of another', undefined, trigger, '/*!50003 ALTER DATABASE `other` CHARACTER SET latin1 COLLATE latin1_swedish_ci */', 'refuse'],
    ['a SELECT', 'x', data, 'SELECT 1', 'refuse'],
    ['a DELETE', 'x', data, 'DELETE FROM `orders`', 'refuse'],
    ['a CALL', 'x', data, 'CALL p()', 'refuse'],
    // The classification reads the first 512 bytes: what follows them is part of the statement.
    ['the section\'s DROP TABLE that drops another table past its first 512 bytes', 'x', structure, `DROP TABLE IF EXISTS \`orders\`${' '.repeat(600)}, \`shop\`.\`keep\``, 'refuse'],
    ['the section\'s ENABLE KEYS that moves it into the original past its first 512 bytes', 'x', data, `/*!40000 ALTER TABLE \`orders\` ENABLE KEYS${' '.repeat(600)}, RENAME TO \`shop\`.\`orders\` */`, 'refuse'],
  ];
  for (const [name, as, owner, sql, want] of cases) {
    it(`${want}s ${name}`, () => assert.equal(new SelectionGuard(as).check(st(sql), owner, 'shop').action, want));
  }
  it('refuses rows of a table after a trigger on it, and passes them again once it is dropped and created anew', () => {
    const g = new SelectionGuard('x');
    assert.equal(g.check(st('CREATE TRIGGER tr BEFORE INSERT ON orders FOR EACH ROW SET NEW.a = 1'), trigger, 'shop').action, 'pass');
    assert.equal(g.check(st('INSERT INTO `orders` VALUES (1)'), data, 'shop').action, 'refuse');
    assert.equal(g.check(st('DROP TABLE IF EXISTS `orders`'), structure, 'shop').action, 'pass');
    assert.equal(g.check(st('INSERT INTO `orders` VALUES (1)'), data, 'shop').action, 'pass');
  });
  it('refuses rows of a table after a trigger on a name that differs only in case (one table under lower_case_table_names=1)', () => {
    const g = new SelectionGuard('x');
    const upper: SectionOwner = { part: 'object', database: 'shop', kind: 'trigger', name: 'tr', table: 'ORDERS' };
    assert.equal(g.check(st('CREATE TRIGGER tr BEFORE INSERT ON ORDERS FOR EACH ROW SET NEW.a = 1'), upper, 'shop').action, 'pass');
    assert.equal(g.check(st('INSERT INTO `orders` VALUES (1)'), data, 'shop').action, 'refuse');
    // DROP TABLE `orders` may be another table (lower_case_table_names=0): ORDERS' trigger still counts.
    assert.equal(g.check(st('DROP TABLE IF EXISTS `orders`'), structure, 'shop').action, 'pass');
    assert.equal(g.check(st('INSERT INTO `orders` VALUES (1)'), data, 'shop').action, 'refuse');
  });

  it('reads later statements with the sql_mode the session statements set', () => {
    const g = new SelectionGuard('x');
    assert.equal(g.header(st("SET sql_mode = ''")).action, 'pass');
    assert.equal(g.check(st('CREATE TABLE `orders` (`a` varchar(3) DEFAULT "shop".x)'), structure, 'shop').action, 'pass');
    assert.equal(g.check(st("SET sql_mode = 'ANSI_QUOTES'"), structure, 'shop').action, 'pass');
    assert.equal(g.check(st('CREATE TABLE `orders` (`a` varchar(3) DEFAULT "shop".x)'), structure, 'shop').action, 'refuse');
  });
});
