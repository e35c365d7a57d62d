// One connection of the parallel restore, over mysql2: a dump's statements go over the wire as
// they are, so no client command (\!, system, source, tee, pager, connect) can ever run, and
// nothing on the agent's host is read or written on a snapshot's behalf.
//
// Bytes go over the wire exactly: a statement's bytes are the COM_QUERY packet's payload as
// they are (#bufferQuery), and the server reads them in the character set the dump's own SET
// NAMES chose. The handshake's character set is 'binary' and SESSION_TRACK is off, so that
// mysql2 never re-encodes anything of its own either (it would switch encodings when the server
// reported a new character_set_client after SET NAMES); run() checks it before each statement. LOCAL_FILES is off: LOAD DATA LOCAL INFILE in a snapshot is refused by the
// server (the client cannot send files), and mysql2 has no file reader configured in any case.
// One statement per query (multipleStatements off, MULTI_STATEMENTS off).
//
// The session each connection starts with (SESSION_START), before any statement of the dump:
// - SET NAMES utf8mb4: the character set the mariadb client would have. A dump need not set
//   one (mariadb-dump --compact or --skip-set-charset write no SET NAMES), and `mariadb < dump`
//   then reads it in the client's own character set: the Debian 10.11 client negotiates it from
//   the locale (utf8mb3, collation utf8mb3_general_ci, under C.UTF-8 as in the MariaDB images;
//   latin1 without a locale). The handshake's 'binary' (above) is kept, so mysql2 still sends the
//   bytes as they are; only the server's reading of them changes. utf8mb4 rather than utf8mb3:
//   mariadb-dump writes utf8mb4 by default (its --default-character-set), the same bytes read the
//   same in both for every character utf8mb3 has, and a 4-byte character (an emoji in a utf8mb4
//   column), which a utf8mb3 client gets refused or turned into '?', is stored as it was. A
//   dump's own SET NAMES (every dump with its header) replaces it from its place on.
// - foreign_key_checks=0, as mariadb-dump's header sets it, for every dump: one without the
//   header (--compact, hand-written) would otherwise fail over several connections, where a
//   child table's rows may run before the last rows of its parent.
// - unique_checks is left as the dump sets it (mariadb-dump's header: 0), not forced to 0: with
//   both checks off, MariaDB 10.11 loads an INSERT into an empty table in bulk, and an INSERT
//   IGNORE whose rows collide there keeps none of its rows (measured: 0 of 3, where the client
//   without the header keeps 3; test/restore-verify.test.ts, the trigger case). A dump that does
//   not turn it off is loaded as the client loads it; one that does, as the client does too.
// The time zone is left as the server has it: the client sets none either (mariadb-dump's
// header sets '+00:00' itself, and a dump that sets none meant the server's).
// mysql2 is imported when the first connection opens, not with the agent.
import type { EventEmitter } from 'node:events';
import type { Connection, ConnectionOptions, QueryError } from 'mysql2';
import { ErrorCodes, SidestashError, errorMessage } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';

/** mysql2's number for the binary character set (collation 63). */
const BINARY_CHARSET = 63;
/** SERVER_STATUS_IN_TRANS of the protocol's status flags. */
const SERVER_STATUS_IN_TRANS = 1;
/** How long a cancel or a failed load waits to KILL statements on the server. */
export const KILL_TIMEOUT_MS = 5000;
/** Run on each connection when it opens, before any statement of a dump (see above). */
export const SESSION_START = 'SET NAMES utf8mb4, foreign_key_checks = 0';
/** The packet header and command byte around a statement. */
const PACKET_OVERHEAD_BYTES = 64;
/**
 * Bytes before a statement's text in its COM_QUERY packet: the length, the sequence number and
 * the command byte. A statement split with this much headroom (DumpStatement.framed) is sent
 * from its own buffer, without a copy.
 */
export const QUERY_HEADROOM_BYTES = 5;

/** mysql2's packet and connection, as far as run() reaches into them. */
interface WirePacket {
  buffer: Buffer;
  constructor: new (sequenceId: number, buffer: Buffer, start: number, end: number) => WirePacket;
}
interface WireConnection {
  writePacket(packet: WirePacket): void;
}
interface QueryCommand extends EventEmitter {
  start(packet: unknown, connection: WireConnection): unknown;
}
/** mysql2's createQuery (exported, not in its types): a query command for connection.query(). */
type CreateQuery = (options: { sql: string }, values: undefined, callback: undefined, config: unknown) => QueryCommand;

export interface ServerError {
  errno?: number;
  sqlState?: string;
  message: string;
}

export interface RestoreConnectionOptions {
  /** The database a connection starts in (USE), when the dump may not name one. */
  database?: string;
  /** false: SET sql_log_bin=0 on the connection (needs SUPER or BINLOG ADMIN). */
  writeBinlog?: boolean;
  connectTimeoutMs?: number;
}

