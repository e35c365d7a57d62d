// Loads a dump's statements over N connections, as restore-plan.ts plans them. Memory is
// bounded: statements are pulled from the source only while the bytes queued across the
// connections are under a cap (one statement larger than the cap still goes, alone), so a
// slow server slows the reading of the snapshot instead of filling the agent. The first failing
// statement aborts every connection and fails the load naming its table, its byte offset in
// the dump and the server's error; an aborted signal destroys the connections at once, and
// either way the statements still running on the server are KILLed from a new connection.
// A data statement InnoDB rolls back as a deadlock's victim is run again (mayRetry), unless it
// ran inside a transaction the dump opened: then the load fails.
import { ErrorCodes, SidestashError, errorMessage } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';
import type { ClassifiedStatement } from '../../common/sql-dump/dump-statements.ts';
import { RestoreConnection, killThreads, serverError, serverErrorText } from './restore-connection.ts';
import { statementCore } from '../../common/sql-dump/statement-kind.ts';
import type { StatementKind } from '../../common/sql-dump/statement-kind.ts';
import { loadOrder } from './load-order.ts';
import { RestorePlanner, turnsAutocommitOff } from './restore-plan.ts';
import type { PlannedStatement } from './restore-plan.ts';

/**
 * Bytes of statements queued across all connections before the source is read on: room for two
 * or more of mariadb-dump's INSERTs (up to net_buffer_length, 1 MiB by default) per connection
 * at the default parallelism. Each queued byte is held about twice more while it is sent (as a
 * string and as mysql2's packet); a 4 MiB cap loaded as fast as 16 MiB in the measurements,
 * and keeps the agent's peak RSS lower (bench/mariadb-restore.bench.ts).
 */
export const DEFAULT_QUEUED_BYTES = 4 * 1024 * 1024;

/**
 * Rows of one table loading over several connections can deadlock in InnoDB (two INSERTs'
 * gap and insert-intention locks; seen about once in ten loads of a 30,000-row table over 4
 * connections). The server rolls back the victim, which without an open transaction
 * (autocommit: the loader skips the dump's SET autocommit=0) is that one statement: it is run
 * again, as myloader does. A lock wait timeout rolls back the statement only, the same.
 */
const MAX_ATTEMPTS = 5;
const RETRY_DELAY_MS = 50;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;

function lockConflict(err: unknown): boolean {
  const errno = serverError(err).errno;
  return errno === ER_LOCK_DEADLOCK || errno === ER_LOCK_WAIT_TIMEOUT;
}

/**
 * Never inside a transaction the dump opened (BEGIN or START TRANSACTION ... COMMIT, on the
 * connection that ran its BEGIN): a deadlock rolls back the whole transaction, and running the
 * one statement again would commit the transaction's later rows without its earlier ones. The
 * restore fails instead (statementFailed says why).
 */
export function mayRetry(what: StatementKind, err: unknown, inTransaction: boolean): boolean {
  return what.kind === 'data' && !inTransaction && lockConflict(err);
}

/** CREATE TABLE (not IF NOT EXISTS) and DROP TABLE leave the table empty (or gone). */
function emptiesTable(st: ClassifiedStatement): boolean {
  if (st.what.kind !== 'table-ddl') return false;
  return st.what.verb === 'drop' || (st.what.verb === 'create' && !/^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\b/i.test(statementCore(st.head.toString('latin1'))));
}

/** What a skipped statement is planned as (nothing runs it). */
const SKIPPED: StatementKind = { kind: 'lock' };

export interface LoadProgress {
  statements: number;
  /** Where the last statement taken from the source ends in the dump. */
  dumpOffset: number;
}

export interface LoadDumpOptions {
  connection: DatabaseConnection;
  parallel: number;
  /** false: the connections do not write the binary log (SET sql_log_bin=0). */
  writeBinlog?: boolean;
  /** The database each connection starts in. */
  database?: string;
  signal: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  maxQueuedBytes?: number;
  /**
   * Called with each statement once no connection will use its bytes again (every connection
   * that runs it has; or none runs it): a FramePool's release (common/sql-dump/frame-pool.ts).
   */
  release?: (st: ClassifiedStatement) => void;
  /** Runs once, before the first connection opens, when the first statement is there. */
  beforeFirstStatement?: () => Promise<void>;
}

