// One connection of the parallel dumper, over mysql2. Every value comes back as the bytes the
// server sent (typeCast off: a Buffer per field, null for NULL), so nothing is decoded into
// JavaScript strings and re-encoded: the renderer (row-render.ts) copies bytes into the dump.
//
// The session is the one mariadb-dump's is with the product's --default-character-set=binary:
// SET NAMES binary (text columns arrive as the bytes stored, in their own character set, and the
// dump loads them back under SET NAMES binary unchanged: through utf8mb4, cp932's two byte pairs
// for one character would come back as one of them), time
// zone '+00:00' (TIMESTAMP values read in UTC; the dump's header sets the same zone to load
// them), sql_mode '' (SHOW CREATE quotes with backticks whatever the server's mode) and
// sql_quote_show_create on. net_write_timeout is raised: a slow repository stalls the reads
// (the dumper pauses the socket), and the server must not give up on a paused reader.
// max_statement_time 0: a server-wide limit would cut a long chunk read short.
//
// mysql2 is imported when the first connection opens, not with the agent.
import type { Connection, ConnectionOptions, FieldPacket, QueryError } from 'mysql2';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';
import { serverErrorText } from '../parallel-restore/restore-connection.ts';

/** Opens a new, connected mysql2 connection (the agent's own: dumpConnectionFactory). */
export type ConnectionFactory = () => Promise<Connection>;

export type RawRow = (Buffer | null)[];

/** The session every dump connection starts with (see above). */
export const DUMP_SESSION = "SET NAMES binary, time_zone = '+00:00', sql_mode = '', sql_quote_show_create = 1, net_write_timeout = 31536000, net_read_timeout = 31536000, max_statement_time = 0";

/** A factory for the agent's database settings: socket or host, credentials, TLS as the restore connects. */
export function dumpConnectionFactory(db: DatabaseConnection, connectTimeoutMs = 10_000): ConnectionFactory {
  return async () => {
    const config: ConnectionOptions = {
      user: db.username,
      password: db.password,
      charset: 'UTF8MB4_GENERAL_CI',
      flags: ['-LOCAL_FILES', '-MULTI_STATEMENTS', '-CONNECT_ATTRS'],
      multipleStatements: false,
      queryFormat: (sql: string) => sql,
      // No prepared statements: mysql2's cache of them is an LRU of 16,000 by default, four arrays of 16,000 slots made with each connection (~0.5 MiB of heap each).
      maxPreparedStatements: 1,
      connectTimeout: connectTimeoutMs,
      ...(db.socket ? { socketPath: db.socket } : { host: db.host ?? '127.0.0.1', port: db.port ?? 3306 }),
      ...(db.caCert ? { ssl: { ca: db.caCert, rejectUnauthorized: true, verifyIdentity: true } } : {}),
    };
    const { default: mysql } = await import('mysql2');
    const conn = mysql.createConnection(config);
    try {
      await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      conn.destroy();
      throw err;
    }
    return conn;
  };
}

export class DumpConnection {
  readonly #conn: Connection;
  #destroyed = false;
  #fatal: Error | undefined;
  #inFlight: ((err: Error) => void) | undefined;

  private constructor(conn: Connection) {
    this.#conn = conn;
    conn.on('error', (err: Error) => {
      this.#fatal ??= err;
      this.#inFlight?.(err);
    });
  }

  static async open(factory: ConnectionFactory): Promise<DumpConnection> {
    let conn: Connection;
    try {
      conn = await factory();
    } catch (err) {
      const e = err as QueryError;
      const denied = e.errno === 1045 || e.errno === 1044 || e.errno === 1698;
      throw new SidestashError(ErrorCodes.DATABASE_UNAVAILABLE, `cannot use the database: ${serverErrorText(e)}`, { retryable: !denied, cause: err });
    }
    const c = new DumpConnection(conn);
    try {
      await c.query(DUMP_SESSION);
    } catch (err) {
      c.destroy();
      throw dumpError(`cannot set up the dump's session: ${serverErrorText(err)}`, err);
    }
    return c;
  }

