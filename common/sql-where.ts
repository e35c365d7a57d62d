// Checks a mariadb-dump --where condition. mariadb-dump pastes it into
// `SELECT ... FROM t WHERE <condition>`, run with the backup user's rights, so a free-form
// value could end the condition and add `INTO OUTFILE` (a file on the database host), call a
// UDF such as sys_exec(), hide SQL in an executable comment (/*!...*/), or read other tables.
// Allowed is a plain condition: column names (plain words that are not reserved, or
// `backquoted`), literals without backslashes, operators, parentheses and a list of pure
// built-in functions. Reserved words cannot be bare column names in SQL anyway, so refusing
// all of them but the operator keywords below costs no valid condition.

/** MariaDB 10.11 reserved words (sql/lex.h not in the keyword rules of sql/sql_yacc.yy). */
const RESERVED = new Set(
  `ACCESSIBLE ADD ALL ALTER ANALYZE AND AS ASC ASENSITIVE BEFORE BETWEEN BIGINT BINARY BLOB BOTH BY CALL CASCADE CASE
CHANGE CHAR CHARACTER CHECK COLLATE COLUMN CONDITION CONSTRAINT CONTINUE CONVERT CREATE CROSS CURRENT_DATE CURRENT_ROLE
CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATABASE DATABASES DAY_HOUR DAY_MICROSECOND DAY_MINUTE DAY_SECOND DEC
DECIMAL DECLARE DEFAULT DELAYED DELETE DELETE_DOMAIN_ID DESC DESCRIBE DETERMINISTIC DISTINCT DISTINCTROW DIV
DO_DOMAIN_IDS DOUBLE DROP DUAL EACH ELSE ELSEIF ENCLOSED ESCAPED EXCEPT EXISTS EXIT EXPLAIN FALSE FETCH FLOAT FLOAT4
FLOAT8 FOR FORCE FOREIGN FROM FULLTEXT GENERAL GRANT GROUP HAVING HIGH_PRIORITY HOUR_MICROSECOND HOUR_MINUTE HOUR_SECOND
IF IGNORE IGNORE_DOMAIN_IDS IGNORE_SERVER_IDS IN INDEX INFILE INNER INOUT INSENSITIVE INSERT INT INT1 INT2 INT3 INT4 INT8
INTEGER INTERSECT INTERVAL INTO IS ITERATE JOIN KEY KEYS KILL LEADING LEAVE LEFT LIKE LIMIT LINEAR LINES LOAD LOCALTIME
LOCALTIMESTAMP LOCK LONG LONGBLOB LONGTEXT LOOP LOW_PRIORITY MASTER_HEARTBEAT_PERIOD MASTER_SSL_VERIFY_SERVER_CERT MATCH
MAXVALUE MEDIUMBLOB MEDIUMINT MEDIUMTEXT MIDDLEINT MINUTE_MICROSECOND MINUTE_SECOND MOD MODIFIES NATURAL NOT
NO_WRITE_TO_BINLOG NULL NUMERIC OFFSET ON OPTIMIZE OPTION OPTIONALLY OR ORDER OUT OUTER OUTFILE OVER PAGE_CHECKSUM
PARSE_VCOL_EXPR PARTITION POSITION PRECISION PRIMARY PROCEDURE PURGE RANGE READ READS READ_WRITE REAL RECURSIVE
REF_SYSTEM_ID REFERENCES REGEXP RELEASE RENAME REPEAT REPLACE REQUIRE RESIGNAL RESTRICT RETURN RETURNING REVOKE RIGHT
RLIKE ROW_NUMBER ROWS SCHEMA SCHEMAS SECOND_MICROSECOND SELECT SENSITIVE SEPARATOR SET SHOW SIGNAL SLOW SMALLINT SPATIAL
SPECIFIC SQL SQLEXCEPTION SQLSTATE SQLWARNING SQL_BIG_RESULT SQL_CALC_FOUND_ROWS SQL_SMALL_RESULT SSL STARTING
STATS_AUTO_RECALC STATS_PERSISTENT STATS_SAMPLE_PAGES STRAIGHT_JOIN TABLE TERMINATED THEN TINYBLOB TINYINT TINYTEXT TO
TRAILING TRIGGER TRUE UNDO UNION UNIQUE UNLOCK UNSIGNED UPDATE USAGE USE USING UTC_DATE UTC_TIME UTC_TIMESTAMP VALUES
VARBINARY VARCHAR VARCHARACTER VARYING WHEN WHERE WHILE WINDOW WITH WRITE XOR YEAR_MONTH ZEROFILL
DUMPFILE SQL_NO_CACHE SQL_CACHE HANDLER DO PREPARE EXECUTE DEALLOCATE BODY ELSIF GOTO PACKAGE RAISE ROWTYPE`.split(/\s+/),
);

