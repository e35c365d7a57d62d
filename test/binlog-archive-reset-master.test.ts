// Found by an adversarial review of issue 14: the archiver resumes a file from its archived end without checking
// that the server's file of that name is still the file it archived. After RESET MASTER (or a
// data directory rebuilt while the agent was down) the server numbers its files from 1 again;
// when the new mysql-bin.000001 has an event starting at the byte the archive reached, the
// archiver streams on from there and appends the new file's events to the old file's archive: a
// snapshot whose bytes are half one file, half another, that mariadb-binlog replays without
// complaint. The resent format description (it carries the file's creation time) is only checked
// for its server id.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBinlogArchiver, targetArchiveRecords } from '../agent/binlog/binlog-archiver.ts';
import type { BinlogArchiveStatus } from '../agent/binlog/binlog-archiver.ts';
import { openSqlConnection } from '../agent/binlog/binlog-sql.ts';
import type { SqlConnection } from '../agent/binlog/binlog-sql.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { Repository } from '../common/repository/repository.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { tempDir } from './helpers/tmp.ts';
import { asStreamed, resticDumpBytes } from './helpers/binlog-archive.ts';
import { until } from './helpers/until.ts';

const PASSWORD = 'correct horse battery staple';
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };

describe('binlog archiving across RESET MASTER', () => {
  let db: MariaDB;
  let dir: { path: string; cleanup: () => Promise<void> };
  let repo: Repository;
  let repoPath: string;
  let sql: SqlConnection;
  const root = () => ({ socket: db.socket, username: 'root', password: '' });
  const running = new Set<AbortController>();

  before(async () => {
    dir = await tempDir();
    repoPath = join(dir.path, 'repo');
    repo = await Repository.init(new LocalBackend(repoPath), PASSWORD, fastKdf);
    db = await startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] });
    sql = await openSqlConnection(root());
  });
  after(async () => {
    for (const ac of running) ac.abort();
    sql?.close();
    await db?.stop();
    await dir?.cleanup();
  });

  const status = async () => {
    const [row] = await sql.query('SHOW MASTER STATUS');
    return { file: row![0]!, position: Number(row![1]) };
  };
  /** One life of the server's binary log: the same statements, so that events fall on the same bytes. */
  const life = async (table: string, fill: string, rows: number) => {
    await sql.query('CREATE DATABASE IF NOT EXISTS shop');
    await sql.query(`CREATE TABLE shop.${table} (id INT PRIMARY KEY, note CHAR(10))`);
    for (let i = 1; i <= rows; i++) await sql.query(`INSERT INTO shop.${table} VALUES (${i}, '${fill.repeat(10)}')`);
  };
  const run = (target: { namespace: string; name: string }) => {
    const ac = new AbortController();
    running.add(ac);
    const statuses: BinlogArchiveStatus[] = [];
    const done = runBinlogArchiver({ repo, database: root(), target, replicaServerId: 1001, flushIntervalMs: 150, heartbeatMs: 200, signal: ac.signal, onStatus: (s) => statuses.push(s), retry: { baseDelayMs: 50, maxDelayMs: 200 }, startFrom: { file: 'mysql-bin.000001' } });
    return { statuses, stop: async () => (ac.abort(), await done.catch(() => undefined)) };
  };
  const newest = async (target: { namespace: string; name: string }) => {
    const records = (await targetArchiveRecords(repo, target)).filter((r) => r.file === 'mysql-bin.000001');
    return records.sort((a, b) => b.endPosition - a.endPosition);
  };

  it("never appends a new life's mysql-bin.000001 to the archive of the old one", async () => {
    const target = { namespace: 'prod', name: 'reset' };
    await sql.query('RESET MASTER');
    const firstLifeSecond = Math.floor(Date.now() / 1000);
    await life('t', 'a', 5);
    const reached = (await status()).position;
    const first = run(target);
    await until('archived up to the first life\'s end', async () => ((await newest(target))[0]?.endPosition === reached ? true : undefined), 60_000, 100);
    await first.stop();

    // The DBA resets the binary log (the agent is down); the server goes on with the same statements.
    // In a later second than the first life began: the check is the file's creation time, which has
    // a second's resolution (a reset within the same second is the documented limitation).
    while (Math.floor(Date.now() / 1000) <= firstLifeSecond) await new Promise((r) => setTimeout(r, 50));
    await sql.query('RESET MASTER');
    await life('u', 'b', 5);
    assert.equal((await status()).position, reached, 'precondition: the new file reached the same byte');
    for (let i = 6; i <= 10; i++) await sql.query(`INSERT INTO shop.u VALUES (${i}, '${'b'.repeat(10)}')`);
    const starts = (await sql.query("SHOW BINLOG EVENTS IN 'mysql-bin.000001'")).map((r) => Number(r[1]));
    assert.ok(starts.includes(reached), `precondition: an event of the new file starts at byte ${reached} (${starts.join(',')})`);
    const now = await status();

    const second = run(target);
    await until('the archiver caught up or reported a gap', async () => (second.statuses.some((s) => s.gap) || (await newest(target))[0]!.endPosition >= now.position ? true : undefined), 60_000, 100);
    await second.stop();

    const disk = asStreamed(await readFile(join(db.dir, 'data', 'mysql-bin.000001')));
    for (const r of await newest(target)) {
      if (r.endPosition <= reached) continue;
      const archived = await resticDumpBytes(PASSWORD, repoPath, r.snapshotId, '/mysql-bin.000001');
      assert.ok(disk.subarray(0, r.endPosition).equals(archived), `snapshot ${r.snapshotId.slice(0, 8)} of chain ${r.chain} holds ${r.endPosition} bytes of mysql-bin.000001, but its first ${reached} are the old file's (the first life's rows in it: ${archived.includes('a'.repeat(10))}, the second's: ${archived.includes('b'.repeat(10))}; gap reported: ${second.statuses.some((s) => s.gap)})`);
    }
  });
});
