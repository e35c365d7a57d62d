// Point-in-time restore end to end, on real servers, with the engine's parts as the lead wires
// them: a source MariaDB with its binary log writes in stamped batches; a real mariadb-dump
// (--master-data=2 --gtid) is taken in the middle; the binlog files are archived as
// archive-layout.ts says (described from the real files here: the archiver is another part);
// planPointInTime picks the dump and the steps, the dump is loaded into a target by the loader,
// and replayBinlogFiles replays the steps. The target must hold exactly the rows of the target point.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { replayBinlogFiles } from '../agent/binlog/binlog-replay.ts';
import { loadDump } from '../agent/parallel-restore/dump-loader.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { binlogFileRecord, binlogFileTags, dumpCoordinates, dumpCoordinateTags, parseGtidList } from '../common/binlog/archive-layout.ts';
import type { BinlogFileRecord, DumpCoordinates, Gtid } from '../common/binlog/archive-layout.ts';
import { planPointInTime } from '../common/binlog/pitr-plan.ts';
import type { DumpCandidate, PitrTarget } from '../common/binlog/pitr-plan.ts';
import type { DatabaseConnection } from '../common/protocol.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { splitDump } from '../common/sql-dump/dump-statements.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { tempDir } from './helpers/tmp.ts';
import { describeBinlog } from './helpers/binlog-archive.ts';

const execFileAsync = promisify(execFile);
const never = new AbortController().signal;
const CHAIN = 'fedcba9876543210';
const conn = (db: MariaDB): DatabaseConnection => ({ socket: db.socket, username: 'root', password: '' });

/** mariadb-dump --master-data=2 --gtid's coordinates, from its comments. */
function coordinatesOf(dump: string): DumpCoordinates {
  const m = /^-- CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+);$/m.exec(dump);
  const g = /^-- SET GLOBAL gtid_slave_pos='([^']*)';$/m.exec(dump);
  assert.ok(m && g, 'the dump has no coordinates');
  return { file: m[1]!, position: Number(m[2]), gtid: parseGtidList(g[1]!)! };
}

