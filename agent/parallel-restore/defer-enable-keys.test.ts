import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { splitDump } from '../../common/sql-dump/dump-statements.ts';
import type { ClassifiedStatement } from '../../common/sql-dump/dump-statements.ts';
import { HEAD_BYTES } from '../../common/sql-dump/statement-splitter.ts';
import { foldName } from '../../common/sql-dump/fold-name.ts';
import { MAX_HELD, MAX_TRIGGERED, deferEnableKeys } from './defer-enable-keys.ts';

/** The statements of a dump (one per line below) in the order deferEnableKeys yields them, as their first words. */
async function order(sql: string): Promise<string[]> {
  const out: string[] = [];
  for await (const st of deferEnableKeys(splitDump(Readable.from([Buffer.from(sql)]), { collect: true }))) out.push(st.text!.toString('latin1').replace(/\s+/g, ' ').trim());
  return out;
}

const section = (t: string) => [
  `DROP TABLE IF EXISTS \`${t}\`;`,
  '/*!40101 SET @saved_cs_client     = @@character_set_client */;',
  '/*!40101 SET character_set_client = utf8mb4 */;',
  `CREATE TABLE \`${t}\` (id int);`,
  '/*!40101 SET character_set_client = @saved_cs_client */;',
  `LOCK TABLES \`${t}\` WRITE;`,
  `/*!40000 ALTER TABLE \`${t}\` DISABLE KEYS */;`,
  `INSERT INTO \`${t}\` VALUES (1);`,
  `/*!40000 ALTER TABLE \`${t}\` ENABLE KEYS */;`,
  'UNLOCK TABLES;',
];
const enable = (t: string) => `/*!40000 ALTER TABLE \`${t}\` ENABLE KEYS */`;

