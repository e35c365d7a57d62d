// Connects to the target database (mysql2) before a session: a clear error when it is down or
// the credentials are wrong, and the data size that the ETA of a backup is estimated from.
import { createConnection } from 'mysql2/promise';
import type { ConnectionOptions } from 'mysql2/promise';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { DatabaseConnection } from '../common/protocol.ts';

function options(db: DatabaseConnection): ConnectionOptions {
  const o: ConnectionOptions = { user: db.username, password: db.password, connectTimeout: 10_000 };
  if (db.socket) o.socketPath = db.socket;
  else {
    o.host = db.host ?? '127.0.0.1';
    o.port = db.port ?? 3306;
  }
  if (db.caCert) o.ssl = { ca: db.caCert, rejectUnauthorized: true };
  return o;
}

export async function withDatabase<T>(db: DatabaseConnection, fn: (query: (sql: string, params?: unknown[]) => Promise<unknown[]>) => Promise<T>): Promise<T> {
  let conn;
  try {
    conn = await createConnection(options(db));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const denied = e.code === 'ER_ACCESS_DENIED_ERROR' || e.code === 'ER_DBACCESS_DENIED_ERROR';
    throw new SidestashError(ErrorCodes.DATABASE_UNAVAILABLE, `cannot connect to the database${db.socket ? ` at ${db.socket}` : ` at ${db.host ?? '127.0.0.1'}:${db.port ?? 3306}`}: ${e.message ?? String(err)}`, { retryable: !denied, cause: err });
  }
  try {
    return await fn(async (sql, params) => (await conn.query(sql, params))[0] as unknown[]);
  } finally {
    await conn.end().catch(() => {});
  }
}

/** Bytes of table data outside the system schemas (a dump is roughly that size). */
export async function estimateDataBytes(db: DatabaseConnection): Promise<number> {
  return withDatabase(db, async (query) => {
    const rows = (await query(
      "SELECT COALESCE(SUM(data_length), 0) AS bytes FROM information_schema.tables WHERE table_schema NOT IN ('information_schema', 'performance_schema', 'sys', 'mysql')",
    )) as { bytes: number | string }[];
    return Number(rows[0]?.bytes ?? 0);
  });
}
