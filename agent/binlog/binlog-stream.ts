// The server's binary log as raw events over the replication protocol (COM_BINLOG_DUMP), with
// mysql2 (pure JS: runs on Node and Deno alike). Each event comes out as the bytes the server
// sent, after the protocol's 0x00 marker: header, body and checksum trailer exactly as in the
// server's file (the session asks for the file's own checksum algorithm).
//
// mysql2 exposes only its parsed events, so this file reaches into its internals, here only:
// `connection._binlogDump(opts)` starts its BinlogDump command at once on the idle connection
// (mysql2 writes COM_BINLOG_DUMP; its file name is ours, dumpWithFileName) and returns it; the
// command's `execute(packet, connection)` is then wrapped on that one instance, so that every
// packet after is ours: an error
// packet goes to mysql2's own handling (an 'error' event with errno), an EOF packet ends the
// stream, any other packet is an event, copied from buffer[offset + 1 .. end) (its memory is
// mysql2's and reused). What this relies on is checked when a stream starts (mysql2Internals),
// with a clear error naming what changed; test/binlog-stream.test.ts pins it.
//
// Backpressure: events queue up to maxQueuedBytes, then the connection is paused (mysql2's
// pause(): the socket stops being read, the server blocks on its send) until the consumer
// catches up. An AbortSignal destroys the socket at once.
import type { Connection, ConnectionOptions } from 'mysql2';
import { ErrorCodes, SidestashError, abortError, errorMessage } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';

/** ER_MASTER_FATAL_ERROR_READING_BINLOG: the file asked for is purged, or the position is not in it. */
export const ER_MASTER_FATAL_ERROR_READING_BINLOG = 1236;
/** The capability MariaDB 10.x replicas announce (MARIA_SLAVE_CAPABILITY_MINE = GTID): annotate, binlog checkpoint, GTID events as themselves. */
const MARIADB_SLAVE_CAPABILITY = 4;
const COM_BINLOG_DUMP_NON_BLOCK = 0x01;
/** MariaDB's BINLOG_SEND_ANNOTATE_ROWS_EVENT: without it the server leaves Annotate_rows events out, and the archive would miss bytes of the file. */
const COM_BINLOG_DUMP_SEND_ANNOTATE_ROWS = 0x02;

export interface BinlogStreamOptions {
  database: DatabaseConnection;
  /** Where to start: the file, and the position of its first event to send (4: from the file's start). */
  file: string;
  position: number;
  /** The server_id this replica announces; it must differ from every server's and other replica's. */
  replicaServerId: number;
  /** The server sends a heartbeat when it has had nothing to send this long (default 5 s). */
  heartbeatMs?: number;
  /** Stop at the end of the log rather than waiting for more (tests; BINLOG_DUMP_NON_BLOCK). */
  nonBlocking?: boolean;
  /** How many bytes of events may wait for the consumer before the socket is paused (default 4 MiB). */
  maxQueuedBytes?: number;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/** mysql2's packet, as far as the raw reader reads it. */
interface RawPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
  isError(): boolean;
}
interface DumpCommand {
  execute(packet: RawPacket | null, connection: unknown): boolean;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  next: unknown;
}
interface InternalConnection {
  _binlogDump(opts: { filename: string; binlogPos: number; serverId: number; flags: number }): DumpCommand;
  pause(): void;
  resume(): void;
}

/** The mysql2 internals this file uses; a clear error when a new mysql2 no longer has them. */
export function mysql2Internals(conn: unknown): InternalConnection {
  const c = conn as Partial<InternalConnection>;
  for (const name of ['_binlogDump', 'pause', 'resume'] as const) {
    if (typeof c[name] !== 'function') throw new Error(`mysql2 changed: its connection has no ${name}() (the binlog stream relies on it; see agent/binlog/binlog-stream.ts)`);
  }
  return c as InternalConnection;
}

function checkCommand(cmd: unknown): DumpCommand {
  const c = cmd as Partial<DumpCommand>;
  if (!c || typeof c.execute !== 'function' || typeof c.on !== 'function' || !('next' in c)) {
    throw new Error("mysql2 changed: _binlogDump() no longer returns a command with execute() and next (see agent/binlog/binlog-stream.ts)");
  }
  return c as DumpCommand;
}

