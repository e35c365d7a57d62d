// The dump's text around the rows, with mariadb-dump's (10.11) semantics: the sandbox line and
// header (utf8mb4, time zone '+00:00', SQL mode NO_AUTO_VALUE_ON_ZERO, unique and foreign-key
// checks off, notes off), the binary-log position as --master-data=2 writes it, each
// database's and table's statements, the data's LOCK TABLES / DISABLE KEYS frame, views
// (placeholders first, the final views after every database, so views on views and on other
// databases load in any order), triggers after their table's rows, events and routines at the
// end of their database, each with the session (character set, SQL mode, time zone) it was
// created in, and the footer ending in "-- Dump completed". Pure.
import { DUMP_COMPLETED_MARK } from '../dump-verifier.ts';
import type { DatabaseEntry, ObjectEntry, TableEntry, TriggerEntry, ViewEntry } from './catalog.ts';
import type { SnapshotPosition } from './consistent-snapshot.ts';

/** An identifier in backticks (a backtick in it doubled). */
export const quoteName = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/** A string literal under sql_mode '' (backslash escapes on). */
export function quoteString(s: string): string {
  return `'${s.replace(/[\\'\0\n\r\x1a"]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z', '"': '\\"' })[c]!)}'`;
}

/** mariadb-dump's first line: the mariadb client (10.5.25 and later) runs no client commands after it. */
export const SANDBOX_LINE = '/*M!999999\\- enable the sandbox mode */ \n';

export function header(serverVersion: string, position: SnapshotPosition | undefined): string {
  return `${SANDBOX_LINE}-- sidestash parallel dump (mariadb-dump compatible)
--
-- Server version\t${serverVersion.replace(/[\r\n]/g, ' ')}

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES binary */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
${position ? `
--
-- Position to start replication or point-in-time recovery from
--

-- CHANGE MASTER TO MASTER_LOG_FILE='${position.file}', MASTER_LOG_POS=${position.position};
${position.gtidBinlogPos ? `-- GTID position: ${position.gtidBinlogPos}\n` : ''}` : ''}`;
}

export function footer(completedAt: Date): string {
  const d = completedAt;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

${DUMP_COMPLETED_MARK} on ${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${String(d.getUTCHours()).padStart(2, ' ')}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}
`;
}

const comment = (text: string): string => `\n--\n-- ${text.replace(/[\r\n]/g, ' ')}\n--\n\n`;

export function databaseStart(db: DatabaseEntry): string {
  const create = db.createSql.replace(/^CREATE DATABASE `/, 'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `');
  return `${comment(`Current Database: ${quoteName(db.name)}`)}${create};\n\nUSE ${quoteName(db.name)};\n`;
}

export function tableStructure(t: TableEntry): string {
  const q = quoteName(t.name);
  if (t.treatment === 'create-if-missing') {
    return `${comment(`Table structure for table ${q}`)}/*!40101 SET @saved_cs_client     = @@character_set_client */;\n/*!40101 SET character_set_client = utf8mb4 */;\n${t.createSql.replace(/^CREATE TABLE /, 'CREATE TABLE IF NOT EXISTS ')};\n/*!40101 SET character_set_client = @saved_cs_client */;\n`;
  }
  const drop = t.kind === 'sequence' ? `DROP SEQUENCE IF EXISTS ${q};\n` : `DROP TABLE IF EXISTS ${q};\n`;
  return `${comment(`Table structure for table ${q}`)}${drop}/*!40101 SET @saved_cs_client     = @@character_set_client */;\n/*!40101 SET character_set_client = utf8mb4 */;\n${t.createSql};\n/*!40101 SET character_set_client = @saved_cs_client */;\n`;
}

/** A sequence's state, as mariadb-dump writes it. */
export function sequenceValue(t: TableEntry, nextNotCached: string): string {
  if (!/^-?[0-9]{1,20}$/.test(nextNotCached)) throw new Error(`the sequence ${t.name}'s next value ${JSON.stringify(nextNotCached)} is not an integer`);
  return `\nDO SETVAL(${quoteName(t.name)}, ${nextNotCached}, 0);\n`;
}

export function dataStart(t: TableEntry): string {
  const q = quoteName(t.name);
  return `${comment(`Dumping data for table ${q}`)}LOCK TABLES ${q} WRITE;\n/*!40000 ALTER TABLE ${q} DISABLE KEYS */;\n`;
}

export function dataEnd(t: TableEntry): string {
  return `/*!40000 ALTER TABLE ${quoteName(t.name)} ENABLE KEYS */;\nUNLOCK TABLES;\n`;
}

/** "INSERT INTO `t` (`a`, `b`) VALUES " (generated columns left out: the server computes them). */
export function insertPrefix(t: TableEntry): string {
  return `INSERT INTO ${quoteName(t.name)} (${t.columns.map((c) => quoteName(c.name)).join(', ')}) VALUES `;
}

