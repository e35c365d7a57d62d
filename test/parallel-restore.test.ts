// The parallel restore loader against a real MariaDB: a database with foreign keys, triggers,
// views on views, routines (one under NO_BACKSLASH_ESCAPES), events, generated columns, every
// byte value, 4-byte utf8mb4 text, tables without a primary key and many tables, dumped by
// mariadb-dump with the agent's arguments (with and without --hex-blob), restores identically
// over 1 and 4 connections; a failing statement names its offset, table and the server's error;
// LOAD DATA LOCAL INFILE reads no file; a cancelled load stops; binlog off needs the privilege.
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadDump } from '../agent/parallel-restore/dump-loader.ts';
import type { LoadDumpOptions } from '../agent/parallel-restore/dump-loader.ts';
import { QUERY_HEADROOM_BYTES, RestoreConnection } from '../agent/parallel-restore/restore-connection.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import type { ClassifiedStatement } from '../common/sql-dump/dump-statements.ts';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { FramePool } from '../common/sql-dump/frame-pool.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { RICH_DB, createRich, richState, richTables } from './helpers/rich-db.ts';
import { tempDir } from './helpers/tmp.ts';

const execFileAsync = promisify(execFile);
/** The agent's default dump arguments (controller/resources/types.ts DEFAULT_DUMP_ARGS) for one database. */
const AGENT_DUMP_ARGS = ['--single-transaction', '--routines', '--events', '--triggers'];

