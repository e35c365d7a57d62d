// The splitter against the real thing: a dump of a database full of lexing traps (strings with
// delimiters, quotes and backslashes, comments in trigger bodies, DELIMITER blocks, a routine
// created under NO_BACKSLASH_ESCAPES, events, views) is loaded by the mariadb client while the
// server's general log records every statement the client sends; the statements
// common/sql-dump/dump-statements.ts finds must be the same ones, in the same order.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { tempDir } from './helpers/tmp.ts';

const execFileAsync = promisify(execFile);
const MARKER = "SELECT 'sidestash-splitter-marker'";

/**
 * Whitespace-free start of a statement, without the comments the client leaves out (whole
 * comment lines, and the sandbox line, which the client sends without its backslash).
 */
function shape(s: string): string {
  return s.replace(/\/\*M!999999[^*]*\*\//, '').replace(/^--[^\n]*\n/gm, '').replace(/\s+/g, '').slice(0, 48);
}

describe('dump statements match what the mariadb client sends', () => {
  let db: MariaDB;
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    db = await startMariaDB();
    dir = await tempDir('sidestash-splitter-');
    await db.sql(`CREATE DATABASE traps;
      CREATE TABLE traps.t (id INT PRIMARY KEY, s TEXT, b BLOB) ENGINE=InnoDB;
      CREATE TABLE traps.nopk (a INT, s VARCHAR(50)) ENGINE=InnoDB;
      CREATE TABLE traps.log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(200)) ENGINE=InnoDB;
      CREATE VIEW traps.v1 AS SELECT id, s FROM traps.t WHERE s <> ';';
      CREATE VIEW traps.v2 AS SELECT id FROM traps.v1;`);
    await db.sql(`INSERT INTO t VALUES (1, 'a;b', NULL), (2, 'it''s \\\\ "q" \`x\` -- no comment', 0x00FF27225C0A0D1A3B), (3, '/* not */ # nor; DELIMITER ;;', ''), (4, CONCAT('line', CHAR(10), ';', CHAR(13)), NULL);
      INSERT INTO nopk VALUES (1, ')('), (1, ')('), (NULL, NULL);`, 'traps');
    await db.sql(`DELIMITER ;;
      CREATE TRIGGER traps.t_ins AFTER INSERT ON traps.t FOR EACH ROW BEGIN
        -- a comment; with a delimiter
        INSERT INTO traps.log (msg) VALUES (CONCAT('ins;', NEW.id, ' /* x */'));
        SET @x = 'DELIMITER ;';
      END;;
      SET sql_mode = 'NO_BACKSLASH_ESCAPES';;
      CREATE PROCEDURE traps.p() BEGIN SELECT 'back\\'; SELECT 'a;b'; END;;
      SET sql_mode = DEFAULT;;
      CREATE FUNCTION traps.f(x INT) RETURNS INT DETERMINISTIC BEGIN RETURN x * 2; END;;
      CREATE EVENT traps.e ON SCHEDULE EVERY 1 DAY DISABLE DO BEGIN DELETE FROM traps.log WHERE id < 0; END;;
      DELIMITER ;`);
  });
  after(async () => {
    await db?.stop();
    await dir?.cleanup();
  });

  it('finds every statement the client sends, in order', async () => {
    const dumpPath = join(dir.path, 'dump.sql');
    const { stdout } = await execFileAsync('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${db.socket}`, '--databases', 'traps', '--single-transaction', '--routines', '--events', '--triggers'], { maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' });
    const dump = Buffer.concat([Buffer.from(`${MARKER};\n`), stdout]);
    await writeFile(dumpPath, dump);
    const ours: string[] = [];
    const source = (async function* () {
      yield await readFile(dumpPath);
    })();
    for await (const st of splitDump(source, { collect: true })) ours.push(st.text!.toString('latin1'));

    await db.sql("SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1;");
    await execFileAsync('sh', ['-c', `mariadb --no-defaults -uroot --socket=${db.socket} --binary-mode --sandbox < ${dumpPath}`]);
    await db.sql('SET GLOBAL general_log = 0;');
    // In the order the server wrote them (the log's CSV file): statements logged in the same
    // microsecond have no other order, and ORDER BY event_time mixed them up now and then.
    const logged = await db.sql(`SELECT thread_id, HEX(argument) FROM mysql.general_log WHERE command_type = 'Query'`);
    const rows = logged.trim().split('\n').map((l) => l.split('\t')).map(([thread, hex]) => [thread!, Buffer.from(hex!, 'hex').toString('latin1')] as const);
    const thread = rows.find(([, q]) => q === MARKER)?.[0];
    assert.ok(thread, 'the marker statement is in the general log');
    const sent = rows.filter(([t]) => t === thread).map(([, q]) => q);
    assert.deepEqual(ours.map(shape), sent.map(shape));
    assert.ok(sent.length > 30, `a dump of many statements (${sent.length})`);
    // The routine written under NO_BACKSLASH_ESCAPES is one statement, its body whole.
    assert.ok(ours.some((s) => s.includes("SELECT 'back\\'; SELECT 'a;b'; END")), 'the NO_BACKSLASH_ESCAPES routine is one statement');
  });

  // Small hand-written traps, each loaded by the client (--force: on past its errors) with the
  // general log on; the statements sent on its connection must be ours (compared without the
  // comments the client leaves out, without whitespace and control characters, and without
  // trailing semicolons, which the server strips from every statement before it logs it).
  const traps: [string, string][] = [
    ['a quoted DELIMITER argument (the client strips the quotes)', "DELIMITER ';;'\nSELECT 'c';;\nDELIMITER ;\nSELECT 'd';\n"],
    ['a DELIMITER argument in double quotes and backticks, a doubled quote', 'DELIMITER "$$"\nSELECT 1$$\nDELIMITER `//`\nSELECT 2//\nDELIMITER \'a\'\'b\'\nSELECT 3a\'b\nDELIMITER ;\nSELECT 4;\n'],
    ['a DELIMITER argument ends at a space', 'DELIMITER ;; trailing words\nSELECT 5;;\nDELIMITER ;\n'],
    ['a DELIMITER argument longer than the client keeps (15 bytes)', 'DELIMITER abcdefghijklmnopqrst\nSELECT 9abcdefghijklmno\nDELIMITER ;\nSELECT 10;\n'],
    ['the last statement, without a delimiter, ends in a semicolon', 'DELIMITER $$\nSELECT 11;'],
    ['-- followed by \\x01 is not a comment', "SELECT 'e' --\u0001;\nSELECT 'f';\n"],
    ['-- followed by a letter inside a statement is not a comment', 'SELECT 1 --1;\nSELECT 2;\n'],
    ['-- followed by a tab, a vertical tab, a form feed, a carriage return is a comment', "SELECT 1 --\t;x\n, 2 --\u000b;x\n, 3 --\u000c;x\n, 4 --\r;x\n;\n"],
    ['-- at the start of a statement is a comment, whatever follows', "--x; not sent\nSELECT 6;--y; nor this\nSELECT 7;\n"],
    ['-- at the end of the dump', 'SELECT 8 --'],
  ];
  for (const [name, sql] of traps) {
    it(`finds what the client sends: ${name}`, async () => {
      const marker = `SELECT 'sidestash-trap-marker'`;
      const dump = Buffer.from(`${marker};\n${sql}`, 'latin1');
      const ours: string[] = [];
      for await (const st of splitDump((async function* () { yield dump; })(), { collect: true })) ours.push(st.text!.toString('latin1').trim());
      await db.sql("SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1;");
      const dumpPath = join(dir.path, 'trap.sql');
      await writeFile(dumpPath, dump);
      await execFileAsync('sh', ['-c', `mariadb --no-defaults -uroot --socket=${db.socket} --binary-mode --sandbox --force < ${dumpPath}`]).catch(() => undefined);
      await db.sql('SET GLOBAL general_log = 0;');
      // In the order the server wrote them (the log's CSV file): statements logged in the same
    // microsecond have no other order, and ORDER BY event_time mixed them up now and then.
    const logged = await db.sql(`SELECT thread_id, HEX(argument) FROM mysql.general_log WHERE command_type = 'Query'`);
      const rows = logged.trim().split('\n').map((l) => l.split('\t')).map(([thread, hex]) => [thread!, Buffer.from(hex!, 'hex').toString('latin1')] as const);
      const thread = rows.find(([, q]) => q === marker)?.[0];
      assert.ok(thread, 'the marker is in the general log');
      const bare = (q: string) => q.replace(/--(?:[\x00-\x20][^\n]*|$)/g, '').replace(/[\x00-\x20]/g, '').replace(/;+$/, '');
      assert.deepEqual(ours.map(bare), rows.filter(([t]) => t === thread).map(([, q]) => bare(q)));
    });
  }
});
