// A database with every column type MariaDB 10.11 has, at its edges: integers at their limits,
// DECIMAL(65,30) extremes, FLOAT/DOUBLE extremes and -0, BIT(1) and BIT(64), every byte value in
// BINARY/VARBINARY/every BLOB, empty against NULL, utf8mb4 4-byte characters, latin1 text, every
// ASCII control character, ENUM/SET, JSON, zero and extreme dates, DATETIME(6)/TIMESTAMP(6),
// negative TIME, every geometry type, INET6 and UUID, generated (virtual and stored) and
// invisible columns, system-versioned tables (implicit and explicit periods, with history), a
// sequence, a composite key, a VARCHAR key, foreign keys, a table without a key, an empty table,
// and tables big enough for many key ranges. typeState() is what a restore must give back.
import type { MariaDB } from './mariadb.ts';

export const TYPES_DB = 'every_type';
/** Tables CHECKSUM TABLE cannot compare: history-row timestamps (versioned), MDEV-22943 (stored generated). */
const BY_QUERY: Record<string, string> = {
  versioned: 'id, v',
  versioned_explicit: 'id, v',
  gen_inv: 'id, a, v, s, hidden',
};

export async function createEveryType(db: MariaDB): Promise<void> {
  await db.sql(`SET GLOBAL sql_mode = ''; CREATE DATABASE ${TYPES_DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`);
  await db.sql(`SET NAMES utf8mb4; SET SESSION sql_mode = ''; SET SESSION group_concat_max_len = 1048576;
    CREATE TABLE ints (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, b BOOL, z INT(8) ZEROFILL);
    INSERT INTO ints VALUES (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615, 1, 42),
      (2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 0, 0, 0), (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    CREATE TABLE nums (id INT PRIMARY KEY, d DECIMAL(65,30), d0 DECIMAL(65,0), ds DECIMAL(5,2) UNSIGNED, f FLOAT, f2 FLOAT(7,3), dbl DOUBLE, r REAL, b1 BIT(1), b64 BIT(64), b7 BIT(7));
    INSERT INTO nums VALUES
      (1, '99999999999999999999999999999999999.999999999999999999999999999999', '99999999999999999999999999999999999999999999999999999999999999999', 999.99, 3.40282e38, 9999.999, 1.7976931348623157e308, 0.1, 1, b'1111111111111111111111111111111111111111111111111111111111111111', b'1010101'),
      (2, '-99999999999999999999999999999999999.999999999999999999999999999999', '-99999999999999999999999999999999999999999999999999999999999999999', 0, -1.17549e-38, -9999.999, 4.9e-324, 1/3, 0, b'0', b'0'),
      (3, '0.000000000000000000000000000001', 0, 0.01, -0.0, 0, -0.0, 2.2250738585072014e-308, NULL, b'1000000000000000000000000000000000000000000000000000000000000000', b'1'),
      (4, NULL, NULL, NULL, 1.1, 1.5, 123456789.123456789, -1e-300, NULL, NULL, NULL),
      (5, 0, -1, 1.5, 16777217, 0.001, 9007199254740993, 1e15, 1, 1, 127);
    CREATE TABLE texts (id INT PRIMARY KEY, c CHAR(10), vc VARCHAR(300), tt TINYTEXT, t TEXT, mt MEDIUMTEXT, lt LONGTEXT, l1 VARCHAR(100) CHARACTER SET latin1, e ENUM('a','b','ü'), s SET('x','y','z'), j JSON);
    INSERT INTO texts VALUES
      (1, 'abc', '😀 𝄞 𠜎 4-byte', 'it''s "q" \\\\ \`', CONCAT('line1', CHAR(10), 'line2', CHAR(13), CHAR(10), CHAR(9), 'tab'), REPEAT('mid ', 20000), REPEAT('😀', 100000), 'café ÿ ½', 'ü', 'x,z', '{"k": "v\\\\n", "n": null, "a": [1.5, -0.0, 1e300], "u": "😀"}'),
      (2, '', '', '', '', '', '', '', 'a', '', '[]'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (4, 'NULL', 'NULL', '-- Dump completed', ';\\nDROP TABLE texts; --', '/*!999999 x */', CONCAT(CHAR(0), 'nul', CHAR(26), CHAR(0)), 'x', 'b', 'y', 'null');
    INSERT INTO texts (id, vc) SELECT 100 + seq, CONCAT(CHAR(seq USING utf8mb4), '|', seq) FROM seq_1_to_127;
    CREATE TABLE cjk (id INT PRIMARY KEY, sj VARCHAR(10) CHARACTER SET cp932, l1 VARCHAR(10) CHARACTER SET latin1);
    CREATE TABLE bins (id INT PRIMARY KEY, bn BINARY(4), vb VARBINARY(300), tb TINYBLOB, b BLOB, mb MEDIUMBLOB, lb LONGBLOB, cb CHAR(2) CHARACTER SET binary);
    INSERT INTO bins SELECT seq, UNHEX(LPAD(HEX(seq), 2, '0')), UNHEX(LPAD(HEX(seq), 2, '0')), UNHEX(LPAD(HEX(seq), 2, '0')), UNHEX(LPAD(HEX(seq), 2, '0')), UNHEX(LPAD(HEX(seq), 2, '0')), UNHEX(LPAD(HEX(seq), 2, '0')), UNHEX(LPAD(HEX(seq), 2, '0')) FROM seq_0_to_255;
    INSERT INTO bins SELECT 1000, 0x00000000, CAST(GROUP_CONCAT(UNHEX(LPAD(HEX(seq), 2, '0')) ORDER BY seq SEPARATOR '') AS BINARY), CAST(GROUP_CONCAT(UNHEX(LPAD(HEX(255 - seq), 2, '0')) ORDER BY seq SEPARATOR '') AS BINARY), '', REPEAT(CAST(GROUP_CONCAT(UNHEX(LPAD(HEX(seq), 2, '0')) ORDER BY seq SEPARATOR '') AS BINARY), 4096), REPEAT(CAST(GROUP_CONCAT(UNHEX(LPAD(HEX(seq), 2, '0')) ORDER BY seq SEPARATOR '') AS BINARY), 8192), '' FROM seq_0_to_255;
    INSERT INTO bins VALUES (1001, NULL, NULL, NULL, NULL, NULL, NULL, NULL), (1002, '', '', '', '', '', '', '');
    CREATE TABLE times (id INT PRIMARY KEY, d DATE, t TIME(6), dt DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, y YEAR, dt0 DATETIME, ts0 TIMESTAMP NULL DEFAULT NULL);
    INSERT INTO times VALUES (1, '0000-00-00', '-838:59:59.000000', '0000-00-00 00:00:00', NULL, 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
      (2, '1000-01-01', '838:59:59.000000', '1000-01-01 00:00:00.000001', '1970-01-01 00:00:01.000000', 1901, '9999-12-31 23:59:59', '2038-01-19 03:14:07'),
      (3, '9999-12-31', '00:00:00.000001', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 2155, '2026-02-00 12:00:00', '2026-03-29 01:30:00'),
      (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    CREATE TABLE geo (id INT PRIMARY KEY, g GEOMETRY, p POINT, ls LINESTRING, pg POLYGON, mp MULTIPOINT, mls MULTILINESTRING, mpg MULTIPOLYGON, gc GEOMETRYCOLLECTION);
    INSERT INTO geo VALUES (1, ST_GeomFromText('POINT(1.5 -2.25)'), POINT(0, 0), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'), ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 1))'),
      ST_GeomFromText('MULTIPOINT(0 0, 1e300 -1e-300)'), ST_GeomFromText('MULTILINESTRING((0 0, 1 1), (2 2, 3 3))'), ST_GeomFromText('MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))'), ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))')),
      (2, ST_GeomFromText('POINT(1 2)', 4326), NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    CREATE TABLE special (id INT PRIMARY KEY, i6 INET6, u UUID);
    INSERT INTO special VALUES (1, '::1', '123e4567-e89b-12d3-a456-426655440000'), (2, '2001:db8::ff00:42:8329', '00000000-0000-0000-0000-000000000000'), (3, '::ffff:192.0.2.1', NULL), (4, NULL, NULL);
    CREATE TABLE gen_inv (id INT PRIMARY KEY, a INT, v INT AS (a * 3) VIRTUAL, s VARCHAR(30) AS (CONCAT('s-', a)) STORED, hidden VARCHAR(20) INVISIBLE DEFAULT 'dflt', KEY (s));
    INSERT INTO gen_inv (id, a, hidden) SELECT seq, seq, CONCAT('h', seq) FROM seq_1_to_300;
    CREATE TABLE versioned (id INT PRIMARY KEY, v VARCHAR(20)) WITH SYSTEM VERSIONING;
    INSERT INTO versioned VALUES (1, 'one'), (2, 'two'), (3, 'three'); UPDATE versioned SET v = 'TWO' WHERE id = 2; DELETE FROM versioned WHERE id = 3;
    CREATE TABLE versioned_explicit (id INT PRIMARY KEY, v VARCHAR(20), rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE, re TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE, PERIOD FOR SYSTEM_TIME (rs, re)) WITH SYSTEM VERSIONING;
    INSERT INTO versioned_explicit VALUES (1, 'a'), (2, 'b'); UPDATE versioned_explicit SET v = 'B' WHERE id = 2;
    CREATE SEQUENCE seq_ids START WITH 100 INCREMENT BY 5; DO NEXTVAL(seq_ids); DO NEXTVAL(seq_ids);
    CREATE TABLE composite (a BIGINT UNSIGNED, b VARCHAR(10), v INT, PRIMARY KEY (a, b));
    INSERT INTO composite SELECT seq DIV 3, CONCAT('k', seq % 3), seq FROM seq_0_to_8999;
    CREATE TABLE strkey (k VARCHAR(40) PRIMARY KEY, v INT);
    INSERT INTO strkey SELECT CONCAT('key-', seq), seq FROM seq_1_to_3000;
    CREATE TABLE sparse (id BIGINT PRIMARY KEY, v INT);
    INSERT INTO sparse VALUES (-9223372036854775808, 1), (-5, 2), (0, 3), (7, 4), (1000000000000, 5), (9223372036854775807, 6);
    INSERT INTO sparse SELECT seq * 1000, seq FROM seq_1_to_5000;
    CREATE TABLE uniq_nopk (u INT NOT NULL, v INT, UNIQUE KEY (u));
    INSERT INTO uniq_nopk SELECT seq, seq FROM seq_1_to_4000;
    CREATE TABLE nopk (a INT, b VARCHAR(20));
    INSERT INTO nopk VALUES (1, 'dup'), (1, 'dup'), (2, NULL), (NULL, NULL);
    INSERT INTO nopk SELECT seq, 'x' FROM seq_1_to_2000;
    CREATE TABLE empty_t (id INT PRIMARY KEY, x TEXT);
    CREATE TABLE fk_parent (id INT PRIMARY KEY, name VARCHAR(20));
    CREATE TABLE fk_child (id INT PRIMARY KEY, parent_id INT NOT NULL, FOREIGN KEY (parent_id) REFERENCES fk_parent (id) ON DELETE CASCADE);
    INSERT INTO fk_parent SELECT seq, CONCAT('p', seq) FROM seq_1_to_100; INSERT INTO fk_child SELECT seq, 1 + seq % 100 FROM seq_1_to_5000;
    CREATE TABLE \`we\`\`ird name\` (\`col\`\`1\` INT PRIMARY KEY, \`sp ace\` VARCHAR(10));
    INSERT INTO \`we\`\`ird name\` VALUES (1, 'x');
    CREATE TABLE aria_t (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=Aria; INSERT INTO aria_t VALUES (1, 'aria');
    CREATE TABLE myisam_t (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=MyISAM; INSERT INTO myisam_t VALUES (1, 'myisam');
    ANALYZE TABLE composite, strkey, sparse, uniq_nopk, fk_child, nopk;`, TYPES_DB);
  // Bytes that only a binary dump keeps: cp932's NEC and IBM rows map several byte pairs to one
  // Unicode character (0x8790 and 0x81E0 are both U+2252), so a dump through utf8mb4 turns one into
  // the other; latin1's undefined cp1252 bytes too.
  await db.sql(`SET NAMES binary; INSERT INTO cjk VALUES (1, X'8790', X'81'), (2, X'81E0', X'9D'), (3, X'ED40', X'FF'), (4, X'FA5B', X'80'), (5, X'879A', X'8D')`, TYPES_DB);
  await db.sql(`SET GLOBAL sql_mode = DEFAULT`);
}