export interface TableRows {
  database: string;
  table: string;
  /** Rows of the table's INSERT statements, counted from the dump. */
  rows: number;
}

export interface LoadResult {
  statements: number;
  /** Tables that received data statements, in the order they first did. */
  tables: TableRows[];
  /** False when the source had no statement (nothing was connected or run). */
  started: boolean;
  /** Data statements run again after InnoDB chose them as a deadlock's victim. */
  retries: number;
}

interface Entry {
  planned: PlannedStatement;
  st: ClassifiedStatement;
  /** Connections that have not run it yet. */
  pending: number;
}

class Lane {
  readonly fifo: Entry[] = [];
  queuedBytes = 0;
}

export async function loadDump(statements: AsyncIterable<ClassifiedStatement>, o: LoadDumpOptions): Promise<LoadResult> {
  const parallel = o.parallel;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `parallel must be an integer from 1 to 64, not ${parallel}`);
  const cap = o.maxQueuedBytes ?? DEFAULT_QUEUED_BYTES;
  // A dump without USE (mariadb-dump shop, no --databases) runs in the database every connection starts in.
  const planner = new RestorePlanner(parallel, o.database ?? '');
  const lanes = Array.from({ length: parallel }, () => new Lane());
  const tables = new Map<string, TableRows>();
  let connections: RestoreConnection[] = [];
  let failure: unknown;
  let queued = 0;
  let count = 0;
  let retries = 0;
  /** Wakes whoever waits for a statement to finish (a lane's waits, the reader's room). */
  let wake: () => void = () => {};
  let changed = new Promise<void>((r) => (wake = r));
  const notify = () => {
    const w = wake;
    changed = new Promise<void>((r) => (wake = r));
    w();
  };
  let killed: Promise<void> | undefined;
  const fail = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    // The server goes on with a statement whose client is gone until it next looks: KILL ends it now.
    killed = killThreads(o.connection, connections.flatMap((c) => (c.threadId === undefined ? [] : [c.threadId])));
    for (const c of connections) c.destroy();
    notify();
  };
  const onAbort = () => fail(new SidestashError(ErrorCodes.ABORTED, `restore stopped: ${errorMessage(o.signal.reason)}`, { cause: o.signal.reason }));
  if (o.signal.aborted) onAbort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  /** Whether connection k has finished every statement up to index. */
  const doneThrough = (k: number, index: number) => {
    const head = lanes[k]!.fifo[0];
    return head === undefined || head.planned.index > index;
  };
  const workers: Promise<void>[] = [];
  const work = async (k: number) => {
    const lane = lanes[k]!;
    const conn = connections[k]!;
    for (;;) {
      while (failure === undefined && (lane.fifo.length === 0 || !lane.fifo[0]!.planned.waits.every((w) => w.connection === k || doneThrough(w.connection, w.index)))) {
        if (lane.fifo.length === 0 && closed) return;
        await changed;
      }
      if (failure !== undefined) return;
      const e = lane.fifo[0]!;
      for (let attempt = 1; ; attempt++) {
        // Before the statement: whether it runs inside a transaction (its failure ends that).
        const inTransaction = conn.inTransaction;
        try {
          await conn.run(e.st.text!, e.st.framed);
          break;
        } catch (err) {
          if (failure === undefined && attempt < MAX_ATTEMPTS && mayRetry(e.st.what, err, inTransaction)) {
            retries++;
            await new Promise((r) => setTimeout(r, RETRY_DELAY_MS * attempt));
            if (failure === undefined) continue;
          }
          fail(failure === undefined ? statementFailed(e, err, inTransaction && lockConflict(err)) : err);
          return;
        }
      }
      lane.fifo.shift();
      const size = e.st.text!.length;
      lane.queuedBytes -= size;
      if (--e.pending === 0) {
        queued -= size;
        o.release?.(e.st);
      }
      notify();
    }
  };
  let closed = false;
  let started = false;
  let dumpOffset = 0;
  try {
    for await (const st of loadOrder(statements, parallel)) {
      if (failure !== undefined) break;
      if (!started) {
        started = true;
        await o.beforeFirstStatement?.();
        connections = await openAll(o, parallel);
        if (failure !== undefined) for (const c of connections) c.destroy();
        for (let k = 0; k < parallel; k++) workers.push(work(k));
      }
      if (st.text === undefined) throw new Error('loadDump needs the statements collected (splitDump with collect)');
      const core = statementCore(st.head.toString('latin1'));
      // A USE the classifier cannot read would run on one connection only (as an ordered
      // statement) while the others stay in the previous database: refused, never guessed.
      if (st.what.kind !== 'use' && /^USE(?![A-Za-z0-9_$])/i.test(core)) {
        throw new SidestashError(ErrorCodes.RESTORE_FAILED, `the statement at byte ${st.contentOffset} of the dump is a USE the agent cannot read (mariadb-dump writes USE \`name\`;): it would change the database of one connection only`, { details: { offset: st.contentOffset } });
      }
      // SET autocommit=0 is skipped like LOCK TABLES (restore-plan.ts says why).
      const what = st.what.kind === 'session' && turnsAutocommitOff(core) ? SKIPPED : st.what;
      const planned = planner.plan(what, lanes.map((l) => l.queuedBytes));
      count++;
      // A table the dump creates again (twice in the dump: mariadb-dump --databases shop shop)
      // holds the rows of its last section only: its count starts again.
      if (planned.table && emptiesTable(st)) tables.delete(`${planned.table.database}\u0000${planned.table.table}`);
      if (planned.table && st.what.kind === 'data') {
        const key = `${planned.table.database}\u0000${planned.table.table}`;
        const t = tables.get(key) ?? tables.set(key, { ...planned.table, rows: 0 }).get(key)!;
        t.rows += st.what.rows;
      }
      if (planned.connections.length > 0) {
        const size = st.text.length;
        // Room for it: under the cap, or nothing queued at all (one statement larger than the cap).
        while (failure === undefined && queued > 0 && queued + size > cap) await changed;
        if (failure !== undefined) break;
        const e: Entry = { planned, st, pending: planned.connections.length };
        for (const c of planned.connections) {
          lanes[c]!.fifo.push(e);
          lanes[c]!.queuedBytes += size;
        }
        queued += size;
        notify();
      } else o.release?.(st);
      // A held ENABLE KEYS (defer-enable-keys.ts) ends before statements taken already.
      dumpOffset = Math.max(dumpOffset, st.end);
      o.onProgress?.({ statements: count, dumpOffset });
    }
  } catch (err) {
    fail(err);
  } finally {
    closed = true;
    notify();
    await Promise.all(workers);
    o.signal.removeEventListener('abort', onAbort);
    if (failure !== undefined) {
      for (const c of connections) c.destroy();
      await killed;
    } else await Promise.all(connections.map((c) => c.end()));
  }
  if (failure !== undefined) throw failure;
  return { statements: count, tables: [...tables.values()], started, retries };
}

