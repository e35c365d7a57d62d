// The parallel consistent dumper: N connections read one snapshot (consistent-snapshot.ts) in
// key ranges (chunk-plan.ts), and one Readable carries the dump in mariadb-dump's order
// (sql-text.ts), statement by statement, from the bounded per-connection buffers
// (chunk-output.ts): a slow consumer stalls the readers, never grows the agent's memory. Plain
// `mariadb` restores the stream; it ends with "-- Dump completed" only when every table was
// read to its end. Any failure (a server error, a lost connection, the signal) ends every
// connection and fails the stream with a SidestashError: DUMP_FAILED, DATABASE_UNAVAILABLE
// (cannot connect), or ABORTED.
import { Readable } from 'node:stream';
import { ErrorCodes, SidestashError, abortError, isSidestashError } from '../../common/errors.ts';
import { serverErrorText } from '../parallel-restore/restore-connection.ts';
import type { DatabaseEntry, TableEntry } from './catalog.ts';
import { listDatabases, readDatabase } from './catalog.ts';
import { planRanges, rangeCondition } from './chunk-plan.ts';
import { ChunkOutput, WorkerBudget } from './chunk-output.ts';
import type { LockMode, SnapshotResult } from './consistent-snapshot.ts';
import { takeConsistentSnapshot } from './consistent-snapshot.ts';
import type { ConnectionFactory } from './dump-connection.ts';
import { DumpConnection, dumpError, killThreads } from './dump-connection.ts';
import { DEFAULT_STATEMENT_BYTES, InsertBuilder, PIECE_BYTES } from './insert-builder.ts';
import { PiecePool } from './piece-pool.ts';
import type { RenderMode } from './row-render.ts';
import { selectList } from './row-render.ts';
import * as text from './sql-text.ts';

export interface ParallelDumpOptions {
  connect: ConnectionFactory;
  /** Databases to dump, in this order; undefined: every database but the system schemas mariadb-dump --all-databases leaves out. */
  databases?: readonly string[];
  /** Reading connections (1..64). */
  parallel: number;
  /** Rows a key range aims at (default 50,000). */
  chunkRows?: number;
  /** A condition every table's rows must meet (mariadb-dump's --where; checked by the caller). */
  where?: string;
  render?: RenderMode;
  lockMode?: LockMode;
  /** Largest INSERT statement (default: mariadb-dump's net_buffer_length). */
  maxStatementBytes?: number;
  /** Bytes of statements that may wait per connection before it is paused (default 256 KiB: what waits longer is promoted out of V8's young generation and freed late, measured). */
  bufferBytesPerConnection?: number;
  signal?: AbortSignal;
}

export interface ParallelDumpResult {
  snapshot: SnapshotResult;
  databases: string[];
  tables: number;
  chunks: number;
  rows: number;
  bytes: number;
  /** The most bytes that waited in the connections' buffers at once. */
  peakBufferedBytes: number;
  /** Pieces of statements made, and made again from pieces given back (release). */
  piecesAllocated: number;
  piecesReused: number;
  /** Rows taken as the server's packets (DumpConnection.streamPackets' hot path; the others came as mysql2's rows). */
  packetRows: number;
}

export interface ParallelDump {
  stream: Readable;
  /**
   * Gives a Buffer read from the stream back for reuse, once nothing reads it any more (its
   * bytes copied): the repository writer's releaseInput. Buffers not the dumper's are ignored.
   */
  release: (piece: Uint8Array) => void;
  /** Settles when the stream has ended (or failed). */
  result: Promise<ParallelDumpResult>;
}

interface ChunkTask {
  sql: string;
  table: TableEntry;
  database: string;
  output: ChunkOutput;
}

type Unit = string | ChunkTask;

export const DEFAULT_CHUNK_ROWS = 50_000;
export const DEFAULT_BUFFER_BYTES = 256 * 1024;

export function parallelDump(options: ParallelDumpOptions): ParallelDump {
  let settle!: { resolve: (r: ParallelDumpResult) => void; reject: (e: unknown) => void };
  const result = new Promise<ParallelDumpResult>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined);
  const pool = new PiecePool(PIECE_BYTES);
  const gen = run(options, pool, (r) => settle.resolve(r), (e) => settle.reject(e));
  const stream = Readable.from(gen, { objectMode: false, highWaterMark: 64 * 1024 });
  return { stream, result, release: (piece) => pool.release(piece) };
}