export async function typeTables(db: MariaDB): Promise<string[]> {
  return (await db.sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${TYPES_DB}' AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY table_name`)).trim().split('\n');
}

const q = (n: string): string => `\`${n.replace(/`/g, '``')}\``;

/** CHECKSUM TABLE ... EXTENDED of each table (a query over the current rows where it cannot compare), SHOW CREATE of each table and the sequence's next value. */
export async function typeState(db: MariaDB): Promise<string> {
  const tables = await typeTables(db);
  const plain = tables.filter((t) => !(t in BY_QUERY));
  const sums = await db.sql(`CHECKSUM TABLE ${plain.map((t) => `${TYPES_DB}.${q(t)}`).join(', ')} EXTENDED`);
  let byQuery = '';
  for (const [t, cols] of Object.entries(BY_QUERY)) {
    byQuery += await db.sql(`SELECT '${t}', COUNT(*), SUM(CRC32(CONCAT_WS('|', ${cols}))) FROM ${TYPES_DB}.${t}`);
  }
  let creates = '';
  for (const t of tables) creates += (await db.sql(`SHOW CREATE TABLE ${TYPES_DB}.${q(t)}`)).replace(/ AUTO_INCREMENT=\d+/, '');
  const sequence = await db.sql(`SELECT NEXTVAL(${TYPES_DB}.seq_ids)`);
  return `${sums}${byQuery}${creates}${sequence}`;
}