describe('deferEnableKeys', () => {
  it("holds each ENABLE KEYS past the next tables' sections of a mariadb-dump and yields them, in order, at the end", async () => {
    const sql = ['/*!40101 SET NAMES utf8mb4 */;', 'USE `shop`;', ...section('a'), ...section('b'), ...section('c')].join('\n');
    const got = await order(sql);
    const plain = sql.split('\n').map((l) => l.replace(/;$/, '').replace(/\s+/g, ' '));
    const expected = plain.filter((l) => !l.includes('ENABLE KEYS')).concat([enable('a'), enable('b'), enable('c')]);
    assert.deepEqual(got, expected);
  });

  // Each case: what follows table a's section, and whether a's ENABLE KEYS must be yielded before it.
  const cases: [string, string, boolean][] = [
    ["b's section (DROP, the character_set_client save/set/restore, CREATE, LOCK, rows)", section('b').join('\n'), false],
    ["a's rows again", 'INSERT INTO `a` VALUES (2);', true],
    ["a's DDL again", 'DROP TABLE IF EXISTS `a`;', true],
    ["a's rows, qualified (any database of that name is a's)", 'INSERT INTO `other`.`a` VALUES (2);', true],
    ['a trigger (ordered against everything)', 'DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER `t` BEFORE INSERT ON `b` FOR EACH ROW SET NEW.id = 1 */;;\nDELIMITER ;', true],
    ['a view', 'CREATE VIEW `v` AS SELECT 1;', true],
    ['CREATE DATABASE', 'CREATE DATABASE `x`;', true],
    ['USE (the name would mean another table)', 'USE `x`;', true],
    ['COMMIT', 'COMMIT;', true],
    ['another session statement (sql_mode)', "/*!50003 SET sql_mode = 'ANSI_QUOTES' */;", true],
    ['SET NAMES', '/*!40101 SET NAMES latin1 */;', true],
    ["the dump's trailer", '/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;', true],
    // Under swe7 the byte [ is the letter Ä: a held `a[` would name `aÄ` (seen on MariaDB 10.11).
    ['character_set_client set to swe7', '/*!40101 SET character_set_client = swe7 */;', true],
    ['character_set_client set to utf8mb4', '/*!40101 SET character_set_client = utf8mb4 */;', false],
    ['character_set_client restored from a save made before the held statement', '/*!40101 SET character_set_client = @saved_cs_client */;', true],
    ["A's rows (a's under lower_case_table_names=1)", 'INSERT INTO `A` VALUES (2);', true],
    ["A's DDL", 'DROP TABLE IF EXISTS `A`;', true],
  ];
  for (const [what, next, before] of cases) {
    it(`${before ? 'yields it before' : 'holds it past'} ${what}`, async () => {
      const got = await order([...section('a'), next].join('\n'));
      const at = got.indexOf(enable('a'));
      const firstOfNext = got.findIndex((s, i) => i >= section('a').length - 2 && !s.includes('ENABLE KEYS') && !s.startsWith('UNLOCK'));
      assert.equal(at < firstOfNext, before, got.join('\n'));
      assert.equal(got.length, section('a').length + next.split('\n').filter((l) => !l.startsWith('DELIMITER')).length);
    });
  }

  it('runs in its place an ENABLE KEYS whose name is not printable ASCII, or that is not that exact form', async () => {
    for (const name of ['tëst', 'tab\tle']) {
      const got = await order([...section(name), ...section('b')].join('\n'));
      const latin1 = Buffer.from(name).toString('latin1').replace(/\s+/g, ' ');
      assert.equal(got.findIndex((st) => st.includes('ENABLE KEYS')), section(name).length - 2, name);
      assert.ok(got[section(name).length - 2]!.includes(latin1), name);
    }
    const other = 'ALTER TABLE `a` ENABLE KEYS, ADD INDEX (id)';
    const got = await order([...section('a').map((l) => (l.includes('ENABLE KEYS') ? `${other};` : l)), ...section('b')].join('\n'));
    assert.equal(got.indexOf(other), section('a').length - 2);
  });

  it('runs in its place an ENABLE KEYS whose text goes on past its head', async () => {
    const text = Buffer.from(`ALTER TABLE \`a\` ENABLE KEYS${' '.repeat(HEAD_BYTES)}, RENAME TO \`b\``);
    // Classified as statement-kind.ts did before it read the head's length (a forged ClassifiedStatement).
    const alter: ClassifiedStatement = { offset: 0, contentOffset: 0, end: text.length + 1, text, head: text.subarray(0, HEAD_BYTES), topLevelGroups: 0, delimiter: ';', what: { kind: 'table-ddl', table: 'a', verb: 'alter' } };
    const rest = splitDump(Readable.from([Buffer.from(section('b').join('\n'))]), { collect: true });
    async function* all() {
      yield alter;
      yield* rest;
    }
    const got: ClassifiedStatement[] = [];
    for await (const st of deferEnableKeys(all())) got.push(st);
    assert.equal(got[0], alter);
  });

  it('folds names as lower_case_table_names could: case, the Kelvin sign, a dotted capital I', () => {
    assert.equal(foldName('AbC'), 'abc');
    assert.equal(foldName('\u212Aey'), 'key');
    assert.equal(foldName('\u0130d'), 'id');
    assert.equal(foldName('Ärger'), 'ärger');
  });

  // Rows of another table run trigger bodies and functions, which can read the held table's index
  // state (information_schema.STATISTICS says "disabled") or search it by a FULLTEXT index.
  const before: [string, string, boolean][] = [
    ['a trigger on b', 'CREATE TRIGGER `tr` BEFORE INSERT ON `B` FOR EACH ROW SET NEW.id = 1;', true],
    ['a trigger on another table', 'CREATE TRIGGER `tr` BEFORE INSERT ON `c` FOR EACH ROW SET NEW.id = 1;', false],
    ['a function', 'CREATE FUNCTION `f`() RETURNS int RETURN 1;', true],
    ['a function whose definer is named PROCEDURE', "/*!50003 CREATE*/ /*!50020 DEFINER=`PROCEDURE`@`%`*/ /*!50003 FUNCTION `f`() RETURNS int RETURN 1 */;", true],
    ['a procedure', '/*!50003 CREATE*/ /*!50020 DEFINER=`root`@`%`*/ /*!50003 PROCEDURE `p`() SELECT 1 */;', false],
    ['an event', '/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`%`*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1 */;', false],
    ['a statement not recognised', 'DO 1;', true],
    ['a view', 'CREATE VIEW `v` AS SELECT 1;', false],
    ['a view named b (rows into it run its WHERE)', 'CREATE VIEW `b` AS SELECT 1 AS id FROM `c` WHERE 1 WITH CHECK OPTION;', true],
  ];
  for (const [what, earlier, yields] of before) {
    it(`${yields ? 'yields it before' : 'holds it past'} rows of b after ${what} earlier in the dump`, async () => {
      const got = await order([earlier, ...section('a'), 'INSERT INTO `b` VALUES (2);'].join('\n'));
      assert.equal(got.indexOf(enable('a')) < got.indexOf('INSERT INTO `b` VALUES (2)'), yields, got.join('\n'));
    });
  }

  it(`keeps at most ${MAX_TRIGGERED} names of tables with triggers, then lets no rows pass`, async () => {
    const triggers = (n: number) => Array.from({ length: n }, (_, i) => `CREATE TRIGGER \`tr${i}\` BEFORE INSERT ON \`t${i}\` FOR EACH ROW SET NEW.id = 1;`);
    for (const [n, yields] of [[MAX_TRIGGERED, false], [MAX_TRIGGERED + 1, true]] as const) {
      const got = await order([...triggers(n), ...section('a'), 'INSERT INTO `b` VALUES (2);'].join('\n'));
      assert.equal(got.indexOf(enable('a')) < got.indexOf('INSERT INTO `b` VALUES (2)'), yields, String(n));
    }
  });

  it('keeps a held statement in a buffer of its own, not a slice of a shared one', async () => {
    const sql = [...section('a'), ...section('b')].join('\n');
    let held: ClassifiedStatement | undefined;
    for await (const st of deferEnableKeys(splitDump(Readable.from([Buffer.from(sql)]), { collect: true, headroomBytes: 5 }))) {
      if (st.text!.toString().includes('`a` ENABLE KEYS')) held = st;
    }
    assert.ok(held);
    assert.equal(held.framed!.buffer.byteLength, held.text!.length + 5);
    assert.equal(held.text!.buffer, held.framed!.buffer);
    assert.equal(held.head.buffer, held.framed!.buffer);
    assert.equal(held.framed!.subarray(5).toString(), held.text!.toString());
  });

  it(`yields the oldest once more than ${MAX_HELD} are held, and still knows which tables the rest name`, async () => {
    const tables = Array.from({ length: MAX_HELD + 2 }, (_, i) => `t${i}`);
    const sql = [...tables.flatMap((t) => [`INSERT INTO \`${t}\` VALUES (1);`, `/*!40000 ALTER TABLE \`${t}\` ENABLE KEYS */;`]), 'INSERT INTO `t5` VALUES (2);'].join('\n');
    const got = await order(sql);
    // t0 and t1 went on past the cap, each after the rows that made one too many; t5's rows
    // again yield the rest before them.
    assert.equal(got.indexOf(enable('t0')), MAX_HELD + 1);
    assert.equal(got.indexOf(enable('t1')), MAX_HELD + 3);
    assert.ok(got.indexOf(enable('t5')) < got.indexOf('INSERT INTO `t5` VALUES (2)'));
    assert.equal(got.length, 2 * tables.length + 1);
  });
});