describe('parallel restore loader', () => {
  let db: MariaDB;
  let dir: { path: string; cleanup: () => Promise<void> };
  const connection = () => ({ socket: db.socket, username: 'root', password: '' });
  // framed: split with the wire header's headroom, as the agent splits (each statement goes to
  // the socket from its own buffer); otherwise the connection copies it into a packet.
  const statements = (sql: Buffer | string, chunkBytes = 64 * 1024, framed = true): AsyncIterable<ClassifiedStatement> => {
    const buf = Buffer.isBuffer(sql) ? sql : Buffer.from(sql);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += chunkBytes) chunks.push(buf.subarray(i, i + chunkBytes));
    return splitDump(Readable.from(chunks), { collect: true, ...(framed ? { headroomBytes: QUERY_HEADROOM_BYTES } : {}) });
  };
  const load = (sql: Buffer | string, over: Partial<LoadDumpOptions> = {}, framed = true) => loadDump(statements(sql, undefined, framed), { connection: connection(), parallel: 2, signal: new AbortController().signal, ...over });
  const dump = async (args: string[]) => (await execFileAsync('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${db.socket}`, ...args], { encoding: 'buffer', maxBuffer: 1 << 30 })).stdout;

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createRich(db);
  });
  after(async () => {
    await db.stop();
    await dir.cleanup();
  });

  // --no-autocommit: every connection loads in transactions that the dump's COMMITs end.
  for (const extra of [[], ['--hex-blob'], ['--no-autocommit'], ['--default-character-set=binary']]) {
    it(`restores everything identically over 1 and 4 connections${extra.length ? ` (${extra.join(' ')})` : ''}`, async () => {
      const want = await richState(db);
      const sql = await dump(['--databases', RICH_DB, ...AGENT_DUMP_ARGS, ...extra, '--net-buffer-length=16384']);
      for (const parallel of [1, 4]) {
        await db.sql(`DROP DATABASE ${RICH_DB}`);
        const r = await load(sql, { parallel }, parallel > 1);
        assert.equal(await richState(db), want, `parallel ${parallel}`);
        const big = r.tables.find((t) => t.table === 'big');
        assert.deepEqual(big, { database: RICH_DB, table: 'big', rows: 30000 });
        assert.equal(r.tables.find((t) => t.table === 'empty_one'), undefined, 'a table without rows received none');
        assert.deepEqual(r.tables.map((t) => t.table).sort(), (await richTables(db)).filter((t) => t !== 'empty_one').sort(), 'every table with rows, once');
        assert.ok(r.statements > 100, `many statements (${r.statements})`);
      }
    });
  }

  it('gives each statement buffer back once, only after every connection ran it: buffers used again (and scribbled over on release) restore identically', async () => {
    const want = await richState(db);
    const sql = await dump(['--databases', RICH_DB, ...AGENT_DUMP_ARGS, '--net-buffer-length=16384']);
    await db.sql(`DROP DATABASE ${RICH_DB}`);
    const pool = new FramePool({ minBytes: 256 });
    const released = new Set<ClassifiedStatement>();
    let twice = 0;
    const source = splitDump(Readable.from([sql]), { collect: true, headroomBytes: QUERY_HEADROOM_BYTES, allocate: (n) => pool.acquire(n) });
    const r = await loadDump(source, {
      connection: connection(),
      parallel: 4,
      signal: new AbortController().signal,
      // A small queue: the reader waits for statements to finish, whose buffers the next ones take.
      maxQueuedBytes: 64 * 1024,
      release: (st) => {
        if (released.has(st)) twice++;
        released.add(st);
        // Whatever still read these bytes (a connection yet to run it, a retry) would now fail or load garbage.
        st.framed!.fill(0x3b);
        pool.release(st.framed);
      },
    });
    assert.equal(await richState(db), want);
    assert.equal(twice, 0, 'no statement given back twice');
    assert.equal(released.size, r.statements, 'every statement given back');
    assert.ok(pool.reused > 100, `buffers used again (${pool.reused})`);
  });

  it('sends every byte value as it is, in a statement written as raw bytes', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const escaped = Buffer.from(all.toString('latin1').replace(/[\\'\0]/g, (c) => (c === '\0' ? '\\0' : `\\${c}`)), 'latin1');
    const sql = Buffer.concat([Buffer.from('/*!40101 SET NAMES utf8mb4 */;\nUSE `rich`;\nCREATE TABLE raw (b BLOB);\nINSERT INTO raw VALUES (\''), escaped, Buffer.from("');\n")]);
    for (const framed of [true, false]) {
      await load(sql, {}, framed);
      assert.equal((await db.sql('SELECT HEX(b) FROM rich.raw')).trim(), all.toString('hex').toUpperCase(), framed ? 'framed' : 'copied');
      await db.sql('DROP TABLE rich.raw');
    }
  });

  it('sends a statement larger than one protocol packet (16 MiB) as it is', async () => {
    await db.sql('SET GLOBAL max_allowed_packet = 64 * 1024 * 1024');
    try {
      const value = Buffer.alloc(17 * 1024 * 1024, 'ab');
      const sql = Buffer.concat([Buffer.from("USE `rich`;\nCREATE TABLE oversized (b LONGBLOB);\nINSERT INTO oversized VALUES ('"), value, Buffer.from("');\n")]);
      for (const framed of [true, false]) {
        await load(sql, {}, framed);
        assert.equal((await db.sql('SELECT LENGTH(b), MD5(b) FROM rich.oversized')).trim(), `${value.length}\t${createHash('md5').update(value).digest('hex')}`, framed ? 'framed' : 'copied');
        await db.sql('DROP TABLE rich.oversized');
      }
    } finally {
      await db.sql('SET GLOBAL max_allowed_packet = DEFAULT');
    }
  });

  it('fails on the first failing statement with its byte offset, its table and the server error, and runs nothing after it', async () => {
    const head = 'CREATE DATABASE IF NOT EXISTS failing;\nUSE `failing`;\nCREATE TABLE `t` (id INT PRIMARY KEY);\nINSERT INTO `t` VALUES (1),(2);\n';
    const bad = "INSERT INTO `t` VALUES (3),(3);\n";
    const sql = `${head}${bad}CREATE TABLE after_it (x INT);\n`;
    await assert.rejects(load(sql, { parallel: 1 }), (err) => {
      assert.ok(isSidestashError(err, ErrorCodes.RESTORE_FAILED), String(err));
      assert.equal(err.message, `the statement at byte ${head.length} of the dump (table \`failing\`.\`t\`) failed: ERROR 1062 (23000): Duplicate entry '3' for key 'PRIMARY'`);
      assert.deepEqual(err.details, { offset: head.length, database: 'failing', table: 't', errno: 1062, sqlState: '23000' });
      return true;
    });
    assert.equal((await db.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'failing' AND table_name = 'after_it'")).trim(), '0');
    await db.sql('DROP DATABASE failing');
  });

  it("runs a data statement again when InnoDB picks it as a deadlock's victim, and fails after the last attempt", async () => {
    // A trigger that fails the first `fails` inserts with the deadlock error; the count is in an
    // Aria table, which the statement's rollback leaves alone.
    const sql = (fails: number) => `CREATE DATABASE IF NOT EXISTS victim;\nUSE \`victim\`;\nDROP TABLE IF EXISTS \`n\`;\nCREATE TABLE \`n\` (n INT) ENGINE=Aria;\nINSERT INTO \`n\` VALUES (0);\nDROP TABLE IF EXISTS \`t\`;\nCREATE TABLE \`t\` (id INT PRIMARY KEY);\nDELIMITER ;;\nCREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW BEGIN UPDATE n SET n = n + 1; IF (SELECT n FROM n) <= ${fails} THEN SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'Deadlock found when trying to get lock'; END IF; END ;;\nDELIMITER ;\nINSERT INTO \`t\` VALUES (1),(2),(3);\n`;
    const r = await load(sql(2));
    assert.equal(r.retries, 2);
    assert.equal((await db.sql('SELECT COUNT(*) FROM victim.t')).trim(), '3');
    await assert.rejects(load(sql(5)), (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED) && err.details.errno === 1213 && err.details.table === 't');
    await db.sql('DROP DATABASE victim');
  });

  it('refuses LOAD DATA LOCAL INFILE without reading the file, even where the server allows it', async () => {
    const secret = join(dir.path, 'secret.txt');
    await writeFile(secret, 'a file on the agent host\n');
    // Last read before last written: any read moves atime (relatime and strictatime alike).
    await utimes(secret, new Date(0), new Date());
    const before = (await stat(secret)).atimeMs;
    await db.sql('SET GLOBAL local_infile = 1; CREATE DATABASE infile_db; CREATE TABLE infile_db.log (x TEXT);');
    await assert.rejects(load(`USE infile_db;\nLOAD DATA LOCAL INFILE '${secret}' INTO TABLE log;\n`), (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED) && /local infile/i.test(err.message) && err.details.errno !== undefined);
    assert.equal((await stat(secret)).atimeMs, before, 'the file was not read');
    assert.equal((await db.sql('SELECT COUNT(*) FROM infile_db.log')).trim(), '0');
    await db.sql('DROP DATABASE infile_db; SET GLOBAL local_infile = DEFAULT;');
  });

  it('stops a cancelled load of a large dump within seconds, its connections gone', async () => {
    await db.sql('CREATE DATABASE cancel; CREATE TABLE cancel.t (id INT PRIMARY KEY, p VARCHAR(1000));');
    const row = (i: number) => `(${i},'${'x'.repeat(900)}')`;
    /** A dump that would take minutes: 1 MiB INSERTs without end. */
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from('USE `cancel`;\n');
      for (let n = 0; ; n++) {
        const rows: string[] = [];
        for (let i = 0; i < 1000; i++) rows.push(row(n * 1000 + i));
        yield Buffer.from(`INSERT INTO t VALUES ${rows.join(',')};\n`);
      }
    }
    const ac = new AbortController();
    let abortedAt = 0;
    const loading = loadDump(splitDump(endless(), { collect: true }), {
      connection: connection(), parallel: 4, signal: ac.signal,
      onProgress: (p) => {
        if (p.statements === 40 && !ac.signal.aborted) {
          abortedAt = Date.now();
          ac.abort(new Error('cancelled by the test'));
        }
      },
    });
    await assert.rejects(loading, (err) => isSidestashError(err, ErrorCodes.ABORTED) && /cancelled by the test/.test(err.message));
    const stoppedMs = Date.now() - abortedAt;
    assert.ok(stoppedMs < 10_000, `stopped ${stoppedMs} ms after the abort (a bound on a hang, not a speed test)`);
    const processes = async () => Number((await db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE db = 'cancel'")).trim());
    for (let i = 0; i < 100 && (await processes()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await processes(), 0, 'the server has no connection of the load left');
    await db.sql('DROP DATABASE cancel');
  });

  it("ends a cancelled load's statement on the server too, not only its connection", async () => {
    await db.sql('CREATE DATABASE sleepy;');
    const ac = new AbortController();
    // BENCHMARK looks only at the thread's killed flag (SLEEP also notices a closed client socket).
    const loading = load('USE `sleepy`;\nDO BENCHMARK(100000000000, CRC32(\'x\'));\n', { parallel: 2, signal: ac.signal });
    const sleeping = async () => Number((await db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE db = 'sleepy' AND info LIKE 'DO BENCHMARK%'")).trim());
    for (let i = 0; i < 200 && (await sleeping()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await sleeping(), 1, 'the statement runs');
    ac.abort(new Error('cancelled'));
    await assert.rejects(loading, (err) => isSidestashError(err, ErrorCodes.ABORTED));
    for (let i = 0; i < 100 && (await sleeping()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await sleeping(), 0, 'the server stopped it (it would run for many minutes)');
    await db.sql('DROP DATABASE sleepy');
  });

  it('restores without writing the binary log only for a user with the privilege, and says which it needs', async () => {
    await db.sql("CREATE USER 'plain'@'localhost' IDENTIFIED BY 'pw'; GRANT ALL ON plain_db.* TO 'plain'@'localhost';");
    const plain = { socket: db.socket, username: 'plain', password: 'pw' };
    await assert.rejects(RestoreConnection.open(plain, { writeBinlog: false }), (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED) && /BINLOG ADMIN/.test(err.message) && /ERROR 1227/.test(err.message));
    await assert.rejects(load('CREATE DATABASE plain_db;\n', { connection: plain, writeBinlog: false }), (err) => isSidestashError(err, ErrorCodes.RESTORE_FAILED) && /BINLOG ADMIN/.test(err.message));
    const r = await load('CREATE DATABASE binlog_off;\nCREATE TABLE binlog_off.t (x INT);\nINSERT INTO `binlog_off`.`t` VALUES (1),(2);\n', { writeBinlog: false });
    assert.deepEqual(r.tables, [{ database: 'binlog_off', table: 't', rows: 2 }]);
    await db.sql("DROP DATABASE binlog_off; DROP USER 'plain'@'localhost';");
  });
});
