// One consistent point for N connections: a brief lock that stops commits, every worker's
// START TRANSACTION WITH CONSISTENT SNAPSHOT inside it (REPEATABLE READ), the binary-log
// coordinates of that point read while it holds, then the lock released. Every worker then
// reads the same committed state, and the coordinates are exactly where that state ends.
//
// The lock (LockMode):
// - 'backup-stage' (default): MariaDB's BACKUP STAGE START, FLUSH (non-transactional tables
//   not in use are closed), BLOCK_DDL (waits for running DDL, holds new DDL), then BLOCK_COMMIT:
//   only commits wait, and only from BLOCK_COMMIT to BACKUP STAGE END (running statements and
//   reads go on). Measured on a 2-core test server under the money-moving load of
//   test/parallel-dump-compat.test.ts: see the test's printed lock time.
// - 'flush-tables': FLUSH TABLES WITH READ LOCK, as mydumper and mariadb-dump --master-data
//   without --single-transaction: every write waits, and it waits itself for any long
//   statement to end (which blocks every write behind it meanwhile).
// Both need the RELOAD privilege; the binary-log position, BINLOG MONITOR (or REPLICATION CLIENT).
import { DumpConnection } from './dump-connection.ts';
import { dumpError } from './dump-connection.ts';
import { serverErrorText } from '../parallel-restore/restore-connection.ts';

export type LockMode = 'backup-stage' | 'flush-tables';

/** The binary-log point of the snapshot, when the server writes one. */
export interface SnapshotPosition {
  file: string;
  position: number;
  /** @@gtid_binlog_pos under the lock ('' when none). */
  gtidBinlogPos: string;
  /** When the coordinates were read (unix ms). */
  seenAtMs: number;
}

export interface SnapshotResult {
  /**
   * How long writes could be blocked (ms): from the request of the statement that blocks them
   * (BACKUP STAGE BLOCK_COMMIT: commits; FLUSH TABLES WITH READ LOCK: every write) to the end of
   * the release. An upper bound: a commit waits only if it comes in that window.
   */
  lockHeldMs: number;
  /** How long that statement itself waited to be granted (ms), part of lockHeldMs. */
  lockWaitMs: number;
  /** The whole snapshot step, earlier stages included (ms). */
  totalMs: number;
  position?: SnapshotPosition;
}

const LOCK_STATEMENTS: Record<LockMode, { lock: string[]; unlock: string }> = {
  // The stages before BLOCK_COMMIT are run one by one: they block no commit, so the time commits
  // wait is BLOCK_COMMIT's alone (measured: ~20 ms less than jumping to it under load).
  'backup-stage': { lock: ['BACKUP STAGE START', 'BACKUP STAGE FLUSH', 'BACKUP STAGE BLOCK_DDL', 'BACKUP STAGE BLOCK_COMMIT'], unlock: 'BACKUP STAGE END' },
  'flush-tables': { lock: ['FLUSH TABLES WITH READ LOCK'], unlock: 'UNLOCK TABLES' },
};

/**
 * Takes the snapshot on every worker. control holds the lock (it is not one of the workers);
 * the lock is released whatever happens, and a failure leaves no worker in a transaction that
 * the caller would read from (the caller destroys them all).
 */
export async function takeConsistentSnapshot(control: DumpConnection, workers: readonly DumpConnection[], mode: LockMode): Promise<SnapshotResult> {
  const statements = LOCK_STATEMENTS[mode];
  const t0 = performance.now();
  let blocking = t0;
  let locked = false;
  try {
    // Sessions waiting on the lock give up after a minute rather than block writes for longer.
    await control.query('SET SESSION lock_wait_timeout = 60');
    for (const s of statements.lock) {
      blocking = performance.now();
      await control.query(s);
      locked = true;
    }
    const lockWaitMs = performance.now() - blocking;
    await Promise.all(workers.map(async (w) => {
      await w.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await w.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    }));
    const position = await readPosition(control);
    await control.query(statements.unlock);
    locked = false;
    const end = performance.now();
    return { lockHeldMs: end - blocking, lockWaitMs, totalMs: end - t0, ...(position ? { position } : {}) };
  } catch (err) {
    throw dumpError(`cannot take the dump's consistent snapshot (${statements.lock.join('; ')}): ${serverErrorText(err)}`, err);
  } finally {
    if (locked) await control.query(statements.unlock).catch(() => control.destroy());
  }
}

/**
 * SHOW MASTER STATUS and @@gtid_binlog_pos, while commits are blocked; undefined without a
 * binary log, or for a user without BINLOG MONITOR (a dump without coordinates needs none, as
 * mariadb-dump --single-transaction; a backup that records them then fails, saying so).
 */
async function readPosition(control: DumpConnection): Promise<SnapshotPosition | undefined> {
  let status: (string | null)[][];
  try {
    status = await control.text('SHOW MASTER STATUS');
  } catch (err) {
    if ((err as { errno?: number }).errno === 1227) return undefined;
    throw err;
  }
  const row = status[0];
  if (!row || typeof row[0] !== 'string' || typeof row[1] !== 'string') return undefined;
  const [gtid] = await control.text('SELECT @@GLOBAL.gtid_binlog_pos');
  return { file: row[0]!, position: Number(row[1]), gtidBinlogPos: gtid?.[0] ?? '', seenAtMs: Date.now() };
}