  /** Rows of a query, each field the server's bytes (null for NULL). */
  query(sql: string): Promise<RawRow[]> {
    if (this.#destroyed) return Promise.reject(new Error('the connection was closed'));
    return new Promise((resolve, reject) => {
      this.#inFlight = reject;
      this.#conn.query({ sql, rowsAsArray: true, typeCast: false }, (err, rows) => {
        this.#inFlight = undefined;
        if (err) return reject(stripSql(err));
        resolve(Array.isArray(rows) ? (rows as unknown as RawRow[]) : []);
      });
    });
  }

  /** Rows and the names of their columns. */
  queryWithFields(sql: string): Promise<{ fields: string[]; rows: RawRow[] }> {
    if (this.#destroyed) return Promise.reject(new Error('the connection was closed'));
    return new Promise((resolve, reject) => {
      this.#inFlight = reject;
      this.#conn.query({ sql, rowsAsArray: true, typeCast: false }, (err, rows, fields) => {
        this.#inFlight = undefined;
        if (err) return reject(stripSql(err));
        resolve({ fields: (fields ?? []).map((f) => f.name), rows: Array.isArray(rows) ? (rows as unknown as RawRow[]) : [] });
      });
    });
  }

  /** Rows as strings (utf8; NULL as null): for the catalog's small queries. */
  async text(sql: string): Promise<(string | null)[][]> {
    return (await this.query(sql)).map((r) => r.map((v) => (v === null ? null : v.toString('utf8'))));
  }

  /**
   * Streams a query's rows into onRow as they arrive; the socket is paused while onRow's last
   * answer was false, until resume() (the dumper's per-connection bound).
   */
  stream(sql: string, onRow: (row: RawRow) => boolean, onFields?: (fields: FieldPacket[]) => void): Promise<void> {
    if (this.#destroyed) return Promise.reject(new Error('the connection was closed'));
    return new Promise((resolve, reject) => {
      let failed: Error | undefined;
      this.#inFlight = reject;
      const q = this.#conn.query({ sql, rowsAsArray: true, typeCast: false });
      q.on('error', (err: Error) => (failed ??= stripSql(err)));
      q.on('fields', (fields: FieldPacket[]) => onFields?.(fields));
      q.on('result', (row: unknown) => {
        if (failed) return;
        try {
          if (!onRow(row as RawRow)) this.#conn.pause();
        } catch (err) {
          failed = err as Error;
          this.destroy();
        }
      });
      q.on('end', () => {
        this.#inFlight = undefined;
        if (failed) reject(failed);
        else resolve();
      });
    });
  }

  /**
   * Streams a query's rows into onPacket as the server sent them, each the payload
   * buf[start, end) of a text-protocol row packet (valid during the call only), with no Buffer
   * or array made per row: the dumper's hot path (insert-builder.ts addPacket). Pausing as
   * stream(). mysql2 has no public way to take rows raw: its query command's row state is
   * replaced on this one query (the state after the column definitions, `this.row`); where a
   * mysql2 release no longer has that state, or never calls it, the rows come as 'result'
   * events and onRow (renderRow's values) takes them instead.
   */
  streamPackets(sql: string, onPacket: (buf: Buffer, start: number, end: number) => boolean, onRow: (row: RawRow) => boolean): Promise<void> {
    if (this.#destroyed) return Promise.reject(new Error('the connection was closed'));
    return new Promise((resolve, reject) => {
      let failed: Error | undefined;
      this.#inFlight = reject;
      const q = this.#conn.query({ sql, rowsAsArray: true, typeCast: false }) as unknown as RowStateQuery;
      const take = (f: () => boolean): void => {
        if (failed) return;
        try {
          if (!f()) this.#conn.pause();
        } catch (err) {
          failed = err as Error;
          this.destroy();
        }
      };
      const mysql2Row = (Object.getPrototypeOf(q) as Partial<RowStateQuery>).row;
      if (typeof mysql2Row === 'function') {
        const row = function (this: RowStateQuery, packet: RowPacket, connection: unknown): unknown {
          // EOF (the end, or more results): mysql2's own state handles it.
          if (packet.isEOF()) return mysql2Row.call(this, packet, connection);
          take(() => onPacket(packet.buffer, packet.offset, packet.end));
          return row;
        };
        q.row = row;
        this.packetRows = true;
      }
      q.on('error', (err: Error) => (failed ??= stripSql(err)));
      q.on('result', (r: unknown) => take(() => onRow(r as RawRow)));
      q.on('end', () => {
        this.#inFlight = undefined;
        if (failed) reject(failed);
        else resolve();
      });
    });
  }

  /** Whether streamPackets took its rows raw (tests: the hot path is the one used). */
  packetRows = false;

  resume(): void {
    if (!this.#destroyed) this.#conn.resume();
  }

  get threadId(): number | undefined {
    return this.#conn.threadId ?? undefined;
  }

  get fatal(): Error | undefined {
    return this.#fatal;
  }

  /** Closes the socket at once and fails the query in flight. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#conn.destroy();
    (this.#conn as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    this.#inFlight?.(new Error('the connection was closed'));
    this.#inFlight = undefined;
  }

  async end(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await new Promise<void>((resolve) => this.#conn.end(() => resolve()));
  }
}

/** What streamPackets relies on in mysql2's query command (lib/commands/query.js, 3.x). */
interface RowPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}
interface RowStateQuery {
  row: (packet: RowPacket, connection: unknown) => unknown;
  on(event: string, listener: (...args: never[]) => void): void;
}

/** mysql2 puts the statement on its errors: a chunk's SELECT is not for logs. */
function stripSql(err: unknown): Error {
  if (err && typeof err === 'object') delete (err as { sql?: string }).sql;
  return err as Error;
}

/** The dumper's one error: DUMP_FAILED, retryable when the server was merely busy or went away. */
export function dumpError(message: string, cause?: unknown): SidestashError {
  const errno = (cause as { errno?: number } | undefined)?.errno;
  // 1205 lock wait timeout, 1213 deadlock, 1412 table definition changed, 2006/2013 server gone.
  const retryable = errno === undefined || [1205, 1213, 1412, 2006, 2013, 1927, 1053].includes(errno);
  return new SidestashError(ErrorCodes.DUMP_FAILED, message, { retryable, cause });
}

/** How long a failed dump waits to KILL its connections' server threads (an abort ends within about this). */
export const KILL_TIMEOUT_MS = 1000;

/** Best effort, within KILL_TIMEOUT_MS: KILL each of these server threads from a new connection. */
export async function killThreads(factory: ConnectionFactory, threadIds: readonly number[]): Promise<void> {
  if (threadIds.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const kill = (async () => {
    const killer = await DumpConnection.open(factory);
    try {
      // A thread that has ended already is ER_NO_SUCH_THREAD: nothing left to do for it.
      for (const id of threadIds) await killer.query(`KILL ${Number(id)}`).catch(() => undefined);
    } finally {
      killer.destroy();
    }
  })().catch(() => undefined);
  await Promise.race([kill, new Promise<void>((r) => (timer = setTimeout(r, KILL_TIMEOUT_MS)))]);
  clearTimeout(timer);
}
