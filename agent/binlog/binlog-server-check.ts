// Whether a server's binary log can be archived, checked before archiving starts: every problem
// at once, fatal ones as BINLOG_UNSUITABLE (details.problems), the rest as warnings.
// assessBinlogServer is the pure rule (tested on tables); checkBinlogServer reads the facts.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';
import { withSqlConnection } from './binlog-sql.ts';

export interface BinlogServerFacts {
  logBin: boolean;
  binlogFormat: string;
  serverId: number;
  binlogChecksum: string;
  /** expire_logs_days (0: never). */
  expireLogsDays: number;
  /** binlog_expire_logs_seconds (0: never; absent before MariaDB 10.6). */
  expireLogsSeconds?: number;
  /** Global privileges of the archiving user (GRANT ... ON *.*), upper case. */
  privileges: string[];
}

export interface BinlogServerAssessment {
  problems: string[];
  warnings: string[];
}

const DAY_SECONDS = 86_400;

function has(privileges: readonly string[], wanted: string): boolean {
  return privileges.includes('ALL PRIVILEGES') || privileges.includes(wanted);
}

export function assessBinlogServer(f: BinlogServerFacts): BinlogServerAssessment {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (!f.logBin) problems.push('log_bin is OFF: start the server with --log-bin (e.g. log-bin=mysql-bin)');
  if (f.serverId === 0) problems.push('server_id is 0: set a server_id (e.g. server-id=1) so that binary-log events carry it');
  const format = f.binlogFormat.toUpperCase();
  if (format === 'MIXED' || format === 'STATEMENT') warnings.push(`binlog_format is ${format}: ROW is recommended (statements that are not deterministic replay differently)`);
  else if (format !== 'ROW') problems.push(`binlog_format ${JSON.stringify(f.binlogFormat)} is not ROW, MIXED or STATEMENT`);
  const checksum = f.binlogChecksum.toUpperCase();
  if (checksum !== 'NONE' && checksum !== 'CRC32') problems.push(`binlog_checksum ${JSON.stringify(f.binlogChecksum)} is not NONE or CRC32`);
  if (!has(f.privileges, 'REPLICATION SLAVE') && !has(f.privileges, 'REPLICATION REPLICA')) problems.push('the archiving user lacks REPLICATION SLAVE (GRANT REPLICATION SLAVE ON *.* TO ...)');
  if (!has(f.privileges, 'BINLOG MONITOR') && !has(f.privileges, 'SUPER') && !has(f.privileges, 'REPLICATION CLIENT')) problems.push('the archiving user lacks BINLOG MONITOR (or SUPER) for SHOW BINARY LOGS (GRANT BINLOG MONITOR ON *.* TO ...)');
  const retentionSeconds = f.expireLogsSeconds !== undefined && f.expireLogsSeconds > 0 ? f.expireLogsSeconds : f.expireLogsDays * DAY_SECONDS;
  if (retentionSeconds > 0 && retentionSeconds < DAY_SECONDS) {
    warnings.push(`binary logs are purged after ${retentionSeconds} s: an archiver stopped longer than that loses events (a gap); keep them a day at least (binlog_expire_logs_seconds)`);
  }
  return { problems, warnings };
}

/** The global privileges in SHOW GRANTS lines (`GRANT A, B ON *.* TO ...`). */
export function globalPrivileges(grants: readonly string[]): string[] {
  const out = new Set<string>();
  for (const line of grants) {
    const m = /^GRANT (.+?) ON \*\.\* TO /i.exec(line);
    if (!m) continue;
    for (const p of m[1]!.split(',')) out.add(p.trim().toUpperCase());
  }
  return [...out];
}

/** Reads the facts over `db` and throws BINLOG_UNSUITABLE (all problems in details.problems) when any is fatal; returns the warnings. */
export async function checkBinlogServer(db: DatabaseConnection): Promise<{ warnings: string[] }> {
  const facts = await withSqlConnection(db, async (c) => {
    const [row] = await c.query('SELECT @@global.log_bin, @@global.binlog_format, @@global.server_id, @@global.binlog_checksum, @@global.expire_logs_days');
    let seconds: number | undefined;
    try {
      const [s] = await c.query('SELECT @@global.binlog_expire_logs_seconds');
      seconds = Number(s?.[0]);
    } catch {
      // before MariaDB 10.6: expire_logs_days only
    }
    const grants = (await c.query('SHOW GRANTS FOR CURRENT_USER')).map((r) => r[0] ?? '');
    const f: BinlogServerFacts = {
      logBin: row?.[0] === '1' || row?.[0]?.toUpperCase() === 'ON',
      binlogFormat: row?.[1] ?? '',
      serverId: Number(row?.[2] ?? 0),
      binlogChecksum: row?.[3] ?? '',
      expireLogsDays: Number(row?.[4] ?? 0),
      privileges: globalPrivileges(grants),
    };
    if (seconds !== undefined && Number.isFinite(seconds)) f.expireLogsSeconds = seconds;
    return f;
  });
  const { problems, warnings } = assessBinlogServer(facts);
  if (problems.length > 0) {
    throw new SidestashError(ErrorCodes.BINLOG_UNSUITABLE, `the server's binary log cannot be archived: ${problems.join('; ')}`, { details: { problems, warnings } });
  }
  return { warnings };
}