describe('point-in-time restore (planner, loader, replay)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let source: MariaDB;
  let target: MariaDB;
  let repo: Repository;
  let dump: { sql: Buffer; candidate: DumpCandidate };
  let files: BinlogFileRecord[];
  let batch3Second: number;
  let beforeDrop: { sums: string; gtid: Gtid };
  let afterBatch2: string;

  before(async () => {
    dir = await tempDir('sidestash-pitr-');
    [source, target] = await Promise.all([startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] }), startMariaDB()]);
    repo = await Repository.init(new LocalBackend(join(dir.path, 'repo')), 'pitr', { scrypt: { N: 1024, r: 8, p: 1 } });
    // Each batch in a second of its own: the server stamps events with whole seconds of its
    // clock (SET TIMESTAMP would not do: a file's first events carry the real time).
    const nextSecond = async (): Promise<number> => {
      const now = Math.floor(Date.now() / 1000);
      while (Math.floor(Date.now() / 1000) === now) await new Promise((r) => setTimeout(r, 10));
      return now + 1;
    };
    await source.sql(`CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, total INT, note VARCHAR(50) CHARACTER SET utf8mb4);
      INSERT INTO shop.orders VALUES (1, 10, 'first'); FLUSH BINARY LOGS;`);
    await nextSecond();
    await source.sql("INSERT INTO shop.orders VALUES (2, 20, 'batch 1');");
    const { stdout } = await execFileAsync('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${source.socket}`, '--single-transaction', '--master-data=2', '--gtid', '--databases', 'shop'], { maxBuffer: 64 * 1024 * 1024 });
    // The dump's snapshot carries its coordinates as tags; read back as the lead's code will.
    const coordinates = dumpCoordinates({ tags: dumpCoordinateTags(coordinatesOf(stdout)) })!;
    dump = { sql: Buffer.from(stdout), candidate: { snapshotId: 'dump0000', time: new Date().toISOString(), coordinates } };
    await nextSecond();
    await source.sql("SET NAMES utf8mb4; INSERT INTO shop.orders VALUES (3, 30, 'batch 2 🙂'); UPDATE shop.orders SET total = 11 WHERE id = 1; FLUSH BINARY LOGS;");
    afterBatch2 = (await source.sql('SELECT * FROM shop.orders ORDER BY id')).trim();
    batch3Second = await nextSecond();
    await source.sql("INSERT INTO shop.orders VALUES (4, 40, 'batch 3'); DELETE FROM shop.orders WHERE id = 2;");
    beforeDrop = { sums: (await source.sql('CHECKSUM TABLE shop.orders EXTENDED')).trim(), gtid: parseGtidList((await source.sql('SELECT @@gtid_binlog_pos')).trim())![0]! };
    await nextSecond();
    await source.sql('DROP TABLE shop.orders; FLUSH BINARY LOGS;');
    // Archive every closed file, one snapshot each, read back through the tag parser.
    const logs = (await source.sql('SHOW BINARY LOGS')).trim().split('\n').map((l) => l.split('\t')[0]!);
    for (const file of logs.slice(0, -1)) {
      const bytes = await readFile(join(source.dir, 'data', file));
      const tags = binlogFileTags({ chain: CHAIN, file, serverId: 7, endPosition: bytes.length, closed: true, ...(await describeBinlog(join(source.dir, 'data', file))) });
      await writeSnapshot(repo, Readable.from([bytes]), { filename: file, hostname: 'shop', tags: ['namespace=ns', 'target=ns/shop', ...tags] });
    }
    files = (await listSnapshots(repo)).flatMap((s) => binlogFileRecord({ id: s.id, time: s.time, tags: s.tags ?? [] }) ?? []);
    assert.equal(files.length, logs.length - 1);
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    await dir?.cleanup();
  });

  /** Plans, loads the dump into a fresh shop, replays. */
  const restore = async (to: PitrTarget) => {
    const r = planPointInTime([dump.candidate], files, to);
    assert.ok('plan' in r, 'problem' in r ? r.problem.message : '');
    await target.sql('DROP DATABASE IF EXISTS shop');
    await loadDump(splitDump(Readable.from([dump.sql]), { collect: true }), { connection: conn(target), parallel: 2, signal: never });
    await replayBinlogFiles(repo, r.plan.steps, { connection: conn(target), signal: never });
    return r.plan;
  };

  it('restores to a time between two known transactions: exactly the rows committed before it', async () => {
    // Batch 3 is stamped with batch3Second: the state just before that second is batch 2's.
    const plan = await restore({ kind: 'time', time: new Date(batch3Second * 1000) });
    assert.equal(plan.steps[0]!.startPosition, dump.candidate.coordinates.position);
    assert.equal(plan.steps.length, 2);
    assert.equal((await target.sql('SELECT * FROM shop.orders ORDER BY id')).trim(), afterBatch2);
  });

  it('undoes a DROP TABLE: restores to the GTID before it, with all earlier rows', async () => {
    const plan = await restore({ kind: 'gtid', gtid: beforeDrop.gtid });
    assert.equal(plan.steps.at(-1)!.stopGtid, beforeDrop.gtid);
    assert.equal((await target.sql('CHECKSUM TABLE shop.orders EXTENDED')).trim(), beforeDrop.sums);
  });

  it('restores to latest: the DROP TABLE too', async () => {
    await restore({ kind: 'latest' });
    assert.equal((await target.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shop'")).trim(), '0');
  });

  it('refuses a time beyond the archive, saying how far it reaches', () => {
    const r = planPointInTime([dump.candidate], files, { kind: 'time', time: new Date(Date.now() + 3600_000) });
    assert.ok('problem' in r);
    assert.equal(r.problem.reason, 'beyond-archive');
    const newest = Math.max(...files.map((f) => f.lastEventTime!));
    assert.ok(r.problem.message.includes(new Date(newest * 1000).toISOString().replace('.000Z', 'Z')), r.problem.message);
  });
});
