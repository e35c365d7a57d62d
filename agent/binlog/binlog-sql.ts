// Small queries of the archiver and the server check, over mysql2 (imported when first used):
// rows as arrays of strings, NULL as null.
import type { Connection, ConnectionOptions } from 'mysql2';
import { ErrorCodes, SidestashError, errorMessage } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';

export interface SqlConnection {
  query(sql: string): Promise<(string | null)[][]>;
  close(): void;
}

export async function openSqlConnection(db: DatabaseConnection, connectTimeoutMs = 10_000): Promise<SqlConnection> {
  const config: ConnectionOptions = {
    user: db.username,
    password: db.password,
    connectTimeout: connectTimeoutMs,
    flags: ['-LOCAL_FILES', '-MULTI_STATEMENTS'],
    ...(db.socket ? { socketPath: db.socket } : { host: db.host ?? '127.0.0.1', port: db.port ?? 3306 }),
    ...(db.caCert ? { ssl: { ca: db.caCert, rejectUnauthorized: true, verifyIdentity: true } } : {}),
  };
  const { default: mysql } = await import('mysql2');
  const conn: Connection = mysql.createConnection(config);
  conn.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  } catch (err) {
    conn.destroy();
    const e = err as { errno?: number; sqlMessage?: string };
    const denied = e.errno === 1045 || e.errno === 1044 || e.errno === 1698;
    throw new SidestashError(ErrorCodes.DATABASE_UNAVAILABLE, `cannot use the database: ${e.sqlMessage ?? errorMessage(err)}`, { retryable: !denied, cause: err });
  }
  return {
    query: (sql) =>
      new Promise((resolve, reject) =>
        conn.query({ sql, rowsAsArray: true }, (err, rows) => {
          if (err) return reject(err);
          const list = Array.isArray(rows) ? (rows as unknown[][]) : [];
          resolve(list.map((r) => r.map((v) => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)))));
        }),
      ),
    close: () => conn.destroy(),
  };
}

export async function withSqlConnection<T>(db: DatabaseConnection, fn: (c: SqlConnection) => Promise<T>): Promise<T> {
  const c = await openSqlConnection(db);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

function queryFailed(what: string, err: unknown): SidestashError {
  const e = err as { errno?: number; sqlMessage?: string };
  if (e.errno === 1227 || e.errno === 1142) return new SidestashError(ErrorCodes.BINLOG_UNSUITABLE, `${what}: ${e.sqlMessage ?? errorMessage(err)} (the archiving user needs BINLOG MONITOR or SUPER)`, { cause: err, details: { problems: [e.sqlMessage ?? errorMessage(err)] } });
  if (err instanceof SidestashError) return err;
  return new SidestashError(ErrorCodes.DATABASE_UNAVAILABLE, `${what}: ${e.sqlMessage ?? errorMessage(err)}`, { retryable: true, cause: err });
}

/** The server's oldest binary log file (SHOW BINARY LOGS). */
export async function firstBinlogFile(db: DatabaseConnection): Promise<string> {
  try {
    const rows = await withSqlConnection(db, (c) => c.query('SHOW BINARY LOGS'));
    const first = rows[0]?.[0];
    if (!first) throw new SidestashError(ErrorCodes.BINLOG_UNSUITABLE, 'the server has no binary log (log_bin is OFF)', { details: { problems: ['log_bin is OFF'] } });
    return first;
  } catch (err) {
    throw queryFailed('SHOW BINARY LOGS', err);
  }
}

/** The file the server writes now (SHOW MASTER STATUS). */
export async function currentBinlogFile(db: DatabaseConnection): Promise<string> {
  try {
    const rows = await withSqlConnection(db, (c) => c.query('SHOW MASTER STATUS'));
    const file = rows[0]?.[0];
    if (!file) throw new SidestashError(ErrorCodes.BINLOG_UNSUITABLE, 'the server has no binary log (log_bin is OFF)', { details: { problems: ['log_bin is OFF'] } });
    return file;
  } catch (err) {
    throw queryFailed('SHOW MASTER STATUS', err);
  }
}