export class RestoreConnection {
  readonly #conn: Connection;
  readonly #db: DatabaseConnection;
  readonly #createQuery: CreateQuery;
  #fatal: Error | undefined;
  #destroyed = false;
  #inTransaction = false;
  /** Fails the statement in flight. */
  #inFlight: ((err: Error) => void) | undefined;

  private constructor(conn: Connection, db: DatabaseConnection, createQuery: CreateQuery) {
    this.#conn = conn;
    this.#db = db;
    this.#createQuery = createQuery;
    conn.on('error', (err: Error) => (this.#fatal ??= err));
  }

  static async open(db: DatabaseConnection, options: RestoreConnectionOptions = {}): Promise<RestoreConnection> {
    const config: ConnectionOptions = {
      user: db.username,
      password: db.password,
      charset: 'BINARY',
      flags: ['-LOCAL_FILES', '-MULTI_STATEMENTS', '-SESSION_TRACK', '-CONNECT_ATTRS'],
      multipleStatements: false,
      // Statements are sent as they are: mysql2's default formatter scans every statement for
      // placeholders even without values (a fifth of the agent's CPU in a restore, measured).
      queryFormat: (sql: string) => sql,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      ...(db.socket ? { socketPath: db.socket } : { host: db.host ?? '127.0.0.1', port: db.port ?? 3306 }),
      ...(db.caCert ? { ssl: { ca: db.caCert, rejectUnauthorized: true, verifyIdentity: true } } : {}),
      ...(options.database ? { database: options.database } : {}),
    };
    // Loaded with the first restore: an agent that only backs up never holds mysql2 (~23 MiB RSS).
    const { default: mysql } = await import('mysql2');
    const conn = mysql.createConnection(config);
    const c = new RestoreConnection(conn, db, (mysql as unknown as { createQuery: CreateQuery }).createQuery);
    try {
      await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      c.destroy();
      const e = err as QueryError;
      const denied = e.errno === 1045 || e.errno === 1044 || e.errno === 1698;
      throw new SidestashError(ErrorCodes.DATABASE_UNAVAILABLE, `cannot use the database: ${serverErrorText(e)}`, { retryable: !denied, cause: err });
    }
    try {
      await c.query(SESSION_START);
    } catch (err) {
      c.destroy();
      throw new SidestashError(ErrorCodes.RESTORE_FAILED, `cannot set up the restore's session: ${serverErrorText(err as QueryError)}`, { cause: err });
    }
    if (options.writeBinlog === false) {
      try {
        await c.query('SET SESSION sql_log_bin = 0');
      } catch (err) {
        c.destroy();
        throw new SidestashError(ErrorCodes.RESTORE_FAILED, `restoring without writing the binary log (writeBinlog: false) needs a user with the BINLOG ADMIN (or SUPER) privilege: ${serverErrorText(err as QueryError)}`, { cause: err });
      }
    }
    return c;
  }

  /** The largest statement the server accepts (its max_allowed_packet, less the packet header). */
  async maxStatementBytes(): Promise<number> {
    const [row] = await this.query('SELECT @@max_allowed_packet');
    return Number(row![0]) - PACKET_OVERHEAD_BYTES;
  }

  /**
   * Runs one statement of the dump, its bytes as they are; rows it returns are discarded.
   * framed: the text with QUERY_HEADROOM_BYTES before it in one buffer (the splitter's
   * headroomBytes), which then goes to the socket as the packet itself.
   */
  run(text: Buffer, framed?: Buffer): Promise<void> {
    if (this.#conn.config.charsetNumber !== BINARY_CHARSET) {
      return Promise.reject(new Error(`the connection's character set changed to ${this.#conn.config.charsetNumber}: its bytes would not reach the server as they are`));
    }
    if (this.#destroyed) return Promise.reject(new Error('the connection was closed'));
    return new Promise((resolve, reject) => {
      let failed: Error | undefined;
      this.#inFlight = reject;
      const q = this.#bufferQuery(text, framed);
      this.#conn.query(q as never);
      // mysql2 puts the statement on its error: up to max_allowed_packet of the dump's data, not for logs.
      q.on('error', (err: Error & { sql?: string }) => {
        delete err.sql;
        failed ??= err;
      });
      // A statement that returns no rows ends with the server's status: whether a transaction is open.
      q.on('result', (r: unknown) => {
        const status = (r as { serverStatus?: unknown } | null)?.serverStatus;
        if (typeof status === 'number') this.#inTransaction = (status & SERVER_STATUS_IN_TRANS) !== 0;
      });
      q.on('end', () => {
        this.#inFlight = undefined;
        if (failed) reject(failed);
        else resolve();
      });
    });
  }

  /**
   * mysql2's query command for a statement given as bytes. mysql2 sends only strings (a copy of
   * the statement as a latin1 string in V8's heap, and another into its packet: a third of the
   * agent's CPU in a restore with the collections they caused, measured), so the command is
   * mysql2's own for an empty statement, with its one packet swapped for ours as it is written:
   * the same header bytes (the command, and the attribute counts where the server negotiated
   * query attributes), then the statement. Everything else (results, errors, timeouts) is
   * mysql2's unchanged.
   */
  #bufferQuery(text: Buffer, framed: Buffer | undefined): QueryCommand {
    const q = this.#createQuery({ sql: '' }, undefined, undefined, this.#conn.config);
    const start = q.start;
    q.start = function (this: QueryCommand, packet: unknown, connection: WireConnection) {
      // writePacket is a method of mysql2's connection class, shadowed for this one call.
      if (Object.hasOwn(connection, 'writePacket')) throw new Error('mysql2 changed: its connection has a writePacket of its own');
      const write = connection.writePacket;
      connection.writePacket = (empty: WirePacket) => {
        const head = empty.buffer.length;
        const ours = framed && framed.buffer === text.buffer && framed.byteOffset + head === text.byteOffset && framed.length === head + text.length ? framed : Buffer.allocUnsafe(head + text.length);
        if (ours !== framed) text.copy(ours, head);
        empty.buffer.copy(ours, 0, 0, head);
        write.call(connection, new empty.constructor(0, ours, 0, ours.length));
      };
      try {
        return start.call(this, packet, connection);
      } finally {
        delete (connection as Partial<WireConnection>).writePacket;
      }
    };
    return q;
  }

  /** A small query of the agent's own; rows as arrays of strings. */
  query(sql: string): Promise<string[][]> {
    if (this.#destroyed) return Promise.reject(new Error('the connection was closed'));
    return new Promise((resolve, reject) => {
      this.#inFlight = reject;
      this.#conn.query({ sql, rowsAsArray: true }, (err, rows) => {
        this.#inFlight = undefined;
        if (err) return reject(err);
        const list = Array.isArray(rows) ? (rows as unknown[][]) : [];
        resolve(list.map((r) => r.map((v) => (v === null ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)))));
      });
    });
  }

