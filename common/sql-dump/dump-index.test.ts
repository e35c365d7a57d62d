// The dump index on hand-written dumps (the real mariadb-dump cases are in
// test/granular-restore.test.ts): sections, the boundary rule, the file format's refusals, the
// read plan and the selection's refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../errors.ts';
import { DumpIndexBuilder } from './dump-index.ts';
import type { DumpIndex } from './dump-index.ts';
import { encodeDumpIndex, parseDumpIndex } from './dump-index-json.ts';
import { selectStatements, selectionProblems, parseTableRef } from './dump-selection.ts';
import type { DumpSelection } from './dump-selection.ts';
import { splitDump } from './dump-statements.ts';
import { planGranularRead } from './granular-plan.ts';
import { MAX_PENDING } from './dump-sections.ts';

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

async function indexOf(sql: string) {
  const b = new DumpIndexBuilder();
  for await (const st of splitDump(once(Buffer.from(sql)))) b.add(st);
  return b.finish(Buffer.byteLength(sql));
}

const DUMP = [
  "/*!40101 SET NAMES utf8mb4 */;\n/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n",
  'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\nUSE `a`;\n',
  'DROP TABLE IF EXISTS `t`;\n/*!40101 SET @saved_cs_client = @@character_set_client */;\nCREATE TABLE `t` (id int);\n/*!40101 SET character_set_client = @saved_cs_client */;\n',
  "LOCK TABLES `t` WRITE;\nINSERT INTO `t` VALUES (1),(2);\nINSERT INTO `t` VALUES (3);\nUNLOCK TABLES;\n",
  "/*!50003 SET @saved_sql_mode = @@sql_mode */ ;\nDELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.id = NEW.id + 1 */;;\nDELIMITER ;\n/*!50003 SET sql_mode = @saved_sql_mode */ ;\n",
  'DROP TABLE IF EXISTS `u`;\nCREATE TABLE `u` (id int);\nINSERT INTO `u` VALUES (7);\n',
  'CREATE DATABASE `b`;\nUSE `b`;\nCREATE TABLE `t` (x int);\nINSERT INTO `t` VALUES (1);\n',
  'DELIMITER ;;\nCREATE PROCEDURE `p`() BEGIN SELECT 1; END ;;\nDELIMITER ;\n',
  '/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n',
].join('');

const slice = ([s, e]: [number, number]): string => Buffer.from(DUMP).toString('latin1', s, e);

describe('DumpIndexBuilder', () => {
  it('indexes databases, tables (structure, data, rows), triggers with their table, routines, header', async () => {
    const r = await indexOf(DUMP);
    assert.ok(r.ok, !r.ok ? r.reason : '');
    const idx = r.index;
    assert.deepEqual(idx.databases.map((d) => d.name), ['a', 'b']);
    const a = idx.databases[0]!;
    assert.deepEqual(a.tables.map((t) => [t.name, t.rows]), [['t', 3], ['u', 1]]);
    assert.match(slice(idx.header[0]!), /^\/\*!40101 SET NAMES[\s\S]*NO_AUTO_VALUE_ON_ZERO' \*\/;$/);
    assert.match(slice(a.tables[0]!.structure[0]!), /^\nDROP TABLE IF EXISTS `t`;[\s\S]*CREATE TABLE `t` \(id int\);\n\/\*!40101 SET character_set_client = @saved_cs_client \*\/;$/);
    assert.match(slice(a.tables[0]!.data[0]!), /^\nLOCK TABLES `t` WRITE;[\s\S]*UNLOCK TABLES;$/);
    assert.deepEqual(a.objects.map((o) => [o.kind, o.name, o.table]), [['trigger', 'tr', 't']]);
    // The trigger's range holds its DELIMITER lines and the SETs around it.
    assert.match(slice(a.objects[0]!.ranges[0]!), /^\n\/\*!50003 SET @saved_sql_mode[\s\S]*DELIMITER ;;[\s\S]*DELIMITER ;\n\/\*!50003 SET sql_mode = @saved_sql_mode \*\/ ;$/);
    assert.deepEqual(idx.databases[1]!.objects.map((o) => [o.kind, o.name]), [['routine', 'p']]);
    assert.deepEqual(parseDumpIndex(encodeDumpIndex(idx), Buffer.byteLength(DUMP)), { ok: true, index: idx });
  });

  it('gives no index when a section would start under another delimiter or NO_BACKSLASH_ESCAPES', async () => {
    const delim = await indexOf("USE `a`;\nDELIMITER ;;\nCREATE TABLE `t` (id int);;\nINSERT INTO `t` VALUES (1);;\n");
    assert.equal(delim.ok, false);
    assert.match(!delim.ok ? delim.reason : '', /DELIMITER ;;/);
    const mode = await indexOf("SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nUSE `a`;\nCREATE TABLE `t` (id int);\n");
    assert.equal(mode.ok, false);
    assert.match(!mode.ok ? mode.reason : '', /NO_BACKSLASH_ESCAPES/);
  });
});

describe('bounds on what an untrusted dump makes wait in memory', () => {
  it('statements waiting for their opener go with what came before past MAX_PENDING', async () => {
    const sets = 'SET @a = 1;\n'.repeat(MAX_PENDING + 5);
    const r = await indexOf(`USE \`a\`;\nCREATE TABLE \`t\` (id int);\n${sets}CREATE TABLE \`u\` (id int);\n`);
    assert.ok(r.ok);
    const [t, u] = r.index.databases[0]!.tables;
    assert.ok(t!.structure[0]![1] - t!.structure[0]![0] > 12 * MAX_PENDING, 'the first MAX_PENDING SETs went to t');
    assert.ok(u!.structure[0]![1] - u!.structure[0]![0] < 12 * 10, 'the rest to u');
  });
  it('a header too long to hold fails the selection before anything passes', async () => {
    const sql = `${'SET @a = 1;\n'.repeat(10_001)}USE \`a\`;\nCREATE TABLE \`t\` (id int);\n`;
    const out: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const st of selectStatements(splitDump(once(Buffer.from(sql)), { collect: true }), { database: 'a' })) out.push(st);
      })(),
      (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED) && /header holds more than 10000 statements/.test(err.message),
    );
    assert.deepEqual(out, []);
  });
});