/** Reserved words a condition may use (operators and literals). */
const CONDITION_KEYWORDS = new Set(
  `AND OR NOT XOR IS NULL TRUE FALSE IN LIKE BETWEEN ESCAPE DIV MOD REGEXP RLIKE INTERVAL CASE WHEN THEN ELSE BINARY
CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP UTC_DATE UTC_TIME UTC_TIMESTAMP LOCALTIME LOCALTIMESTAMP DAY_HOUR
DAY_MICROSECOND DAY_MINUTE DAY_SECOND HOUR_MICROSECOND HOUR_MINUTE HOUR_SECOND MINUTE_MICROSECOND MINUTE_SECOND
SECOND_MICROSECOND YEAR_MONTH`.split(/\s+/),
);

/** Built-in functions without side effects, files or other tables. */
const FUNCTIONS = new Set(
  `NOW CURDATE CURTIME CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP UTC_DATE UTC_TIME UTC_TIMESTAMP LOCALTIME
LOCALTIMESTAMP SYSDATE DATE TIME TIMESTAMP YEAR MONTH DAY DAYOFMONTH DAYOFWEEK DAYOFYEAR HOUR MINUTE SECOND WEEK QUARTER
DATE_ADD DATE_SUB ADDDATE SUBDATE DATEDIFF TIMEDIFF TIMESTAMPDIFF TIMESTAMPADD UNIX_TIMESTAMP FROM_UNIXTIME STR_TO_DATE
DATE_FORMAT LAST_DAY LOWER UPPER LCASE UCASE LENGTH CHAR_LENGTH CHARACTER_LENGTH SUBSTRING SUBSTR LEFT RIGHT TRIM LTRIM
RTRIM CONCAT CONCAT_WS LOCATE INSTR COALESCE IFNULL NULLIF IF ISNULL ABS MOD FLOOR CEIL CEILING ROUND GREATEST LEAST
HEX CRC32 JSON_VALUE JSON_EXTRACT JSON_CONTAINS IN NOT AND OR XOR INTERVAL`.split(/\s+/),
);

const WORD = /^[A-Za-z0-9_$]+/;
const OPERATORS = new Set(['(', ')', ',', '.', '=', '<', '>', '!', '+', '-', '*', '/', '%', '&', '|', '^', '~']);

/** Why a --where condition is refused, or undefined when it is a plain condition. */
export function whereConditionProblem(condition: string): string | undefined {
  if (condition.trim() === '') return 'is empty';
  if (condition.length > 4096) return 'is longer than 4096 characters';
  let i = 0;
  let lastWasDot = false;
  while (i < condition.length) {
    const c = condition[i]!;
    const rest = condition.slice(i);
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (/[\u0000-\u001f\u007f]/.test(c)) return 'contains a control character';
    if (c === '\\') return 'contains a backslash (its meaning depends on the server\'s sql_mode)';
    if (c === "'" || c === '"' || c === '`') {
      const end = quotedEnd(condition, i);
      if (end < 0) return `has an unterminated ${c === '`' ? 'quoted name' : 'string'}`;
      if (/[\u0000-\u001f\u007f\\]/.test(condition.slice(i, end))) return 'contains a control character or backslash in a quoted value';
      if (/^\s*\(/.test(condition.slice(end))) return 'calls a quoted function name: only built-in functions are allowed';
      i = end;
      lastWasDot = false;
      continue;
    }
    const word = WORD.exec(rest)?.[0];
    if (word) {
      const upper = word.toUpperCase();
      const call = /^\s*\(/.test(condition.slice(i + word.length));
      if (call) {
        if (lastWasDot) return `calls ${word}() of a schema: only built-in functions are allowed`;
        if (!FUNCTIONS.has(upper)) return `calls ${word}(), which is not an allowed function`;
      } else if (RESERVED.has(upper) && !CONDITION_KEYWORDS.has(upper)) {
        return `uses the SQL keyword ${upper}; quote a column of that name with backquotes`;
      }
      i += word.length;
      lastWasDot = false;
      continue;
    }
    if (rest.startsWith('--') || rest.startsWith('/*') || rest.startsWith('*/') || c === '#') return 'contains a comment';
    if (!OPERATORS.has(c)) return `contains ${JSON.stringify(c)}, which is not allowed in a condition`;
    lastWasDot = c === '.';
    i++;
  }
  return undefined;
}

/** The index just past a quoted token starting at `start` (a doubled quote is part of it), or -1. */
function quotedEnd(s: string, start: number): number {
  const q = s[start]!;
  let i = start + 1;
  for (;;) {
    const j = s.indexOf(q, i);
    if (j < 0) return -1;
    if (s[j + 1] === q) {
      i = j + 2;
      continue;
    }
    return j + 1;
  }
}