interface WirePacket {
  buffer: Buffer;
  constructor: new (sequenceId: number, buffer: Buffer, start: number, end: number) => WirePacket;
}
/** The command byte, position, flags and server id after the 4-byte packet header. */
const DUMP_PACKET_BYTES = 4 + 1 + 4 + 2 + 4;
const COM_BINLOG_DUMP = 0x12;

/**
 * Calls `dump` (mysql2's _binlogDump) with its COM_BINLOG_DUMP packet's file name written by us:
 * mysql2 3.x encodes the name with an undefined encoding and throws, so it is given '' and the
 * name's bytes are appended to the packet as it is written (the connection's writePacket
 * shadowed for this one call). The connection is idle (every query before was awaited), so
 * mysql2 starts the command, and writes the packet, within the call: checked.
 */
function dumpWithFileName<T>(connection: unknown, file: string, dump: () => T): T {
  const c = connection as { writePacket(p: WirePacket): void };
  if (Object.hasOwn(c, 'writePacket') || typeof c.writePacket !== 'function') throw new Error('mysql2 changed: its connection has a writePacket of its own (see agent/binlog/binlog-stream.ts)');
  const write = c.writePacket;
  const name = Buffer.from(file, 'latin1');
  let written = false;
  c.writePacket = (empty: WirePacket) => {
    if (written || empty.buffer.length !== DUMP_PACKET_BYTES || empty.buffer[4] !== COM_BINLOG_DUMP) throw new Error(`mysql2 changed: its COM_BINLOG_DUMP packet is not the ${DUMP_PACKET_BYTES} bytes expected (see agent/binlog/binlog-stream.ts)`);
    const ours = Buffer.allocUnsafe(DUMP_PACKET_BYTES + name.length);
    empty.buffer.copy(ours, 0, 0, DUMP_PACKET_BYTES);
    name.copy(ours, DUMP_PACKET_BYTES);
    write.call(c, new empty.constructor(0, ours, 0, ours.length));
    written = true;
  };
  try {
    const result = dump();
    if (!written) throw new Error('mysql2 changed: _binlogDump() on an idle connection did not write COM_BINLOG_DUMP at once (see agent/binlog/binlog-stream.ts)');
    return result;
  } finally {
    delete (c as Partial<typeof c>).writePacket;
  }
}

function unavailable(message: string, cause?: unknown): SidestashError {
  return new SidestashError(ErrorCodes.DATABASE_UNAVAILABLE, message, { retryable: true, ...(cause === undefined ? {} : { cause }) });
}

/** A server error on the stream (or on setting it up) as the product's error. */
export function streamError(err: unknown, file: string, position: number): SidestashError {
  const e = err as { errno?: number; sqlMessage?: string; code?: string; fatal?: boolean };
  if (e.errno === ER_MASTER_FATAL_ERROR_READING_BINLOG) {
    return new SidestashError(ErrorCodes.BINLOG_GAP, `the server cannot send its binary log from ${file}:${position}: ${e.sqlMessage ?? errorMessage(err)}`, { cause: err, details: { file, position } });
  }
  if (e.errno === 1045 || e.errno === 1044 || e.errno === 1227 || e.errno === 1698) {
    return new SidestashError(ErrorCodes.BINLOG_UNSUITABLE, `the archiving user may not read the binary log: ${e.sqlMessage ?? errorMessage(err)}`, { cause: err, details: { problems: [e.sqlMessage ?? errorMessage(err)] } });
  }
  return unavailable(`binary log stream from ${file}:${position}: ${e.sqlMessage ?? errorMessage(err)}`, err);
}

/**
 * Opens a replication stream and yields the server's events as bytes, from (file, position)
 * on, until the signal aborts, the connection fails (DATABASE_UNAVAILABLE, retryable), the
 * server cannot send (BINLOG_GAP on error 1236) or, with nonBlocking, the log's end.
 */
