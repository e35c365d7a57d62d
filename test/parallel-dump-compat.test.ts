// The parallel dumper (agent/parallel-dump/) against mariadb-dump, on real MariaDB servers: a
// database with every column type and one with foreign keys, views on views, triggers, routines
// and events are dumped both ways and each dump restored with plain `mariadb` into a fresh
// server; every table's CHECKSUM TABLE and every object's SHOW CREATE must be the same. The
// parallel dump also restores through the agent's own parallel loader. Under concurrent
// transfers (a sum that never changes) the restored dump holds a consistent cut: the sum, every
// balance matching its ledger, and nothing committed after the snapshot. Failures and the
// AbortSignal end every connection; a slow reader keeps the buffers within their bound.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadDump } from '../agent/parallel-restore/dump-loader.ts';
import { dumpConnectionFactory } from '../agent/parallel-dump/dump-connection.ts';
import { PIECE_BYTES } from '../agent/parallel-dump/insert-builder.ts';
import { DEFAULT_BUFFER_BYTES, parallelDump } from '../agent/parallel-dump/parallel-dumper.ts';
import type { ParallelDumpOptions, ParallelDumpResult } from '../agent/parallel-dump/parallel-dumper.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { TYPES_DB, createEveryType, typeState } from './helpers/every-type-db.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { RICH_DB, createRich, richState } from './helpers/rich-db.ts';

const execFileAsync = promisify(execFile);
const DATABASES = [TYPES_DB, RICH_DB];

