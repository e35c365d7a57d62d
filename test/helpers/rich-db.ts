// A database with what a restore has to get right besides rows: foreign keys, triggers, views
// on views, routines (one created under NO_BACKSLASH_ESCAPES), events, generated columns, every
// byte value in BLOBs, 4-byte utf8mb4 text with quotes, backslashes and newlines, tables without
// a primary key, an empty table, a table large enough for many INSERT statements, and many
// small tables. richState() is what must come back: CHECKSUM TABLE of each table and the
// definitions of the other objects.
import type { MariaDB } from './mariadb.ts';

export const RICH_DB = 'rich';
const SMALL_TABLES = 40;

export async function createRich(db: MariaDB): Promise<void> {
  await db.sql(`CREATE DATABASE ${RICH_DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`);
  await db.sql(`
    CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL) ENGINE=InnoDB;
    CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL, note VARCHAR(100), FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE) ENGINE=InnoDB;
    CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(100)) ENGINE=InnoDB;
    CREATE TABLE bytes (id INT PRIMARY KEY, b BLOB, vb VARBINARY(300)) ENGINE=InnoDB;
    CREATE TABLE texts (id INT PRIMARY KEY, t TEXT CHARACTER SET utf8mb4) ENGINE=InnoDB;
    CREATE TABLE gen (id INT PRIMARY KEY, a INT, v INT AS (a * 3) VIRTUAL, s VARCHAR(20) AS (CONCAT('s-', a)) STORED) ENGINE=InnoDB;
    CREATE TABLE nopk (a INT, b VARCHAR(20)) ENGINE=InnoDB;
    CREATE TABLE empty_one (id INT PRIMARY KEY, x TEXT) ENGINE=InnoDB;
    CREATE TABLE big (id INT PRIMARY KEY, k INT, payload VARCHAR(200), KEY (k)) ENGINE=InnoDB;
    CREATE TRIGGER child_ai AFTER INSERT ON child FOR EACH ROW INSERT INTO audit (msg) VALUES (CONCAT('child ', NEW.id));
    CREATE VIEW v_parent AS SELECT id, UPPER(name) AS name FROM parent;
    CREATE VIEW v_parent2 AS SELECT p.id, p.name, COUNT(c.id) AS children FROM v_parent p LEFT JOIN child c ON c.parent_id = p.id GROUP BY p.id, p.name;
    CREATE PROCEDURE add_parent(IN i INT) INSERT INTO parent VALUES (i, CONCAT('p', i));
    CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
    CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2035-01-01 00:00:00' DISABLE DO DELETE FROM audit WHERE id < 0;
    SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';
    CREATE FUNCTION bs() RETURNS VARCHAR(20) DETERMINISTIC RETURN 'a\\b\\''c';
    SET SESSION sql_mode = DEFAULT;
    SET SESSION group_concat_max_len = 1048576;
    INSERT INTO parent SELECT seq, CONCAT('parent ', seq) FROM seq_1_to_300;
    INSERT INTO child SELECT seq, 1 + seq % 300, CONCAT('c', seq) FROM seq_1_to_1500;
    INSERT INTO bytes SELECT seq, UNHEX(LPAD(HEX(seq), 2, '0')), UNHEX(LPAD(HEX(seq), 2, '0')) FROM seq_0_to_255;
    INSERT INTO bytes SELECT 1000, CAST(GROUP_CONCAT(UNHEX(LPAD(HEX(seq), 2, '0')) ORDER BY seq SEPARATOR '') AS BINARY), CAST(GROUP_CONCAT(UNHEX(LPAD(HEX(255 - seq), 2, '0')) ORDER BY seq SEPARATOR '') AS BINARY) FROM seq_0_to_255;
    SET NAMES utf8mb4;
    INSERT INTO texts VALUES (1, '😀 𝄞 𠜎 it''s "quoted" \\\\ back\\\\slash'), (2, 'line1\\nline2\\r\\n\\ttab;'), (3, '-- not a comment */ ;'), (4, ''), (5, NULL);
    INSERT INTO gen (id, a) SELECT seq, seq FROM seq_1_to_500;
    INSERT INTO nopk VALUES (1, 'dup'), (1, 'dup'), (2, NULL), (NULL, NULL);
    INSERT INTO big SELECT seq, seq % 1000, REPEAT(CONCAT(seq, '-'), 20) FROM seq_1_to_30000;
  `, RICH_DB);
  const small = Array.from({ length: SMALL_TABLES }, (_, i) => `CREATE TABLE t${String(i).padStart(2, '0')} (id INT PRIMARY KEY, v VARCHAR(40)); INSERT INTO t${String(i).padStart(2, '0')} SELECT seq, CONCAT('v', seq) FROM seq_1_to_${1 + i * 25};`);
  await db.sql(small.join('\n'), RICH_DB);
}

export async function richTables(db: MariaDB): Promise<string[]> {
  return (await db.sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${RICH_DB}' AND table_type = 'BASE TABLE' ORDER BY table_name`)).trim().split('\n');
}

/**
 * What must be equal after a restore: CHECKSUM TABLE ... EXTENDED of each table (a table with a
 * STORED generated column by a query naming every column: MariaDB 10.11's CHECKSUM TABLE does not
 * read it, MDEV-22943), the views', routines', triggers' and events' definitions, and what the
 * routine created under NO_BACKSLASH_ESCAPES returns.
 */
export async function richState(db: MariaDB): Promise<string> {
  const tables = (await richTables(db)).filter((t) => t !== 'gen');
  const sums = await db.sql(`CHECKSUM TABLE ${tables.map((t) => `${RICH_DB}.${t}`).join(', ')} EXTENDED`);
  const gen = await db.sql(`SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, a, v, s))) FROM ${RICH_DB}.gen`);
  const objects = await db.sql(`
    SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = '${RICH_DB}' ORDER BY table_name;
    SELECT routine_name, routine_type, routine_definition, sql_mode FROM information_schema.routines WHERE routine_schema = '${RICH_DB}' ORDER BY routine_name;
    SELECT trigger_name, event_object_table, action_statement FROM information_schema.triggers WHERE trigger_schema = '${RICH_DB}' ORDER BY trigger_name;
    SELECT event_name, event_definition, status, starts FROM information_schema.events WHERE event_schema = '${RICH_DB}' ORDER BY event_name;
    SELECT HEX(${RICH_DB}.bs()), ${RICH_DB}.twice(21), (SELECT COUNT(*) FROM ${RICH_DB}.v_parent2 WHERE children > 0);
    SELECT COUNT(*) FROM information_schema.referential_constraints WHERE constraint_schema = '${RICH_DB}';`);
  return `${sums}${gen}${objects}`;
}