export async function* binlogStream(options: BinlogStreamOptions): AsyncGenerator<Buffer> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal);
  if (!Number.isInteger(options.replicaServerId) || options.replicaServerId < 1 || options.replicaServerId > 4294967295) {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `replica server id ${options.replicaServerId} is not in 1..4294967295`);
  }
  if (!Number.isInteger(options.position) || options.position < 4 || options.position > 4294967295) {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `binlog position ${options.position} is not in 4..4294967295`);
  }
  const db = options.database;
  const config: ConnectionOptions = {
    user: db.username,
    password: db.password,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    flags: ['-LOCAL_FILES', '-MULTI_STATEMENTS'],
    ...(db.socket ? { socketPath: db.socket } : { host: db.host ?? '127.0.0.1', port: db.port ?? 3306 }),
    ...(db.caCert ? { ssl: { ca: db.caCert, rejectUnauthorized: true, verifyIdentity: true } } : {}),
  };
  const { default: mysql } = await import('mysql2');
  const conn: Connection = mysql.createConnection(config);
  const queue: Buffer[] = [];
  let queuedBytes = 0;
  let failure: Error | undefined;
  let eof = false;
  let paused = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (err: Error): void => {
    failure ??= err;
    notify();
  };
  conn.on('error', (err: Error) => fail(streamError(err, options.file, options.position)));
  const onAbort = (): void => {
    fail(abortError(signal));
    conn.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const maxQueuedBytes = options.maxQueuedBytes ?? 4 * 1024 * 1024;
  try {
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(streamError(err, options.file, options.position)) : resolve())));
    const query = (sql: string): Promise<void> =>
      new Promise((resolve, reject) => conn.query(sql, (err) => (err ? reject(streamError(err, options.file, options.position)) : resolve())));
    await query('SET @master_binlog_checksum = @@global.binlog_checksum');
    await query(`SET @mariadb_slave_capability = ${MARIADB_SLAVE_CAPABILITY}`);
    const heartbeatNs = BigInt(Math.max(1, Math.round(options.heartbeatMs ?? 5000))) * 1_000_000n;
    await query(`SET @master_heartbeat_period = ${heartbeatNs}`);
    if (signal?.aborted) throw abortError(signal);
    const internal = mysql2Internals(conn);
    const cmd = checkCommand(
      dumpWithFileName(conn, options.file, () =>
        internal._binlogDump({ filename: '', binlogPos: options.position, serverId: options.replicaServerId, flags: COM_BINLOG_DUMP_SEND_ANNOTATE_ROWS | (options.nonBlocking ? COM_BINLOG_DUMP_NON_BLOCK : 0) }),
      ),
    );
    const execute = cmd.execute;
    cmd.execute = function (packet, connection) {
      // mysql2 started the command within _binlogDump (checked there); errors are its own to handle.
      if (!cmd.next || !packet || packet.isError()) return execute.call(this, packet, connection);
      if (packet.isEOF()) {
        eof = true;
        notify();
        return true;
      }
      if (packet.buffer[packet.offset] !== 0x00 || packet.end - packet.offset < 1) {
        fail(unavailable(`binary log stream: a packet that is not an event (first byte ${packet.buffer[packet.offset]})`));
        conn.destroy();
        return true;
      }
      const event = Buffer.allocUnsafe(packet.end - packet.offset - 1);
      packet.buffer.copy(event, 0, packet.offset + 1, packet.end);
      queue.push(event);
      queuedBytes += event.length;
      if (queuedBytes >= maxQueuedBytes && !paused) {
        paused = true;
        internal.pause();
      }
      notify();
      return false;
    };
    cmd.on('error', (err) => fail(streamError(err, options.file, options.position)));
    // 'end' also follows an error packet (then failure says why): only EOF is the log's end.
    cmd.on('end', () => notify());
    // The stream ends only by the server closing it: no 'end' without EOF or error.
    (conn as unknown as { stream?: { on(e: string, l: () => void): void } }).stream?.on('close', () => fail(unavailable(`binary log stream from ${options.file}:${options.position}: the connection closed`)));
    for (;;) {
      const next = queue.shift();
      if (next) {
        queuedBytes -= next.length;
        if (paused && queuedBytes < maxQueuedBytes / 2) {
          paused = false;
          internal.resume();
        }
        yield next;
        continue;
      }
      // After the server's EOF (nonBlocking) nothing matters: it may close the connection then.
      if (eof) return;
      if (failure) throw failure;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    conn.destroy();
    (conn as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }
}
