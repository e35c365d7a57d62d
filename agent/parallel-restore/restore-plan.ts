// Which connection runs each statement of a dump, and what it waits for: the pure half of the
// parallel restore (the loader, dump-loader.ts, executes the plan). Each connection runs its
// statements in dump order (a FIFO); a wait is "connection k has finished every statement up to
// index i", so that a statement on one connection can wait for what another connection must do
// first.
//
// The rules:
// - 'session', 'use' and 'transaction' statements (SET NAMES, time zone, foreign_key_checks=0,
//   unique_checks=0, sql_mode, USE, COMMIT) run on EVERY connection, in their place in its FIFO:
//   each connection sees the dump's whole session prefix in dump order, so whichever connection
//   runs a statement runs it under the settings the dump meant for it.
// - A table has a home connection: the least loaded one when its first statement (DROP or CREATE
//   TABLE) is planned. Its DDL and its rows go there until another connection is about to run
//   dry (SPREAD_BYTES or less queued) while the home has more than SPREAD_BYTES beyond it: then
//   its next statement (rows or DDL) goes to that connection, the table's new home. So a small
//   table loads on one connection, with no wait on another (a dump of many tables loads them side
//   by side, as myloader does), and one big table spreads over all of them in runs of a few
//   statements.
// - 'data' (an INSERT) waits for the last DDL of its table (on whichever connection that ran).
// - 'table-ddl' of table X (DROP/CREATE TABLE, ALTER ... DISABLE/ENABLE KEYS) waits for the
//   previous DDL of X and the data of X queued since then, nothing else: CREATE TABLE b runs
//   while a's rows still load. With foreign_key_checks=0 (every mariadb-dump sets it), tables
//   need no order between them.
// - 'create-database', 'drop-database' and 'ordered' (views, triggers, routines, events, CREATE
//   TABLE ... SELECT, anything not recognised) are barriers: they wait for every statement
//   before them on every connection, and every statement after them waits for them.
// - 'lock' (LOCK TABLES / UNLOCK TABLES) is skipped: a table locked by one connection could not
//   be written by the others, and the locks only speed up a one-client load (myloader does not
//   lock either). Nothing else reads the tables during a restore that the locks would keep out.
// - SET autocommit=0 (mariadb-dump --no-autocommit) is skipped too (turnsAutocommitOff): like
//   the locks it only speeds up a one-client load, and with it every connection would hold its
//   rows' locks in a transaction until the dump's next COMMIT, so that a statement waiting on
//   the server for another connection's locks, which waits in our plan for the first, would
//   hang until innodb_lock_wait_timeout. Each statement commits on its own; the COMMITs run on
//   every connection and commit nothing. (myloader commits once per file of 50,000 rows; a
//   commit per ~1 MiB INSERT costs no more here: the 128 MiB many-tables dump loaded by the
//   mariadb client took 17.9 and 22.2 s as it is, 43.2 and 28.0 s inside one transaction per
//   table, on a shared 2-core machine.)
// Every statement also waits for the last barrier before it.
//
// No deadlock: a statement waits only for statements with a smaller index (the waits below are
// taken from state built from earlier statements, and a FIFO holds earlier statements before
// later ones). Take the unfinished statement with the smallest index: everything it waits for,
// and everything before it in its FIFO, has a smaller index and so has finished; it can run.
// So some statement can always run until all have (restore-plan.test.ts checks every wait of a
// long random plan points backwards).
//
// Tables are (database, table): the statement's own qualified database, else the current
// database from the last USE, which every connection follows in the same order (before any
// USE: the database the connections start in, the loader's `database`), compared case-folded
// (fold-name.ts: under lower_case_table_names=1 or 2 `T` and `t` are one table).
import type { StatementKind } from '../../common/sql-dump/statement-kind.ts';
import { foldName } from '../../common/sql-dump/fold-name.ts';

/** Connection `connection` has finished every statement with index <= `index` it was given. */
export interface Wait {
  connection: number;
  index: number;
}

export interface PlannedStatement {
  index: number;
  /** The connections that run it (all of them for session statements; none when skipped). */
  connections: number[];
  /** What it waits for on other connections (its own FIFO orders it on its own). */
  waits: Wait[];
  /** The table it belongs to, for data and table DDL. */
  table?: { database: string; table: string };
}

/**
 * One of mariadb-dump's INSERTs (net_buffer_length, 1 MiB): a table's next rows leave its home
 * only for a connection about to run dry (at most this much queued: its last statement) while
 * the home has more than this beyond it. Rows of one table on two connections at once cost the
 * server: adjacent key ranges inserted side by side split and share the same index pages. Moving
 * whenever the home was 1 MiB ahead (no "about to run dry") spread the tables of the 50-table
 * load often: mariadbd 11.2-13.5 CPU-s and 7.0-8.9 s, against 8.1-11.1 CPU-s and 5.5-7.0 s this
 * way; one big table 1.4-1.8 s against 1.6-2.3 s (/tmp/s9/probe2.ts, a busy machine). At 0 every
 * table spread, and its rows waited for its CREATE on the other connection.
 */
export const SPREAD_BYTES = 1024 * 1024;

interface TableState {
  /** The connection its statements go to (see the rules above). */
  home?: number;
  /** The last DDL of the table. */
  ddl?: Wait;
  /** The last data statement of the table on each connection since that DDL. */
  data: Map<number, number>;
}