async function* run(o: ParallelDumpOptions, pool: PiecePool, done: (r: ParallelDumpResult) => void, fail: (e: unknown) => void): AsyncGenerator<Buffer> {
  const parallel = Math.max(1, Math.min(64, Math.floor(o.parallel)));
  const mode = o.render ?? 'client';
  const connections: DumpConnection[] = [];
  let failure: Error | undefined;
  const outputs: ChunkOutput[] = [];
  let killing: Promise<void> | undefined;
  const failWith = (err: unknown): void => {
    if (failure) return;
    failure = err instanceof Error ? err : new Error(String(err));
    // A server thread waiting on a lock (a table's metadata lock, the backup lock) does not
    // notice its client has gone: each is KILLed from a new connection, best effort.
    const ids = connections.map((c) => c.threadId).filter((id): id is number => id !== undefined);
    for (const c of connections) c.destroy();
    for (const out of outputs) out.interrupt();
    killing = killThreads(o.connect, ids);
  };
  const onAbort = (): void => failWith(abortError(o.signal));
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const stats = { tables: 0, chunks: 0, rows: 0, bytes: 0, peakBufferedBytes: 0, packetRows: 0 };
  let completed = false;
  try {
    if (o.signal?.aborted) throw abortError(o.signal);
    const opened = await Promise.allSettled(Array.from({ length: parallel + 1 }, () => DumpConnection.open(o.connect)));
    for (const r of opened) if (r.status === 'fulfilled') connections.push(r.value);
    const refused = opened.find((r) => r.status === 'rejected');
    if (refused) throw (refused as PromiseRejectedResult).reason;
    if (failure) throw failure;
    const [control, ...workers] = connections as [DumpConnection, ...DumpConnection[]];
    const snapshot = await takeConsistentSnapshot(control, workers, o.lockMode ?? 'backup-stage');
    const [[version]] = (await control.text('SELECT VERSION()')) as [[string]];
    const databases = await listDatabases(control, o.databases).catch((err: unknown) => {
      throw new SidestashError(ErrorCodes.DUMP_FAILED, `cannot list the databases to dump: ${serverErrorText(err)}`, { cause: err });
    });
    const catalog: DatabaseEntry[] = [];
    for (const db of databases) catalog.push(await readDatabase(control, db).catch((err: unknown) => { throw dumpError(`cannot read the definitions of database ${db}: ${serverErrorText(err)}`, err); }));
    const units = await planUnits(catalog, workers[0]!, control, o, outputs);
    await control.end();
    stats.tables = catalog.reduce((n, d) => n + d.tables.length, 0);
    stats.chunks = outputs.length;
    // The readers: each takes the next chunk in dump order.
    const tasks = units.filter((u): u is ChunkTask => typeof u !== 'string');
    let nextTask = 0;
    const budgets = workers.map(() => new WorkerBudget(o.bufferBytesPerConnection ?? DEFAULT_BUFFER_BYTES));
    const readers = workers.map(async (conn, i) => {
      const budget = budgets[i]!;
      while (!failure) {
        const task = tasks[nextTask++];
        if (!task) return;
        task.output.assign(budget);
        const builder = new InsertBuilder(text.insertPrefix(task.table), task.table.columns.map((c) => c.kind), mode, o.maxStatementBytes ?? DEFAULT_STATEMENT_BYTES, (s) => {
          task.output.push(s);
          const buffered = budgets.reduce((n, b) => n + b.pendingBytes, 0);
          if (buffered > stats.peakBufferedBytes) stats.peakBufferedBytes = buffered;
        }, PIECE_BYTES, pool);
        try {
          const more = (): boolean => {
            if (budget.open) return true;
            budget.whenOpen(() => conn.resume());
            return false;
          };
          await conn.streamPackets(
            task.sql,
            (buf, start, end) => {
              stats.packetRows++;
              builder.addPacket(buf, start, end);
              return more();
            },
            (row) => {
              builder.add(row);
              return more();
            },
          );
        } catch (err) {
          throw failure ?? dumpError(`cannot read ${task.database}.${task.table.name}: ${serverErrorText(err)}`, err);
        }
        builder.flush();
        stats.rows += builder.rowCount;
        task.output.end();
      }
    });
    const reading = Promise.all(readers).then(async () => Promise.all(workers.map((w) => w.query('COMMIT'))), (err: unknown) => failWith(err));
    reading.catch(() => undefined);
    yield emit(text.header(version, snapshot.position));
    for (const unit of units) {
      if (typeof unit === 'string') {
        yield emit(unit);
        continue;
      }
      for (;;) {
        const part = await unit.output.next(() => failure);
        if (!part) break;
        stats.bytes += part.length;
        yield part;
      }
    }
    await reading;
    if (failure) throw failure;
    yield emit(text.footer(new Date()));
    completed = true;
    done({ snapshot, databases, ...stats, piecesAllocated: pool.allocated, piecesReused: pool.reused });
  } catch (err) {
    const e = failure ?? err;
    failWith(e);
    const out = isSidestashError(e) ? e : dumpError(`the parallel dump failed: ${serverErrorText(e)}`, e);
    fail(out);
    throw out;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    // A consumer that stopped reading (its pipeline failed) ends here too: no connection outlives the dump.
    if (completed) for (const c of connections) await c.end().catch(() => c.destroy());
    else failWith(new SidestashError(ErrorCodes.DUMP_FAILED, 'the dump was stopped before its end', { retryable: true }));
    for (const c of connections) c.destroy();
    await killing;
    fail(failure);
  }

  function emit(s: string): Buffer {
    const b = Buffer.from(s, 'utf8');
    stats.bytes += b.length;
    return b;
  }
}