describe('parseDumpIndex: a bad index is no index', () => {
  const size = 1000;
  const good = (): DumpIndex => ({ format: 'sidestash-dump-index', version: 1, dumpBytes: size, header: [[0, 10]], databases: [{ name: 'a', statements: [[10, 20]], tables: [{ name: 't', structure: [[20, 30]], data: [[30, 40]], rows: 2 }], objects: [{ kind: 'trigger', name: 'tr', table: 't', ranges: [[40, 50]] }] }] });
  const cases: [string, (i: any) => unknown, RegExp][] = [
    ['another format', (i) => (i.format = 'x'), /format/],
    ['another version', (i) => (i.version = 2), /version/],
    ['an unknown field', (i) => (i.extra = 1), /unknown field/],
    ['another dump size', (i) => (i.dumpBytes = size + 1), /dumpBytes/],
    ['a range past the dump', (i) => (i.databases[0].tables[0].data = [[30, size + 1]]), /inside the dump/],
    ['an empty range', (i) => (i.header = [[5, 5]]), /inside the dump/],
    ['ranges out of order', (i) => (i.databases[0].tables[0].data = [[35, 40], [30, 34]]), /out of order/],
    ['overlapping sections', (i) => (i.databases[0].tables[0].data = [[25, 40]]), /overlap/],
    ['a negative offset', (i) => (i.header = [[-1, 10]]), /not a count/],
    ['a fractional row count', (i) => (i.databases[0].tables[0].rows = 1.5), /not a count/],
    ['a name too long', (i) => (i.databases[0].tables[0].name = 'x'.repeat(257)), /not a name/],
    ['an empty table name', (i) => (i.databases[0].tables[0].name = ''), /not a name/],
    ['a table twice', (i) => i.databases[0].tables.push({ name: 't', structure: [], data: [], rows: 0 }), /twice/],
    ['an unknown object kind', (i) => (i.databases[0].objects[0].kind = 'procedure'), /kind/],
    ['a table on a view', (i) => (i.databases[0].objects[0].kind = 'view'), /only a trigger/],
    ['not a pair', (i) => (i.header = [[1, 2, 3]]), /pair/],
  ];
  it('accepts the good one', () => assert.equal(parseDumpIndex(encodeDumpIndex(good()), size).ok, true));
  for (const [name, spoil, re] of cases) {
    it(`refuses ${name}`, () => {
      const i = good();
      spoil(i);
      const r = parseDumpIndex(Buffer.from(JSON.stringify(i)), size);
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.problem : '', re);
    });
  }
  it('refuses what is not JSON', () => assert.deepEqual(parseDumpIndex(Buffer.from('{"format":'), size), { ok: false, problem: 'the index file is not JSON' }));
});