async function openAll(o: LoadDumpOptions, parallel: number): Promise<RestoreConnection[]> {
  const opened = await Promise.allSettled(
    Array.from({ length: parallel }, () => RestoreConnection.open(o.connection, { ...(o.database ? { database: o.database } : {}), ...(o.writeBinlog === false ? { writeBinlog: false } : {}) })),
  );
  const ok = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const bad = opened.find((r) => r.status === 'rejected');
  if (bad) {
    for (const c of ok) c.destroy();
    throw bad.reason;
  }
  return ok;
}

function statementFailed(e: Entry, err: unknown, inTransaction = false): SidestashError {
  const t = e.planned.table;
  const where = `the statement at byte ${e.st.contentOffset} of the dump${t ? ` (table ${quoteName(t.database)}.${quoteName(t.table)})` : ''}`;
  const server = serverError(err);
  const why = inTransaction ? ' (inside a transaction the dump opened, which the server rolled back with it: not run again)' : '';
  return new SidestashError(ErrorCodes.RESTORE_FAILED, `${where} failed: ${serverErrorText(err)}${why}`, {
    cause: err,
    details: { offset: e.st.contentOffset, ...(t ? { database: t.database, table: t.table } : {}), ...(server.errno !== undefined ? { errno: server.errno } : {}), ...(server.sqlState ? { sqlState: server.sqlState } : {}) },
  });
}

function quoteName(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}
