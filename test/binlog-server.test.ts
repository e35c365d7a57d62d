// The replication stream (agent/binlog/binlog-stream.ts, which reaches into mysql2's internals:
// pinned here) and the server check (agent/binlog/binlog-server-check.ts) against real servers:
// one with its binary log on (settings changed per case with SET GLOBAL), one without.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { binlogStream, mysql2Internals } from '../agent/binlog/binlog-stream.ts';
import { checkBinlogServer } from '../agent/binlog/binlog-server-check.ts';
import { EventType, LOG_EVENT_ARTIFICIAL_F, parseEventHeader, parseRotate } from '../common/binlog/binlog-events.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import type { DatabaseConnection } from '../common/protocol.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';

describe('binlog stream and server check', () => {
  let db: MariaDB;
  let noBinlog: MariaDB;
  const root = (): DatabaseConnection => ({ socket: db.socket, username: 'root', password: '' });
  const user = (name: string): DatabaseConnection => ({ host: '127.0.0.1', port: db.port, username: name, password: 'pw' });

  before(async () => {
    [db, noBinlog] = await Promise.all([startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] }), startMariaDB()]);
    await db.sql(
      "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v TEXT); INSERT INTO shop.t VALUES (1, 'a'); FLUSH BINARY LOGS; " +
        "INSERT INTO shop.t VALUES (2, REPEAT('b', 5000)), (3, 'c'); INSERT INTO shop.t VALUES (4, 'd'); " +
        "CREATE USER archiver@'%' IDENTIFIED BY 'pw'; GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO archiver@'%'; " +
        "CREATE USER reader@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON *.* TO reader@'%';",
    );
  });
  after(async () => {
    await Promise.all([db?.stop(), noBinlog?.stop()]);
  });

  const collect = async (options: Partial<Parameters<typeof binlogStream>[0]> & { file: string; position: number }): Promise<Buffer[]> => {
    const out: Buffer[] = [];
    for await (const e of binlogStream({ database: user('archiver'), replicaServerId: 501, nonBlocking: true, ...options })) out.push(e);
    return out;
  };

  it('streams a named file (not the first) from a position, every event as the file holds it', async () => {
    const disk = await readFile(join(db.dir, 'data', 'mysql-bin.000002'));
    const all = await collect({ file: 'mysql-bin.000002', position: 4 });
    const fakeRotate = all[0]!;
    const h0 = parseEventHeader(fakeRotate);
    assert.equal(h0.type, EventType.ROTATE);
    assert.ok(h0.flags & LOG_EVENT_ARTIFICIAL_F);
    assert.deepEqual(parseRotate(fakeRotate, 'CRC32'), { nextFile: 'mysql-bin.000002', position: 4 });
    const content = all.slice(2);
    let at = parseEventHeader(all[1]!).logPos;
    for (const e of content) {
      const h = parseEventHeader(e);
      assert.ok(disk.subarray(at, h.logPos).equals(e), `event at ${at} as on disk`);
      at = h.logPos;
    }
    assert.equal(at, disk.length, 'to the end of the file');
    // From a later position: the stream's rotate and format description, then the file from there.
    const mid = parseEventHeader(content[2]!).logPos;
    const later = await collect({ file: 'mysql-bin.000002', position: mid });
    assert.deepEqual(parseRotate(later[0]!, 'CRC32'), { nextFile: 'mysql-bin.000002', position: mid });
    assert.equal(parseEventHeader(later[1]!).logPos, 0, 'the resent format description');
    assert.ok(Buffer.concat(later.slice(2)).equals(disk.subarray(mid)));
  });

  it('keeps every event in order while the consumer is slower than the server (the socket paused)', async () => {
    const disk = await readFile(join(db.dir, 'data', 'mysql-bin.000002'));
    const out: Buffer[] = [];
    for await (const e of binlogStream({ database: root(), replicaServerId: 502, nonBlocking: true, file: 'mysql-bin.000002', position: 4, maxQueuedBytes: 1 })) {
      out.push(e);
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(out.length > 5);
    // After the stream's rotate and the format description (whose in-use flag the server clears as it sends it).
    assert.ok(Buffer.concat(out.slice(2)).equals(disk.subarray(parseEventHeader(out[1]!).logPos)));
  });

  it('maps a purged or unknown file to BINLOG_GAP and a user without REPLICATION SLAVE to BINLOG_UNSUITABLE', async () => {
    await assert.rejects(collect({ file: 'mysql-bin.000077', position: 4 }), (err: unknown) => isSidestashError(err, ErrorCodes.BINLOG_GAP) && !err.retryable);
    await assert.rejects(collect({ file: 'mysql-bin.000001', position: 4, database: user('reader') }), (err: unknown) => isSidestashError(err, ErrorCodes.BINLOG_UNSUITABLE));
    await assert.rejects(collect({ file: 'mysql-bin.000001', position: 4, database: { host: '127.0.0.1', port: db.port, username: 'archiver', password: 'wrong' } }), (err: unknown) => isSidestashError(err, ErrorCodes.BINLOG_UNSUITABLE));
  });

  it('ends at once when its signal aborts while it waits for the server', async () => {
    const ac = new AbortController();
    const it = binlogStream({ database: root(), replicaServerId: 503, file: 'mysql-bin.000002', position: 4, signal: ac.signal })[Symbol.asyncIterator]();
    for (;;) {
      const { value } = await it.next();
      // The last event of the file: the stream now waits for more.
      if (parseEventHeader(value!).logPos === (await readFile(join(db.dir, 'data', 'mysql-bin.000002'))).length) break;
    }
    const waiting = it.next();
    ac.abort();
    await assert.rejects(waiting, (err: unknown) => isSidestashError(err, ErrorCodes.ABORTED));
  });

  it('names the mysql2 internal that is missing', () => {
    assert.throws(() => mysql2Internals({}), /mysql2 changed: its connection has no _binlogDump\(\)/);
    assert.throws(() => mysql2Internals({ _binlogDump() {}, pause() {} }), /no resume\(\)/);
  });

  it('accepts a suitable server and user', async () => {
    assert.deepEqual(await checkBinlogServer(user('archiver')), { warnings: [] });
  });

  it('refuses a server without a binary log', async () => {
    await assert.rejects(checkBinlogServer({ socket: noBinlog.socket, username: 'root', password: '' }), (err: unknown) => isSidestashError(err, ErrorCodes.BINLOG_UNSUITABLE) && (err.details.problems as string[]).some((p) => /log_bin is OFF/.test(p)));
  });

  it('refuses a user without the privileges, naming both', async () => {
    await assert.rejects(checkBinlogServer(user('reader')), (err: unknown) => {
      const problems = isSidestashError(err, ErrorCodes.BINLOG_UNSUITABLE) ? (err.details.problems as string[]) : [];
      return problems.length === 2 && /REPLICATION SLAVE/.test(problems[0]!) && /BINLOG MONITOR/.test(problems[1]!);
    });
  });

  it('warns of a MIXED or STATEMENT format and of binlogs kept less than a day', async () => {
    await db.sql("SET GLOBAL binlog_format = 'MIXED'; SET GLOBAL binlog_expire_logs_seconds = 3600");
    try {
      const { warnings } = await checkBinlogServer(user('archiver'));
      assert.equal(warnings.length, 2);
      assert.match(warnings[0]!, /binlog_format is MIXED/);
      assert.match(warnings[1]!, /purged after 3600 s/);
    } finally {
      await db.sql("SET GLOBAL binlog_format = 'ROW'; SET GLOBAL binlog_expire_logs_seconds = 0");
    }
  });
});