/** The session an object was created in, around its CREATE, in a DELIMITER ;; block. */
function inSession(show: ObjectEntry['show'], create: string, timeZone?: string | null): string {
  const cs = show.character_set_client ?? 'utf8mb4';
  const coll = show.collation_connection ?? 'utf8mb4_general_ci';
  const mode = show.sql_mode ?? '';
  const tz = timeZone ? `, @saved_time_zone = @@time_zone` : '';
  return `/*!50003 SET @saved_cs_client = @@character_set_client, @saved_cs_results = @@character_set_results, @saved_col_connection = @@collation_connection, @saved_sql_mode = @@sql_mode${tz} */ ;
/*!50003 SET character_set_client = ${safeWord(cs)}, character_set_results = ${safeWord(cs)}, collation_connection = ${safeWord(coll)}, sql_mode = ${quoteString(mode)}${timeZone ? `, time_zone = ${quoteString(timeZone)}` : ''} */ ;
DELIMITER ;;
${create} ;;
DELIMITER ;
/*!50003 SET character_set_client = @saved_cs_client, character_set_results = @saved_cs_results, collation_connection = @saved_col_connection, sql_mode = @saved_sql_mode${timeZone ? ', time_zone = @saved_time_zone' : ''} */ ;
`;
}

/** A character set or collation name from the server: letters, digits and _ only. */
function safeWord(w: string): string {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(w)) throw new Error(`${JSON.stringify(w)} is not a character set or collation name`);
  return w;
}

function required(show: ObjectEntry['show'], column: string, what: string): string {
  const v = show[column];
  if (typeof v !== 'string' || v === '') throw new Error(`SHOW CREATE for ${what} gave no ${column} (is the dump's user allowed to see it?)`);
  return v;
}

export function triggersText(triggers: readonly TriggerEntry[]): string {
  return triggers.map((t) => `${comment(`Trigger ${quoteName(t.name)} on ${quoteName(t.table)}`)}${inSession(t.show, required(t.show, 'SQL Original Statement', `trigger ${t.name}`))}`).join('');
}

export function eventsText(db: DatabaseEntry): string {
  if (db.events.length === 0) return '';
  return `${comment(`Dumping events for database '${db.name}'`)}${db.events.map((e) => `/*!50106 DROP EVENT IF EXISTS ${quoteName(e.name)} */;\n${inSession(e.show, required(e.show, 'Create Event', `event ${e.name}`), e.show.time_zone)}`).join('')}`;
}

export function routinesText(db: DatabaseEntry): string {
  if (db.routines.length === 0) return '';
  return `${comment(`Dumping routines for database '${db.name}'`)}${db.routines.map((r) => {
    const column = `Create ${r.type === 'PACKAGE BODY' ? 'Package Body' : r.type[0] + r.type.slice(1).toLowerCase()}`;
    return `/*!50003 DROP ${r.type} IF EXISTS ${quoteName(r.name)} */;\n${inSession(r.show, required(r.show, column, `${r.type.toLowerCase()} ${r.name}`))}`;
  }).join('')}`;
}

/** A placeholder with the view's columns, so that views on views load in any order. */
export function viewPlaceholder(v: ViewEntry): string {
  const q = quoteName(v.name);
  return `${comment(`Temporary table structure for view ${q}`)}DROP TABLE IF EXISTS ${q};\n/*!50001 DROP VIEW IF EXISTS ${q}*/;\nSET @saved_cs_client     = @@character_set_client;\nSET character_set_client = utf8mb4;\n/*!50001 CREATE VIEW ${q} AS SELECT\n ${v.columns.map((c) => `1 AS ${quoteName(c)}`).join(',\n ')} */;\nSET character_set_client = @saved_cs_client;\n`;
}

export function finalViews(db: DatabaseEntry): string {
  if (db.views.length === 0) return '';
  return `${comment(`Current Database: ${quoteName(db.name)}`)}USE ${quoteName(db.name)};\n${db.views.map((v) => {
    const q = quoteName(v.name);
    const cs = safeWord(v.show.character_set_client ?? 'utf8mb4');
    const coll = safeWord(v.show.collation_connection ?? 'utf8mb4_general_ci');
    return `${comment(`Final view structure for view ${q}`)}/*!50001 DROP VIEW IF EXISTS ${q}*/;
/*!50001 SET @saved_cs_client          = @@character_set_client */;
/*!50001 SET @saved_cs_results         = @@character_set_results */;
/*!50001 SET @saved_col_connection     = @@collation_connection */;
/*!50001 SET character_set_client      = ${cs} */;
/*!50001 SET character_set_results     = ${cs} */;
/*!50001 SET collation_connection      = ${coll} */;
${required(v.show, 'Create View', `view ${v.name}`)};
/*!50001 SET character_set_client      = @saved_cs_client */;
/*!50001 SET character_set_results     = @saved_cs_results */;
/*!50001 SET collation_connection      = @saved_col_connection */;
`;
  }).join('')}`;
}