/** The dump's units in order: text, and the chunks whose statements go between. */
async function planUnits(catalog: readonly DatabaseEntry[], planner: DumpConnection, control: DumpConnection, o: ParallelDumpOptions, outputs: ChunkOutput[]): Promise<Unit[]> {
  const units: Unit[] = [];
  for (const db of catalog) {
    units.push(text.databaseStart(db));
    for (const t of db.tables) {
      units.push(text.tableStructure(t));
      const from = `${text.quoteName(db.name)}.${text.quoteName(t.name)}`;
      if (t.kind === 'sequence') {
        const [[next]] = (await control.text(`SELECT next_not_cached_value FROM ${from}`)) as [[string]];
        units.push(text.sequenceValue(t, next));
        continue;
      }
      if (t.treatment === 'data') {
        units.push(text.dataStart(t));
        let ranges = [{}] as ReturnType<typeof planRanges>;
        if (t.chunkColumn !== undefined) {
          const col = text.quoteName(t.chunkColumn);
          // In the snapshot: the ranges cover exactly the rows the readers will see.
          const [[min, max]] = (await planner.text(`SELECT MIN(${col}), MAX(${col}) FROM ${from}`)) as [[string | null, string | null]];
          ranges = planRanges(min === null ? undefined : BigInt(min), max === null ? undefined : BigInt(max), t.rowsEstimate, o.chunkRows ?? DEFAULT_CHUNK_ROWS);
        }
        const order = t.orderBy.length > 0 ? ` ORDER BY ${t.orderBy.map((c) => text.quoteName(c)).join(', ')}` : '';
        for (const range of ranges) {
          const output = new ChunkOutput();
          outputs.push(output);
          const sql = `SELECT /*!40001 SQL_NO_CACHE */ ${selectList(t.columns, o.render ?? 'client')} FROM ${from}${rangeCondition(t.chunkColumn, range, o.where)}${order}`;
          units.push({ sql, table: t, database: db.name, output });
        }
        units.push(text.dataEnd(t));
      }
      const triggers = db.triggers.filter((tr) => tr.table === t.name);
      if (triggers.length > 0) units.push(text.triggersText(triggers));
    }
    for (const v of db.views) units.push(text.viewPlaceholder(v));
    units.push(text.eventsText(db), text.routinesText(db));
  }
  for (const db of catalog) units.push(text.finalViews(db));
  return units.filter((u) => u !== '');
}