/** `mariadb < dump` into a server, as a user restores a snapshot. */
async function mariadbLoad(db: MariaDB, dump: Buffer): Promise<void> {
  const child = spawn('mariadb', ['--no-defaults', '-uroot', `--socket=${db.socket}`], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await pipeline(Readable.from([dump]), child.stdin);
  const code = await exited;
  assert.equal(code, 0, `mariadb failed to load the dump: ${stderr}`);
}

/** SHOW CREATE of every view, trigger, routine and event of a database. */
async function objectCreates(db: MariaDB, database: string): Promise<string> {
  const rows = (await db.sql(`
    SELECT 'VIEW', table_name FROM information_schema.views WHERE table_schema = '${database}'
    UNION ALL SELECT 'TRIGGER', trigger_name FROM information_schema.triggers WHERE trigger_schema = '${database}'
    UNION ALL SELECT routine_type, routine_name FROM information_schema.routines WHERE routine_schema = '${database}'
    UNION ALL SELECT 'EVENT', event_name FROM information_schema.events WHERE event_schema = '${database}' ORDER BY 1, 2`)).trim().split('\n').filter(Boolean);
  let out = '';
  // The Created column of SHOW CREATE TRIGGER is the time of the restore.
  for (const row of rows) {
    const [kind, name] = row.split('\t');
    out += (await db.sql(`SHOW CREATE ${kind} ${database}.\`${name}\``)).replace(/\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d\d\n/, '\n');
  }
  return out;
}

/** Equal states; a difference is reported as the lines that differ. */
function sameState(actual: string, expected: string): void {
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  const differing = a.map((line, i) => (line === e[i] ? undefined : `line ${i + 1}:\n  parallel dump: ${line.slice(0, 300)}\n  mariadb-dump:  ${(e[i] ?? '').slice(0, 300)}`)).filter(Boolean);
  assert.fail(`the restores differ (${a.length} and ${e.length} lines):\n${differing.slice(0, 10).join('\n')}`);
}

async function collect(options: ParallelDumpOptions): Promise<{ dump: Buffer; result: ParallelDumpResult }> {
  const d = parallelDump(options);
  const parts: Buffer[] = [];
  for await (const chunk of d.stream) parts.push(chunk as Buffer);
  return { dump: Buffer.concat(parts), result: await d.result };
}

describe('parallel dump, compatibility with mariadb-dump', () => {
  let source: MariaDB;
  let target: MariaDB;
  let reference: string;
  const connect = () => dumpConnectionFactory({ socket: source.socket, username: 'root', password: '' });
  const state = async (db: MariaDB): Promise<string> => `${await typeState(db)}${await richState(db)}${await objectCreates(db, RICH_DB)}${await objectCreates(db, TYPES_DB)}`;
  const dropAll = (db: MariaDB) => db.sql(DATABASES.map((d) => `DROP DATABASE IF EXISTS ${d};`).join(''));

  before(async () => {
    [source, target] = await Promise.all([startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] }), startMariaDB()]);
    await createEveryType(source);
    await createRich(source);
    await source.sql(`CREATE VIEW ${TYPES_DB}.v_top AS SELECT r.id, r.children FROM ${RICH_DB}.v_parent2 r WHERE r.children > 4;`);
    const { stdout } = await execFileAsync('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${source.socket}`, '--single-transaction', '--routines', '--events', '--triggers', '--default-character-set=binary', '--databases', ...DATABASES], { encoding: 'buffer', maxBuffer: 1 << 28 });
    await mariadbLoad(target, stdout);
    reference = await state(target);
    await dropAll(target);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  for (const render of ['client', 'server'] as const) {
    it(`restores with plain mariadb to the same tables and objects as mariadb-dump's output (${render} rendering)`, async () => {
      const { dump, result } = await collect({ connect: connect(), databases: DATABASES, parallel: 2, chunkRows: 700, render });
      assert.ok(result.chunks > result.tables + 10, `tables were cut into key ranges (${result.chunks} chunks for ${result.tables} tables)`);
      assert.equal(result.packetRows, result.rows, "every row came as the server's packet (mysql2's row state replaced), none as mysql2's row");
      assert.match(dump.subarray(-200).toString(), /\n-- Dump completed on \d{4}-\d\d-\d\d [ \d]\d:\d\d:\d\d\n$/);
      assert.ok(result.snapshot.position, 'the binary log position was read under the lock');
      assert.match(dump.subarray(0, 2000).toString(), new RegExp(`\\n-- CHANGE MASTER TO MASTER_LOG_FILE='${result.snapshot.position.file}', MASTER_LOG_POS=${result.snapshot.position.position};\\n`));
      await mariadbLoad(target, dump);
      try {
        sameState(await state(target), reference);
      } finally {
        await dropAll(target);
      }
    });
  }

  it("restores through the agent's parallel loader to the same state", async () => {
    const { dump } = await collect({ connect: connect(), databases: DATABASES, parallel: 3, chunkRows: 500 });
    const statements = splitDump(Readable.from([dump]), { collect: true });
    await loadDump(statements, { connection: { socket: target.socket, username: 'root', password: '' }, parallel: 2, signal: new AbortController().signal });
    try {
      sameState(await state(target), reference);
    } finally {
      await dropAll(target);
    }
  });

  it('dumps every database but the system schemas by default, mysql as mariadb-dump does, and that restores', async () => {
    const { dump, result } = await collect({ connect: connect(), parallel: 2 });
    assert.deepEqual(result.databases, ['every_type', 'mysql', 'rich']);
    const text = dump.toString('latin1');
    assert.match(text, /CREATE TABLE IF NOT EXISTS `general_log`/);
    assert.doesNotMatch(text, /INSERT INTO `innodb_table_stats`/);
    assert.match(text, /INSERT INTO `global_priv`/);
    await mariadbLoad(target, dump);
    try {
      sameState(await state(target), reference);
    } finally {
      await dropAll(target);
    }
  });

  for (const lockMode of ['backup-stage', 'flush-tables'] as const) {
    it(`a consistent cut under concurrent transfers (${lockMode}): the sum, every balance against its ledger, nothing committed after the snapshot`, async () => {
      const ACCOUNTS = 4000;
      await source.sql(`DROP DATABASE IF EXISTS bank; CREATE DATABASE bank;
        CREATE TABLE bank.accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL);
        CREATE TABLE bank.ledger (id INT AUTO_INCREMENT PRIMARY KEY, src INT NOT NULL, dst INT NOT NULL, amount INT NOT NULL);
        INSERT INTO bank.accounts SELECT seq, 1000 FROM seq_1_to_${ACCOUNTS};`, 'mysql');
      const { default: mysql } = await import('mysql2/promise');
      const movers = await Promise.all([1, 2, 3].map(() => mysql.createConnection({ socketPath: source.socket, user: 'root' })));
      let stop = false;
      let committed = 0;
      const load = movers.map(async (c, k) => {
        for (let i = 0; !stop; i++) {
          const a = 1 + ((i * 7919 + k * 104729) % ACCOUNTS);
          const b = 1 + ((i * 15485863 + k) % ACCOUNTS);
          const amount = 1 + (i % 50);
          await c.query('START TRANSACTION');
          await c.query(`UPDATE bank.accounts SET balance = balance - ${amount} WHERE id = ${a}`);
          await c.query(`UPDATE bank.accounts SET balance = balance + ${amount} WHERE id = ${b}`);
          await c.query(`INSERT INTO bank.ledger (src, dst, amount) VALUES (${a}, ${b}, ${amount})`);
          await c.query('COMMIT');
          committed++;
        }
      });
      try {
        while (committed < 200) await new Promise((r) => setTimeout(r, 20));
        const before = committed;
        // Small buffers and statements: the connections read a range, stall, and read the next
        // only as the writer goes on; the writer takes a statement only after more transfers have
        // committed, so transfers fall between the reads of the ranges.
        const d = parallelDump({ connect: connect(), databases: ['bank'], parallel: 2, chunkRows: 200, lockMode, bufferBytesPerConnection: 8 * 1024, maxStatementBytes: 4 * 1024 });
        const parts: Buffer[] = [];
        let marked = false;
        await pipeline(d.stream, new Writable({
          write(chunk: Buffer, _enc, cb) {
            parts.push(chunk);
            if (marked) {
              const until = committed + 2;
              const wait = (): void => void (committed >= until ? cb() : setTimeout(wait, 1));
              return wait();
            }
            // The header comes after the snapshot: this row is committed after it, before any row is read.
            marked = true;
            source.sql('INSERT INTO bank.accounts VALUES (999999, 0); INSERT INTO bank.ledger (src, dst, amount) VALUES (0, 0, -1);').then(() => cb(), cb);
          },
        }));
        const result = await d.result;
        const during = committed - before;
        process.stdout.write(`# ${lockMode}: writes blocked for ${result.snapshot.lockHeldMs.toFixed(1)} ms (granted after ${result.snapshot.lockWaitMs.toFixed(1)} ms; the whole snapshot step ${result.snapshot.totalMs.toFixed(1)} ms) with ${during} transfers committed during the dump\n`);
        assert.ok(during > 0, 'transfers went on during the dump');
        await mariadbLoad(target, Buffer.concat(parts));
        const [sum, count, marker, mismatched, ledger] = (await target.sql(`SELECT SUM(balance), COUNT(*), (SELECT COUNT(*) FROM bank.accounts WHERE id = 999999) + (SELECT COUNT(*) FROM bank.ledger WHERE amount = -1),
          (SELECT COUNT(*) FROM bank.accounts a WHERE balance <> 1000 - IFNULL((SELECT SUM(amount) FROM bank.ledger WHERE src = a.id), 0) + IFNULL((SELECT SUM(amount) FROM bank.ledger WHERE dst = a.id), 0)),
          (SELECT COUNT(*) FROM bank.ledger) FROM bank.accounts`)).trim().split('\t').map(Number);
        assert.equal(sum, ACCOUNTS * 1000, 'the sum is the invariant');
        assert.equal(count, ACCOUNTS);
        assert.equal(marker, 0, 'nothing committed after the snapshot');
        assert.equal(mismatched, 0, 'every balance matches the ledger rows of the same cut');
        assert.ok(ledger! >= before, 'the transfers committed before the dump are in it');
      } finally {
        stop = true;
        await Promise.allSettled(load);
        await Promise.all(movers.map((c) => c.end()));
        await target.sql('DROP DATABASE IF EXISTS bank');
      }
    });
  }

  const dumpThreads = async (): Promise<number> => Number((await source.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'root' AND command <> 'Daemon' AND id <> CONNECTION_ID()")).trim());

  it('a slow reader stalls the connections: what waits stays within each connection\'s buffer', async () => {
    const budget = 64 * 1024;
    const statement = 16 * 1024;
    const d = parallelDump({ connect: connect(), databases: [RICH_DB], parallel: 3, chunkRows: 2000, bufferBytesPerConnection: budget, maxStatementBytes: statement });
    let bytes = 0;
    await pipeline(d.stream, new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        setImmediate(cb);
      },
    }));
    const result = await d.result;
    assert.ok(bytes > 10 * 3 * budget, `the dump (${bytes} bytes) is much larger than the buffers`);
    assert.ok(result.peakBufferedBytes <= 3 * (budget + statement + 64 * 1024), `at most ${result.peakBufferedBytes} bytes waited`);
  });

  it("what waits per connection is bounded by its buffer and one piece, not by the INSERT statements' size", async () => {
    // Statements of up to 1 MiB (chunks of 10,000 rows of rich.big): a connection's budget of
    // 64 KiB holds pieces of 64 KiB, never a whole statement (which the dump used to buffer).
    const budget = 64 * 1024;
    const d = parallelDump({ connect: connect(), databases: [RICH_DB], parallel: 3, chunkRows: 10_000, bufferBytesPerConnection: budget });
    let largest = 0;
    await pipeline(d.stream, new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, cb) {
        largest = Math.max(largest, chunk.length);
        setImmediate(cb);
      },
    }));
    const result = await d.result;
    assert.ok(largest <= PIECE_BYTES, `the stream's largest Buffer: ${largest} bytes`);
    assert.ok(result.peakBufferedBytes <= 3 * (budget + 2 * PIECE_BYTES), `at most ${result.peakBufferedBytes} bytes waited`);
  });

  it('pieces given back once copied are used again: the same dump, from a handful of pieces', async () => {
    const plain = await collect({ connect: connect(), databases: [RICH_DB], parallel: 3, chunkRows: 2000 });
    const d = parallelDump({ connect: connect(), databases: [RICH_DB], parallel: 3, chunkRows: 2000 });
    const copies: Buffer[] = [];
    await pipeline(d.stream, new Writable({
      write(chunk: Buffer, _enc, cb) {
        copies.push(Buffer.from(chunk));
        // Given back, then overwritten as the next use would: a piece still in use would show in the dump.
        d.release(chunk);
        setImmediate(cb);
      },
    }));
    const result = await d.result;
    const body = (dump: Buffer): string => dump.toString('latin1').replace(/\n-- Dump completed on [^\n]*\n$/, '');
    assert.equal(body(Buffer.concat(copies)), body(plain.dump));
    // What waits: each connection's budget of pieces and the one it fills, and a piece or two in the streams.
    assert.ok(result.piecesAllocated <= 3 * (DEFAULT_BUFFER_BYTES / PIECE_BYTES + 2) + 4 && result.piecesReused > 2 * result.piecesAllocated, `${result.piecesAllocated} pieces made, ${result.piecesReused} reused`);
    assert.ok(plain.result.piecesAllocated > 2 * result.piecesAllocated, `without release: ${plain.result.piecesAllocated} pieces made`);
  });

  it('the AbortSignal fails the stream with ABORTED and ends every connection', async () => {
    const idle = await dumpThreads();
    const ac = new AbortController();
    const d = parallelDump({ connect: connect(), databases: DATABASES, parallel: 2, chunkRows: 100, signal: ac.signal });
    let seen = 0;
    await assert.rejects(pipeline(d.stream, new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (++seen === 5) ac.abort(new Error('stop'));
        setImmediate(cb);
      },
    })), (err: unknown) => isSidestashError(err, ErrorCodes.ABORTED));
    await assert.rejects(d.result, (err: unknown) => isSidestashError(err, ErrorCodes.ABORTED));
    while ((await dumpThreads()) > idle) await new Promise((r) => setTimeout(r, 50));
  });

  it('a connection killed on the server fails the dump with DUMP_FAILED and ends the others', async () => {
    const idle = await dumpThreads();
    // Whole tables (one key range each) and small buffers: with the writer holding its first
    // piece, a reader stops in the middle of rich.big (6 MB), its SELECT still running on the server.
    const d = parallelDump({ connect: connect(), databases: [RICH_DB], parallel: 2, chunkRows: 1_000_000, bufferBytesPerConnection: 16 * 1024, maxStatementBytes: 8 * 1024 });
    let killed = false;
    await assert.rejects(pipeline(d.stream, new Writable({
      write(_chunk: Buffer, _enc, cb) {
        if (killed) return cb();
        killed = true;
        (async () => {
          let id = '';
          while (!id) id = (await source.sql("SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT /*!40001 SQL_NO_CACHE */%`big`%' LIMIT 1")).trim();
          await source.sql(`KILL ${id}`);
        })().then(() => cb(), cb);
      },
    })), (err: unknown) => isSidestashError(err, ErrorCodes.DUMP_FAILED));
    await assert.rejects(d.result, (err: unknown) => isSidestashError(err, ErrorCodes.DUMP_FAILED));
    while ((await dumpThreads()) > idle) await new Promise((r) => setTimeout(r, 50));
  });

  it('needs RELOAD for the snapshot lock (DUMP_FAILED saying so); without BINLOG MONITOR it dumps without a position', async () => {
    await source.sql(`CREATE USER IF NOT EXISTS 'noreload'@'localhost'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON *.* TO 'noreload'@'localhost';
      CREATE USER IF NOT EXISTS 'nomonitor'@'localhost'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, RELOAD ON *.* TO 'nomonitor'@'localhost';`);
    const as = (username: string) => dumpConnectionFactory({ socket: source.socket, username, password: '' });
    const refused = parallelDump({ connect: as('noreload'), databases: [RICH_DB], parallel: 1 });
    await assert.rejects((async () => {
      for await (const _ of refused.stream) throw new Error('nothing may be written');
    })(), (err: unknown) => isSidestashError(err, ErrorCodes.DUMP_FAILED) && /RELOAD/.test((err as Error).message));
    const { dump, result } = await collect({ connect: as('nomonitor'), databases: [RICH_DB], parallel: 1 });
    assert.equal(result.snapshot.position, undefined);
    assert.doesNotMatch(dump.subarray(0, 2000).toString(), /CHANGE MASTER/);
  });

  it('a database that does not exist fails with DUMP_FAILED before anything is written', async () => {
    const d = parallelDump({ connect: connect(), databases: ['no_such_db'], parallel: 1 });
    const parts: Buffer[] = [];
    await assert.rejects((async () => {
      for await (const c of d.stream) parts.push(c as Buffer);
    })(), (err: unknown) => isSidestashError(err, ErrorCodes.DUMP_FAILED) && /no_such_db/.test((err as Error).message));
    assert.equal(parts.length, 0);
  });
});