describe('planGranularRead', async () => {
  const r = await indexOf(DUMP);
  const idx = r.ok ? r.index : (undefined as never);
  const a = idx.databases[0]!;
  const cases: [string, DumpSelection, [number, number][]][] = [
    ['a table: header, its database statements, structure, data and trigger (merged)', { tables: [{ database: 'a', table: 't' }] }, [[idx.header[0]![0], a.objects[0]!.ranges[0]![1]]]],
    ['another table of the same database', { tables: [{ database: 'a', table: 'u' }] }, [[idx.header[0]![0], a.statements[0]![1]], [a.tables[1]!.structure[0]![0], a.tables[1]!.data[0]![1]]]],
    ['a database: all of it', { database: 'b' }, [idx.header[0]!, [idx.databases[1]!.statements[0]![0], idx.databases[1]!.objects[0]!.ranges[0]![1]]]],
  ];
  for (const [name, sel, want] of cases) it(name, () => assert.deepEqual(planGranularRead(idx, sel).ranges, want));
  it('names what the dump contains when a name is not in it', () => {
    assert.throws(() => planGranularRead(idx, { tables: [{ database: 'a', table: 'nope' }] }), (err) => isSidestashError(err, ErrorCodes.NOT_IN_SNAPSHOT) && /^table a\.nope is not in the snapshot; database a has tables t, u$/.test(err.message));
    assert.throws(() => planGranularRead(idx, { database: 'c' }), (err) => isSidestashError(err, ErrorCodes.NOT_IN_SNAPSHOT) && /^database c is not in the snapshot; it contains databases a, b$/.test(err.message));
  });
  it('reads the same statements by range as by streaming the whole dump', async () => {
    for (const sel of [{ tables: [{ database: 'a', table: 't' }], as: 'z' }, { tables: [{ database: 'a', table: 'u' }, { database: 'b', table: 't' }] }, { database: 'b' }, { database: 'a', as: 'a2' }] as DumpSelection[]) {
      const texts = async (src: AsyncIterable<any>) => {
        const out: string[] = [];
        for await (const st of selectStatements(src, sel)) out.push(st.text!.toString());
        return out;
      };
      const streamed = await texts(splitDump(once(Buffer.from(DUMP)), { collect: true }));
      const ranged = await texts((async function* () {
        for (const [s, e] of planGranularRead(idx, sel).ranges) yield* splitDump(once(Buffer.from(DUMP).subarray(s, e)), { collect: true, baseOffset: s });
      })());
      assert.deepEqual(ranged, streamed, JSON.stringify(sel));
      assert.ok(streamed.length > 3);
    }
  });
});

describe('selection refusals', () => {
  const cases: [string, DumpSelection, RegExp][] = [
    ['nothing', {}, /nothing selected/],
    ['both', { database: 'a', tables: [{ database: 'a', table: 't' }] }, /not both/],
    ['a name with a backtick', { database: 'a`b' }, /not a plain database name/],
    ['a table name with a dot', { tables: [{ database: 'a', table: 'b.c' }] }, /not a plain db\.table/],
    ['as from two databases', { tables: [{ database: 'a', table: 't' }, { database: 'b', table: 't' }], as: 'z' }, /spans 2 databases/],
    ['as with a space', { database: 'a', as: 'x y' }, /as "x y"/],
  ];
  for (const [name, sel, re] of cases) it(`refuses ${name}`, () => assert.match(selectionProblems(sel).map((p) => p.message).join('; '), re));
  it('parses db.table on the allow-list only', () => {
    assert.deepEqual(parseTableRef('shop.orders'), { database: 'shop', table: 'orders' });
    for (const bad of ['shop', '.t', 'shop.', 'sh`op.t', 'shop.or ders', `${'x'.repeat(65)}.t`]) assert.equal(parseTableRef(bad), undefined, bad);
  });
  it('fails NOT_IN_SNAPSHOT after the stream, having executed nothing', async () => {
    const out: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const st of selectStatements(splitDump(once(Buffer.from(DUMP)), { collect: true }), { tables: [{ database: 'b', table: 'nope' }] })) out.push(st);
      })(),
      (err) => isSidestashError(err, ErrorCodes.NOT_IN_SNAPSHOT) && /^table b\.nope is not in the snapshot; database b has tables t$/.test(err.message),
    );
    assert.deepEqual(out, []);
  });
});