  /**
   * Closes the socket at once and fails the statement in flight (mysql2's destroy() only ends
   * its side of the socket and waits for the statement's answer, which may be minutes away);
   * the server notices when it next writes or reads (the loader KILLs it to make that now).
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#conn.destroy();
    (this.#conn as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    this.#inFlight?.(new Error('the connection was closed'));
    this.#inFlight = undefined;
  }

  /**
   * Stops the statement in flight now: destroy() and KILL of its server thread from a new
   * connection (best effort, within KILL_TIMEOUT_MS). For a cancel.
   */
  async abort(): Promise<void> {
    const id = this.threadId;
    this.destroy();
    if (id !== undefined) await killThreads(this.#db, [id]);
  }

  async end(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await new Promise<void>((resolve) => this.#conn.end(() => resolve()));
  }

  /**
   * Whether a transaction was open after the last statement that returned no rows (a dump's
   * BEGIN or START TRANSACTION, not yet committed): InnoDB rolls back all of it, not only the
   * statement, when it picks the connection as a deadlock's victim.
   */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** The server's id of this connection (for KILL). */
  get threadId(): number | undefined {
    return this.#conn.threadId ?? undefined;
  }

  /** The error that broke the connection, if one did. */
  get fatal(): Error | undefined {
    return this.#fatal;
  }
}

/** Best effort, within KILL_TIMEOUT_MS: KILL each of these server threads from a new connection. */
export async function killThreads(db: DatabaseConnection, threadIds: readonly number[]): Promise<void> {
  if (threadIds.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const kill = (async () => {
    const killer = await RestoreConnection.open(db, { connectTimeoutMs: KILL_TIMEOUT_MS });
    try {
      // A thread that has ended already is ER_NO_SUCH_THREAD: nothing left to do for it.
      for (const id of threadIds) await killer.query(`KILL ${id}`).catch(() => undefined);
    } finally {
      killer.destroy();
    }
  })().catch(() => undefined);
  await Promise.race([kill, new Promise<void>((r) => (timer = setTimeout(r, KILL_TIMEOUT_MS)))]);
  clearTimeout(timer);
}

/** The server's error as the mariadb client prints it: ERROR 1062 (23000): Duplicate entry... */
export function serverError(err: unknown): ServerError {
  const e = err as { sqlMessage?: string; errno?: number; sqlState?: string };
  const out: ServerError = { message: e.sqlMessage ?? errorMessage(err) };
  if (typeof e.errno === 'number') out.errno = e.errno;
  if (typeof e.sqlState === 'string') out.sqlState = e.sqlState;
  return out;
}

export function serverErrorText(err: unknown): string {
  const s = serverError(err);
  return s.errno !== undefined ? `ERROR ${s.errno} (${s.sqlState ?? 'HY000'}): ${s.message}` : s.message;
}
