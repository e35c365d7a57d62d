// Point-in-time replay on real servers: a source MariaDB with its binary log on writes; its
// binlog files are archived into a repository as archive-layout.ts says (one snapshot per file,
// written here with the snapshot writer after FLUSH BINARY LOGS, without the archiver); a target
// MariaDB is restored by replayBinlogFile (mariadb-binlog from standard input, its SQL over the
// wire) and compared with `mariadb-binlog file | mariadb`, the classic way.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { replayBinlogFile, replayBinlogFiles } from '../agent/binlog/binlog-replay.ts';
import type { ReplayProgress } from '../agent/binlog/binlog-replay.ts';
import { RestoreConnection } from '../agent/parallel-restore/restore-connection.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { binlogFileSequence, binlogFileTags, parseGtidList } from '../common/binlog/archive-layout.ts';
import type { BinlogFileRecord } from '../common/binlog/archive-layout.ts';
import type { PitrStep } from '../common/binlog/pitr-plan.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import type { DatabaseConnection } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { tempDir } from './helpers/tmp.ts';

const CHAIN = '0123456789abcdef';
const never = new AbortController().signal;
const conn = (db: MariaDB): DatabaseConnection => ({ socket: db.socket, username: 'root', password: '' });

/** Pipes bytes through a shell pipeline; resolves with its exit code and stderr. */
async function shell(command: string, input?: Buffer): Promise<{ code: number; stderr: string }> {
  const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.on('error', () => {});
  child.stdin!.end(input ?? Buffer.alloc(0));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  return { code, stderr };
}

