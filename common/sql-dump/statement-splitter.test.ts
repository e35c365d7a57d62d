import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../errors.ts';
import { StatementSplitter } from './statement-splitter.ts';
import type { DumpStatement, StatementSplitterOptions } from './statement-splitter.ts';

function splitAll(input: Buffer, chunkSizes: number[] = [input.length], options: StatementSplitterOptions = { collect: true }): DumpStatement[] {
  const s = new StatementSplitter(options);
  const out: DumpStatement[] = [];
  let at = 0;
  let k = 0;
  while (at < input.length) {
    const size = Math.max(1, chunkSizes[k++ % chunkSizes.length]!);
    out.push(...s.feed(input.subarray(at, at + size)));
    at += size;
  }
  out.push(...s.end());
  return out;
}

const texts = (sql: string): string[] => splitAll(Buffer.from(sql)).map((s) => s.text!.toString());

describe('StatementSplitter', () => {
  const table: [string, string, string[]][] = [
    ['plain statements', 'SELECT 1;\nSELECT 2;\n', ['SELECT 1', 'SELECT 2']],
    ['a delimiter in a single-quoted string', "INSERT INTO t VALUES ('a;b');", ["INSERT INTO t VALUES ('a;b')"]],
    ['an escaped quote', "INSERT INTO t VALUES ('it\\'s;'),('x');", ["INSERT INTO t VALUES ('it\\'s;'),('x')"]],
    ['a doubled quote', "INSERT INTO t VALUES ('it''s;');", ["INSERT INTO t VALUES ('it''s;')"]],
    ['an escaped backslash before the closing quote', "INSERT INTO t VALUES ('a\\\\');SELECT 2;", ["INSERT INTO t VALUES ('a\\\\')", 'SELECT 2']],
    ['double quotes', 'SELECT "a;\\"b";', ['SELECT "a;\\"b"']],
    ['backticks, no escapes', 'CREATE TABLE `a;\\` (x int);', ['CREATE TABLE `a;\\` (x int)']],
    ['a dash comment', '-- drop; this\nSELECT 1;', ['SELECT 1']],
    ['two dashes without a space are not a comment', 'SELECT 5--3;', ['SELECT 5--3']],
    ['a hash comment', '# x;\nSELECT 1;', ['SELECT 1']],
    ['a block comment', '/* a; b */ SELECT 1;', ['SELECT 1']],
    ['an executable comment is SQL', '/*!40101 SET NAMES utf8mb4 */;\n', ['/*!40101 SET NAMES utf8mb4 */']],
    ['a MariaDB executable comment', '/*M!100100 SET x=1 */;', ['/*M!100100 SET x=1 */']],
    ['empty statements are not sent', ';;\n-- c\n;SELECT 1;', ['SELECT 1']],
    ['the last statement without a delimiter', 'SELECT 1;\nSELECT 2', ['SELECT 1', 'SELECT 2']],
    ['trailing comments are not a statement', 'SELECT 1;\n-- Dump completed on 2026\n', ['SELECT 1']],
    [
      'DELIMITER blocks',
      'DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END */;;\nDELIMITER ;\nSELECT 1;',
      ['/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END */', 'SELECT 1'],
    ],
    ['DELIMITER in any case, a longer delimiter', 'delimiter $$\nSELECT 1; SELECT 2$$\nDelimiter ;\nSELECT 3;', ['SELECT 1; SELECT 2', 'SELECT 3']],
    ['DELIMITER not at the start of a line is SQL', 'SELECT 1; DELIMITER ;;\n', ['SELECT 1', 'DELIMITER ']],
    ['a word starting with delimiter is SQL', 'delimiters_table;', ['delimiters_table']],
    ['a raw newline inside a string', "SELECT 'a\n;b';", ["SELECT 'a\n;b'"]],
    // The DELIMITER argument and '--' as client/mysql.cc reads them (test/sql-dump-vs-client.test.ts checks against the client).
    ['a quoted DELIMITER argument loses its quotes', "DELIMITER ';;'\nSELECT 1;;\nDELIMITER \"$$\"\nSELECT 2$$\nDELIMITER `a``b`\nSELECT 3a`b\nDELIMITER ;\nSELECT 4;", ['SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 4']],
    ['a DELIMITER argument ends at a space, keeps a tab, and is cut to 15 bytes', 'DELIMITER ;; x\nSELECT 1;;\nDELIMITER $\t\nSELECT 2$\t\nDELIMITER abcdefghijklmnopq\nSELECT 3abcdefghijklmno\nDELIMITER ;\nSELECT 4;', ['SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 4']],
    ['-- before a control character that is not whitespace is SQL', "SELECT 'e' --\u0001;\nSELECT 'f';", ["SELECT 'e' --\u0001", "SELECT 'f'"]],
    ['-- before whitespace, NUL or the end is a comment', 'SELECT 1 --\t;\n, 2 --\u000b;\n, 3 --\r;\n, 4 --\u0000;\n;SELECT 5 --', ['SELECT 1 --\t;\n, 2 --\u000b;\n, 3 --\r;\n, 4 --\u0000;\n', 'SELECT 5 --']],
    // mariadb-binlog's delimiter starts like an executable comment: the delimiter wins, as in the client (add_line).
    [
      "mariadb-binlog's DELIMITER /*!*/;",
      "/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/;\nDELIMITER /*!*/;\n# at 4\nROLLBACK/*!*/;\n/*M!100001 SET @@session.gtid_seq_no=2*//*!*/;\n/*!\\C utf8mb4 *//*!*/;\nCREATE TABLE t (c INT) COMMENT '/*!*/;'\n/*!*/;\nDELIMITER ;\nROLLBACK /* added by mysqlbinlog */;\n",
      ['/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/', 'ROLLBACK', '/*M!100001 SET @@session.gtid_seq_no=2*/', '/*!\\C utf8mb4 */', "CREATE TABLE t (c INT) COMMENT '/*!*/;'\n", 'ROLLBACK /* added by mysqlbinlog */'],
    ],
    ['-- at the start of a statement is a comment whatever follows', '--x;\nSELECT 1;--y;\n  --z;\nSELECT 2;', ['SELECT 1', 'SELECT 2']],
  ];
  for (const [name, sql, want] of table) {
    it(name, () => assert.deepEqual(texts(sql), want));
  }

  for (const [name, line] of [
    ['without an argument', 'DELIMITER \nSELECT 1;'],
    ['with an unclosed quote', "DELIMITER ';;\nSELECT 1;"],
    ['with an empty quoted argument', "DELIMITER ''\nSELECT 1;"],
    ['with a backslash', 'DELIMITER \\\\\nSELECT 1;'],
  ] as const) {
    it(`refuses a DELIMITER command ${name}, as the client does, naming its offset`, () => {
      assert.throws(() => texts(`SELECT 0;\n${line}`), (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED) && /DELIMITER at byte 10 /.test(err.message));
    });
  }

  it('reads DELIMITER and -- the same whatever the chunk boundaries', () => {
    const sql = Buffer.from("DELIMITER ';;'\nSELECT 1;;\nDELIMITER ;\n--x;\nSELECT 'e' --\u0001;\nSELECT 2 -- c;\n;SELECT 3;--");
    const whole = splitAll(sql).map((s) => [s.offset, s.end, s.text!.toString('latin1')]);
    assert.equal(whole.length, 4);
    for (let size = 1; size <= 16; size++) assert.deepEqual(splitAll(sql, [size]).map((s) => [s.offset, s.end, s.text!.toString('latin1')]), whole, `chunks of ${size}`);
  });

  it('offsets tile the dump and point at each statement', () => {
    const sql = '-- head\nSELECT 1;\n\n/* c */ SELECT 22;\n';
    const st = splitAll(Buffer.from(sql));
    assert.deepEqual(st.map((s) => [s.offset, s.contentOffset, s.end]), [[0, 8, 17], [17, 27, 37]]);
    assert.equal(sql.slice(27, 36), 'SELECT 22');
  });

  it('counts the top-level groups of an extended INSERT (its rows)', () => {
    const st = splitAll(Buffer.from("INSERT INTO `t` VALUES (1,'(a)'),(2,NULL),(3,')(');\nINSERT INTO `t` (`a`,`b`) VALUES (1,2);"));
    assert.deepEqual(st.map((s) => s.topLevelGroups), [3, 2]);
  });

  it('honours NO_BACKSLASH_ESCAPES when told', () => {
    const s = new StatementSplitter({ collect: true });
    s.backslashEscapes = false;
    assert.deepEqual([...s.feed(Buffer.from("SELECT 'a\\';SELECT 2;"))].map((x) => x.text!.toString()), ["SELECT 'a\\'", 'SELECT 2']);
  });

  it('keeps every byte of binary strings', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    // As mariadb-dump escapes them: \0 \n \r \\ ' " \Z; every other byte raw.
    const escaped = Buffer.from(bytes.toString('latin1').replace(/[\0\n\r\\'"\x1a]/g, (c) => `\\${({ '\0': '0', '\n': 'n', '\r': 'r', '\x1a': 'Z' } as Record<string, string>)[c] ?? c}`), 'latin1');
    const stmt = Buffer.concat([Buffer.from("INSERT INTO `b` VALUES ('"), escaped, Buffer.from("');")]);
    const [s] = splitAll(stmt);
    assert.deepEqual(s!.text, stmt.subarray(0, stmt.length - 1));
  });

  it('copies each statement once into a buffer of its own, with the headroom asked for before it', () => {
    const sql = Buffer.from("INSERT INTO `t` VALUES (1,'a;b'),(2,'c');\nSELECT 2;\n");
    for (const chunk of [1, 3, sql.length]) {
      const st = splitAll(sql, [chunk], { collect: true, headroomBytes: 5 });
      assert.deepEqual(st.map((s) => s.text!.toString()), ["INSERT INTO `t` VALUES (1,'a;b'),(2,'c')", 'SELECT 2'], `chunks of ${chunk}`);
      for (const s of st) {
        assert.equal(s.framed!.length, s.text!.length + 5);
        assert.equal(s.framed!.buffer, s.text!.buffer);
        assert.equal(s.text!.byteOffset, s.framed!.byteOffset + 5);
      }
      // Not a view of the input: the stream's buffers are not the splitter's to keep.
      const input = Buffer.from(sql);
      const kept = splitAll(input, [chunk], { collect: true, headroomBytes: 5 });
      input.fill(0);
      assert.equal(kept[0]!.text!.toString(), "INSERT INTO `t` VALUES (1,'a;b'),(2,'c')");
    }
    assert.equal(splitAll(sql)[0]!.framed, undefined);
  });

  it('fails a statement longer than the limit, naming its offset', () => {
    const s = new StatementSplitter({ collect: true, maxStatementBytes: 10 });
    assert.throws(() => [...s.feed(Buffer.from("SELECT 1;\nSELECT 1234567890;"))], /byte 10 .* longer than 10 bytes/);
  });

  it('finds the same statements whatever the chunk boundaries', () => {
    const sql = Buffer.concat([
      Buffer.from("/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump\n/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"),
      Buffer.from("DROP TABLE IF EXISTS `t`;\n/*!40101 SET @saved_cs_client     = @@character_set_client */;\nCREATE TABLE `t` (\n  `a` int(11) NOT NULL COMMENT 'x;y',\n  PRIMARY KEY (`a`)\n) ENGINE=InnoDB;\n"),
      Buffer.from("LOCK TABLES `t` WRITE;\nINSERT INTO `t` VALUES (1,'a\\'b;'),(2,'--'),(3,'/*'),(4,'*/'),(5,'#');\nUNLOCK TABLES;\n"),
      Buffer.from("DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER `x` BEFORE INSERT ON `t` FOR EACH ROW BEGIN\n  SET NEW.a = NEW.a * 2; -- c;\nEND */;;\nDELIMITER ;\n"),
      Buffer.from("/* plain; */ SELECT 'end';\n# done\n-- Dump completed\n"),
    ]);
    const whole = splitAll(sql).map((s) => [s.offset, s.contentOffset, s.end, s.text!.toString('latin1'), s.topLevelGroups, s.head.toString('latin1')]);
    assert.equal(whole.length, 9);
    for (let size = 1; size <= 24; size++) {
      assert.deepEqual(splitAll(sql, [size]).map((s) => [s.offset, s.contentOffset, s.end, s.text!.toString('latin1'), s.topLevelGroups, s.head.toString('latin1')]), whole, `chunks of ${size}`);
    }
    for (let cut = 1; cut < sql.length; cut++) {
      assert.deepEqual(splitAll(sql, [cut, sql.length]).map((s) => [s.offset, s.end, s.text!.toString('latin1')]), whole.map((w) => [w[0], w[2], w[3]]), `cut at ${cut}`);
    }
  });
});

it('takes each statement buffer from the allocator it is given, text after the headroom', () => {
  const sizes: number[] = [];
  const allocated: Buffer[] = [];
  const allocate = (n: number): Buffer => {
    sizes.push(n);
    const b = Buffer.alloc(n + 10).subarray(3, 3 + n);
    allocated.push(b);
    return b;
  };
  const out = splitAll(Buffer.from('SELECT 1;\nINSERT INTO t VALUES (1),(2);\n'), [3], { collect: true, headroomBytes: 5, allocate });
  assert.deepEqual(sizes, [5 + 8, 5 + 28]);
  assert.deepEqual(out.map((s) => s.text!.toString()), ['SELECT 1', 'INSERT INTO t VALUES (1),(2)']);
  assert.equal(out[1]!.framed, allocated[1]);
  assert.equal(out[1]!.text!.buffer, allocated[1]!.buffer);
});