export class RestorePlanner {
  readonly connections: number;
  #index = 0;
  #database = '';
  #barrier: Wait | undefined;
  /** The last statement given to each connection. */
  #last: (number | undefined)[];
  #tables = new Map<string, TableState>();

  /** database: the one every connection starts in (before the dump's first USE, if any). */
  constructor(connections: number, database = '') {
    if (!Number.isInteger(connections) || connections < 1) throw new RangeError(`connections must be a positive integer, not ${connections}`);
    this.connections = connections;
    this.#database = database;
    this.#last = new Array<number | undefined>(connections).fill(undefined);
  }

  /** The database a USE made current (as every connection sees it at this point of the dump). */
  get currentDatabase(): string {
    return this.#database;
  }

  /**
   * Plans the next statement of the dump. queuedBytes: the bytes now queued on each connection
   * (the loader's view; the plan is a function of it and of the statements before).
   */
  plan(what: StatementKind, queuedBytes: readonly number[]): PlannedStatement {
    const index = this.#index++;
    const barrierWait = this.#barrier ? [this.#barrier] : [];
    switch (what.kind) {
      case 'lock':
        return { index, connections: [], waits: [] };
      case 'session':
      case 'transaction':
      case 'use': {
        if (what.kind === 'use') this.#database = what.database;
        const all = Array.from({ length: this.connections }, (_, c) => c);
        for (const c of all) this.#last[c] = index;
        return { index, connections: all, waits: barrierWait };
      }
      case 'data': {
        const table = { database: what.database ?? this.#database, table: what.table };
        const state = this.#table(table);
        const c = this.#homeOf(state, queuedBytes);
        state.data.set(c, index);
        this.#last[c] = index;
        return { index, connections: [c], waits: compact([...barrierWait, ...(state.ddl ? [state.ddl] : [])], c), table };
      }
      case 'table-ddl': {
        const table = { database: this.#database, table: what.table };
        const state = this.#table(table);
        // At home (#homeOf), like its rows: after rows on several connections (ENABLE KEYS) it
        // waits for those on the others.
        const c = this.#homeOf(state, queuedBytes);
        const waits = [...barrierWait, ...(state.ddl ? [state.ddl] : []), ...[...state.data].map(([connection, i]) => ({ connection, index: i }))];
        state.ddl = { connection: c, index };
        state.data.clear();
        this.#last[c] = index;
        return { index, connections: [c], waits: compact(waits, c), table };
      }
      default: {
        // A barrier: after everything before it, before everything after it.
        const c = leastQueued(queuedBytes, this.connections);
        const waits: Wait[] = [];
        this.#last.forEach((i, connection) => {
          if (i !== undefined) waits.push({ connection, index: i });
        });
        this.#barrier = { connection: c, index };
        this.#last[c] = index;
        // What came before is finished once the barrier is: per-table waits would be redundant.
        this.#tables.clear();
        return { index, connections: [c], waits: compact(waits, c) };
      }
    }
  }

  /** The table's home, moved to the least loaded connection when that one is about to run dry. */
  #homeOf(state: TableState, queuedBytes: readonly number[]): number {
    const least = leastQueued(queuedBytes, this.connections);
    const leastBytes = queuedBytes[least] ?? 0;
    if (state.home === undefined || (leastBytes <= SPREAD_BYTES && (queuedBytes[state.home] ?? 0) - leastBytes > SPREAD_BYTES)) state.home = least;
    return state.home;
  }

  #table(t: { database: string; table: string }): TableState {
    // Folded: names that differ only in case may be one table (fold-name.ts).
    const key = `${foldName(t.database)}\u0000${foldName(t.table)}`;
    let s = this.#tables.get(key);
    if (!s) {
      s = { data: new Map() };
      this.#tables.set(key, s);
    }
    return s;
  }
}

/**
 * Whether a session statement's text (its core: common/sql-dump statementCore) does nothing but
 * turn autocommit off, save it or restore it, as mariadb-dump --no-autocommit writes it:
 * SET @OLD_AUTOCOMMIT=@@AUTOCOMMIT, @@AUTOCOMMIT=0 ... SET AUTOCOMMIT=@OLD_AUTOCOMMIT (older
 * versions: set autocommit=0). Skipped together: the saved value is never read.
 */
export function turnsAutocommitOff(core: string): boolean {
  const m = /^SET\s+(.*?)\s*(?:\*\/\s*)?$/is.exec(core);
  if (!m) return false;
  const parts = m[1]!.split(',').map((p) => p.trim());
  const save = /^@\w+\s*:?=\s*@@(?:SESSION\.)?autocommit$/i;
  const set = /^(?:SESSION\s+|@@(?:SESSION\.)?)?autocommit\s*:?=\s*(?:0|OFF|FALSE|@\w+)$/i;
  return parts.some((p) => set.test(p)) && parts.every((p) => save.test(p) || set.test(p));
}

/** The connection with the fewest queued bytes (the first of equals). */
export function leastQueued(queuedBytes: readonly number[], connections: number): number {
  let best = 0;
  for (let c = 1; c < connections; c++) if ((queuedBytes[c] ?? 0) < (queuedBytes[best] ?? 0)) best = c;
  return best;
}

/** One wait per other connection, the latest: a FIFO finishes its earlier statements first. */
function compact(waits: Wait[], own: number): Wait[] {
  const by = new Map<number, number>();
  for (const w of waits) if (w.connection !== own && (by.get(w.connection) ?? -1) < w.index) by.set(w.connection, w.index);
  return [...by].sort((a, b) => a[0] - b[0]).map(([connection, index]) => ({ connection, index }));
}