describe('binlog replay', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let source: MariaDB;
  let target: MariaDB;
  let repo: Repository;

  /** The source's current binlog file and position. */
  const masterStatus = async (): Promise<{ file: string; position: number }> => {
    const [file, position] = (await source.sql('SHOW MASTER STATUS')).trim().split('\t');
    return { file: file!, position: Number(position) };
  };
  /** Closes the active binlog file (FLUSH BINARY LOGS) and archives it (or the given bytes in its name). */
  const archive = async (file: string, bytes?: Buffer): Promise<BinlogFileRecord> => {
    const content = bytes ?? (await readFile(join(source.dir, 'data', file)));
    const gtidEnd = parseGtidList((await source.sql('SELECT @@gtid_binlog_pos')).trim())!;
    const fields = { chain: CHAIN, file, serverId: 7, endPosition: content.length, closed: true, gtidStart: [], gtidEnd };
    const r = await writeSnapshot(repo, Readable.from([content]), { filename: file, hostname: 'shop', tags: ['namespace=ns', 'target=ns/shop', ...binlogFileTags(fields)] });
    return { ...fields, snapshotId: r.snapshotId, time: new Date().toISOString(), sequence: binlogFileSequence(file)! };
  };
  /** Runs statements and closes the binlog file they went into: its name. */
  const writeAndRotate = async (sql: string): Promise<string> => {
    const { file } = await masterStatus();
    await source.sql(sql);
    await source.sql('FLUSH BINARY LOGS');
    return file;
  };
  const sums = async (db: MariaDB, tables: string) => (await db.sql(`CHECKSUM TABLE ${tables} EXTENDED`)).trim();
  const rows = async (db: MariaDB, sql: string) => (await db.sql(sql)).trim();
  const reset = async () => target.sql('DROP DATABASE IF EXISTS shop; DROP DATABASE IF EXISTS pitr');
  /** Each test starts without the databases an earlier one (failed or not) left. */
  const fresh = async () => {
    await reset();
    await source.sql('DROP DATABASE IF EXISTS pitr; FLUSH BINARY LOGS');
  };

  before(async () => {
    dir = await tempDir('sidestash-binlog-replay-');
    // The target writes a binary log too: whether the replay writes into it is the caller's choice.
    [source, target] = await Promise.all([startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] }), startMariaDB({ serverArgs: ['--log-bin=target-bin', '--server-id=8'] })]);
    repo = await Repository.init(new LocalBackend(join(dir.path, 'repo')), 'binlog-replay', { scrypt: { N: 1024, r: 8, p: 1 } });
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    await dir?.cleanup();
  });

  it('replays a whole file to the same checksums as mariadb-binlog | mariadb', async () => {
    // DDL (Query events, with the client's \C line), rows of every kind (row events), a
    // statement-format transaction, multi-byte text, binary data, NULLs, an UPDATE and a DELETE.
    const file = await writeAndRotate(`
      SET NAMES utf8mb4;
      CREATE DATABASE shop;
      CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(100) CHARACTER SET utf8mb4, price DECIMAL(10,2), data BLOB, note TEXT) ENGINE=InnoDB;
      INSERT INTO shop.items VALUES (1, 'tea 🍵', 3.50, X'00FF5C27', NULL), (2, 'café', 4.00, NULL, 'it''s; \\\\ fine'), (3, 'x', 0, X'', '/*!*/;');
      UPDATE shop.items SET price = price * 2 WHERE id = 2;
      DELETE FROM shop.items WHERE id = 3;
      SET SESSION binlog_format = STATEMENT;
      INSERT INTO shop.items VALUES (4, 'stmt ''quoted'' \\\\', 1.25, NULL, 'line1\\nline2');
      SET SESSION binlog_format = ROW;
      CREATE TABLE shop.latin (id INT PRIMARY KEY, s VARCHAR(20) CHARACTER SET latin1);
      SET NAMES latin1;
      INSERT INTO shop.latin VALUES (1, 'naïve');
    `);
    const record = await archive(file);
    const progress: ReplayProgress[] = [];
    const r = await replayBinlogFile(repo, { record }, { connection: conn(target), signal: never, onProgress: (p) => progress.push(p) });
    assert.ok(r.statements > 10, `${r.statements} statements`);
    assert.equal(r.bytesRead, record.endPosition);
    assert.equal(progress.at(-1)!.bytesRead, record.endPosition);
    const ours = await sums(target, 'shop.items, shop.latin');
    assert.equal(ours, await sums(source, 'shop.items, shop.latin'));
    assert.equal(await rows(target, 'SELECT HEX(name), note FROM shop.items WHERE id = 1'), await rows(source, 'SELECT HEX(name), note FROM shop.items WHERE id = 1'));
    // The classic way, into the same (emptied) target.
    await reset();
    const classic = await shell(`mariadb-binlog --no-defaults ${join(source.dir, 'data', file)} | mariadb --no-defaults -uroot --socket=${target.socket}`);
    assert.equal(classic.code, 0, classic.stderr);
    assert.equal(await sums(target, 'shop.items, shop.latin'), ours);
    await reset();
  });

  it('stops at a time: exactly the transactions stamped before it', async () => {
    await fresh();
    // SET TIMESTAMP stamps the events: three batches ten seconds apart, without waiting; an hour
    // ahead, as the file's first events (stamped when the server opened it) must be before them.
    const base = Math.ceil(Date.now() / 1000) + 3600;
    const stamp = (s: number) => `SET TIMESTAMP = ${base + s};`;
    const { file, position } = await masterStatus();
    await source.sql(`${stamp(0)} CREATE DATABASE pitr; CREATE TABLE pitr.t (id INT PRIMARY KEY, batch CHAR(1));
      ${stamp(5)} INSERT INTO pitr.t VALUES (1, 'a'), (2, 'a');`);
    const afterA = await masterStatus();
    await source.sql(`${stamp(10)} INSERT INTO pitr.t VALUES (3, 'b'); UPDATE pitr.t SET batch = 'B' WHERE id = 1;
      ${stamp(20)} INSERT INTO pitr.t VALUES (4, 'c'); DELETE FROM pitr.t WHERE id = 2;`);
    await source.sql('FLUSH BINARY LOGS');
    assert.equal(afterA.file, file);
    const record = await archive(file);
    // Up to base+15.7 s: batches a and b (events are stamped in whole seconds).
    await replayBinlogFile(repo, { record, startPosition: position, stopDatetime: new Date((base + 15) * 1000 + 700) }, { connection: conn(target), signal: never });
    assert.equal(await rows(target, 'SELECT id, batch FROM pitr.t ORDER BY id'), '1\tB\n2\ta\n3\tb');
    // From the position after batch a (a dump's coordinates): the target holds batch a already.
    await target.sql("DROP DATABASE pitr; CREATE DATABASE pitr; CREATE TABLE pitr.t (id INT PRIMARY KEY, batch CHAR(1)); INSERT INTO pitr.t VALUES (1, 'a'), (2, 'a')");
    await replayBinlogFile(repo, { record, startPosition: afterA.position }, { connection: conn(target), signal: never });
    assert.equal(await sums(target, 'pitr.t'), await sums(source, 'pitr.t'));
    assert.equal(await rows(target, 'SELECT id, batch FROM pitr.t ORDER BY id'), '1\tB\n3\tb\n4\tc');
    await reset();
    await source.sql('DROP DATABASE pitr');
  });

  it('undoes a DROP TABLE: stops at the GTID before it, over two files in one session', async () => {
    await fresh();
    const first = await writeAndRotate(`CREATE DATABASE pitr; CREATE TABLE pitr.orders (id INT PRIMARY KEY, total INT);
      INSERT INTO pitr.orders VALUES (1, 10), (2, 20);`);
    const firstRecord = await archive(first);
    const { file: second } = await masterStatus();
    await source.sql('INSERT INTO pitr.orders VALUES (3, 30); UPDATE pitr.orders SET total = 11 WHERE id = 1;');
    const before = await sums(source, 'pitr.orders');
    const lastGood = parseGtidList((await source.sql('SELECT @@gtid_binlog_pos')).trim())![0]!;
    await source.sql('DROP TABLE pitr.orders; CREATE TABLE pitr.other (id INT)');
    await source.sql('FLUSH BINARY LOGS');
    const secondRecord = await archive(second);
    const steps: PitrStep[] = [{ record: firstRecord }, { record: secondRecord, stopGtid: lastGood }];
    const r = await replayBinlogFiles(repo, steps, { connection: conn(target), signal: never });
    assert.ok(r.bytesRead > 0);
    assert.equal(await sums(target, 'pitr.orders'), before);
    assert.equal(await rows(target, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'pitr' AND table_name = 'other'"), '0');
    await reset();
    await source.sql('DROP DATABASE pitr');
  });

  it('stops at a GTID in binlog order: the other domain\'s transactions before it kept, those after it not', async () => {
    await fresh();
    const { file } = await masterStatus();
    const out = await source.sql(`CREATE DATABASE pitr; CREATE TABLE pitr.t (id INT PRIMARY KEY, domain INT);
      INSERT INTO pitr.t VALUES (1, 0); SET gtid_domain_id = 1; INSERT INTO pitr.t VALUES (2, 1);
      SET gtid_domain_id = 0; INSERT INTO pitr.t VALUES (3, 0); SELECT @@last_gtid;
      SET gtid_domain_id = 1; INSERT INTO pitr.t VALUES (4, 1); SET gtid_domain_id = 0; INSERT INTO pitr.t VALUES (5, 0);`);
    await source.sql('FLUSH BINARY LOGS');
    const third = parseGtidList(out.trim())![0]!;
    assert.equal(third.domain, 0);
    const record = await archive(file);
    await replayBinlogFile(repo, { record, stopGtid: third }, { connection: conn(target), signal: never });
    assert.equal(await rows(target, 'SELECT id, domain FROM pitr.t ORDER BY id'), '1\t0\n2\t1\n3\t0');
    // A GTID the file does not reach fails before anything is replayed.
    await reset();
    await assert.rejects(replayBinlogFile(repo, { record, stopGtid: { ...third, seq: third.seq + 100n } }, { connection: conn(target), signal: never }), (err: unknown) => isSidestashError(err) && err.code === ErrorCodes.PITR_UNREACHABLE);
    assert.equal(await rows(target, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'pitr'"), '0');
    await source.sql('DROP DATABASE pitr');
  });

  it("writes the target's binary log (the source's GTIDs) unless told not to", async () => {
    await fresh();
    const file = await writeAndRotate('CREATE DATABASE pitr; CREATE TABLE pitr.t (id INT PRIMARY KEY); INSERT INTO pitr.t VALUES (1);');
    const record = await archive(file);
    const logged = async () => (await target.sql('SHOW BINLOG EVENTS')).split('\n').filter((l) => l.includes('pitr')).length;
    await target.sql('RESET MASTER');
    await replayBinlogFile(repo, { record }, { connection: conn(target), signal: never, writeBinlog: false });
    assert.equal(await rows(target, 'SELECT id FROM pitr.t'), '1');
    assert.equal(await logged(), 0);
    await reset();
    await target.sql('RESET MASTER');
    await replayBinlogFile(repo, { record }, { connection: conn(target), signal: never });
    assert.ok((await logged()) >= 2);
    assert.match(await rows(target, 'SELECT @@gtid_binlog_pos'), /^0-7-\d+$/);
    await reset();
    await target.sql('RESET MASTER');
    await source.sql('DROP DATABASE pitr');
  });

  it('replays the active file as far as it is archived (restore to latest)', async () => {
    await fresh();
    const { file } = await masterStatus();
    await source.sql('CREATE DATABASE pitr; CREATE TABLE pitr.t (id INT PRIMARY KEY); INSERT INTO pitr.t VALUES (1), (2);');
    // Not rotated: the server is still writing it (its header says so), as the archiver copies it.
    const { position } = await masterStatus();
    const bytes = (await readFile(join(source.dir, 'data', file))).subarray(0, position);
    await source.sql('INSERT INTO pitr.t VALUES (3)');
    const record = { ...(await archive(file, bytes)), closed: false };
    await replayBinlogFile(repo, { record }, { connection: conn(target), signal: never });
    assert.equal(await rows(target, 'SELECT id FROM pitr.t ORDER BY id'), '1\n2');
    await fresh();
  });

  it('runs no client command from an archived file, where mariadb-binlog | mariadb runs it', async () => {
    // A forged archive (anyone with the repository password writes snapshots): a real binlog
    // whose Query event text is patched, same length, to hold a \! line. Without checksums (the
    // server writes none after binlog_checksum=NONE), so mariadb-binlog prints it as it is.
    await source.sql('SET GLOBAL binlog_checksum = NONE');
    const padding = 'x'.repeat(120);
    const { file } = await masterStatus();
    const c = await RestoreConnection.open(conn(source));
    try {
      await c.query(`CREATE TABLE mysql.sidestash_forged (id INT) /* ${padding} */`);
    } finally {
      await c.end();
    }
    await source.sql('FLUSH BINARY LOGS; SET GLOBAL binlog_checksum = CRC32; DROP TABLE mysql.sidestash_forged');
    const bytes = await readFile(join(source.dir, 'data', file));
    const at = bytes.indexOf(`/* ${padding} */`);
    assert.ok(at > 0);
    const ours = join(dir.path, 'marker-replay');
    const classicMarker = join(dir.path, 'marker-classic');
    const forge = (marker: string) => {
      const forged = Buffer.from(bytes);
      const line = `\n\\! touch ${marker}\n#`;
      forged.write(line.padEnd(padding.length + 6, ' '), at, 'latin1');
      return forged;
    };
    const record = await archive(file, forge(ours));
    await assert.rejects(replayBinlogFile(repo, { record }, { connection: conn(target), signal: never }), (err: unknown) => {
      assert.ok(isSidestashError(err) && err.code === ErrorCodes.RESTORE_FAILED, String(err));
      assert.match(err.message, new RegExp(`replaying the binary log ${file.replace('.', '\\.')}: .*syntax`, 's'));
      return true;
    });
    assert.equal(existsSync(ours), false, 'the replay ran a client command');
    // The same bytes through the mariadb client run the command.
    const classic = await shell(`mariadb-binlog --no-defaults - | mariadb --no-defaults -uroot --socket=${target.socket} --force`, forge(classicMarker));
    assert.equal(existsSync(classicMarker), true, `mariadb-binlog | mariadb did not run the command (exit ${classic.code}: ${classic.stderr})`);
    await target.sql('DROP TABLE IF EXISTS mysql.sidestash_forged');
  });

  it('fails with a clear error on a corrupted archived file, and on one shorter than its tags say', async () => {
    await fresh();
    const file = await writeAndRotate('CREATE DATABASE pitr; CREATE TABLE pitr.t (id INT PRIMARY KEY, s VARCHAR(200)); INSERT INTO pitr.t VALUES (1, REPEAT("a", 150)), (2, REPEAT("b", 150));');
    const bytes = await readFile(join(source.dir, 'data', file));
    const flipped = Buffer.from(bytes);
    const at = flipped.indexOf('a'.repeat(150));
    assert.ok(at > 0);
    flipped[at + 70] = 0x7a;
    const corrupt = await archive(file, flipped);
    await assert.rejects(replayBinlogFile(repo, { record: corrupt }, { connection: conn(target), signal: never }), (err: unknown) => {
      assert.ok(isSidestashError(err) && err.code === ErrorCodes.RESTORE_FAILED, String(err));
      assert.match(err.message, new RegExp(`replaying the binary log ${file.replace('.', '\\.')} .*mariadb-binlog exited with 1 .*crc check failed`, 'is'));
      return true;
    });
    const whole = await archive(file, bytes);
    await assert.rejects(replayBinlogFile(repo, { record: { ...whole, endPosition: whole.endPosition + 100 } }, { connection: conn(target), signal: never }), /holds \d+ bytes, but its snapshot says/);
    await reset();
    await source.sql('DROP DATABASE pitr');
  });

  it('stops mariadb-binlog and fails as aborted when the signal aborts', async () => {
    await fresh();
    const file = await writeAndRotate('CREATE DATABASE pitr; CREATE TABLE pitr.t (id INT PRIMARY KEY);');
    const record = await archive(file);
    const ac = new AbortController();
    ac.abort(new Error('cancelled by the test'));
    await assert.rejects(replayBinlogFile(repo, { record }, { connection: conn(target), signal: ac.signal }), (err: unknown) => isSidestashError(err) && err.code === ErrorCodes.ABORTED);
    await reset();
    await source.sql('DROP DATABASE pitr');
  });
});
