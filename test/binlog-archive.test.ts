// Continuous binlog archiving against a real MariaDB with its binary log on, into a local
// repository checked by the real restic: while rows are written, every archived file dumps
// (`restic dump`) to exactly the server's file on disk; FLUSH BINARY LOGS closes a file; an
// archiver aborted at random moments (mid-flush, between a snapshot's save and the removal of the
// one it replaces) or killed (SIGKILL of a child process) resumes with no gap and no duplicate;
// files purged before they were archived are a gap, and a new chain starts; `restic check
// --read-data` passes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBinlogArchiver, targetArchiveRecords } from '../agent/binlog/binlog-archiver.ts';
import type { BinlogArchiveStatus, BinlogArchiverOptions } from '../agent/binlog/binlog-archiver.ts';
import { openSqlConnection } from '../agent/binlog/binlog-sql.ts';
import type { SqlConnection } from '../agent/binlog/binlog-sql.ts';
import type { BinlogFileRecord } from '../common/binlog/archive-layout.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { removeLocks } from '../common/repository/lock.ts';
import { Repository } from '../common/repository/repository.ts';
import type { TargetRef } from '../common/repository/snapshot-selector.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';
import { asStreamed, resticDumpBytes } from './helpers/binlog-archive.ts';
import { until } from './helpers/until.ts';

const PASSWORD = 'correct horse battery staple';
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };

describe('binlog archiving', () => {
  let db: MariaDB;
  let dir: { path: string; cleanup: () => Promise<void> };
  let repo: Repository;
  let repoPath: string;
  let sql: SqlConnection;
  const root = () => ({ socket: db.socket, username: 'root', password: '' });

  before(async () => {
    dir = await tempDir();
    repoPath = join(dir.path, 'repo');
    repo = await Repository.init(new LocalBackend(repoPath), PASSWORD, fastKdf);
    db = await startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] });
    await db.sql('CREATE DATABASE shop; CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(200), at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))');
    sql = await openSqlConnection(root());
  });
  /** Archivers still running: a failed test stops them, so that the file ends. */
  const running = new Set<AbortController>();
  after(async () => {
    for (const ac of running) ac.abort();
    stopWrites?.();
    sql?.close();
    await db?.stop();
    await dir?.cleanup();
  });

  /** Writes rows until stopped; returns how many. */
  let stopWrites: (() => void) | undefined;
  function writeRows(): { stop: () => Promise<number> } {
    let writing = true;
    stopWrites = () => (writing = false);
    let n = 0;
    const loop = (async () => {
      while (writing) {
        await sql.query(`INSERT INTO shop.orders (note) VALUES ('order ${n} ${'x'.repeat(n % 150)}')`);
        n++;
      }
    })();
    return {
      stop: async () => {
        writing = false;
        await loop;
        return n;
      },
    };
  }

  async function masterStatus(): Promise<{ file: string; position: number }> {
    const [row] = await sql.query('SHOW MASTER STATUS');
    return { file: row![0]!, position: Number(row![1]) };
  }

  function start(target: TargetRef, over: Partial<BinlogArchiverOptions> = {}): { statuses: BinlogArchiveStatus[]; abort: () => void; done: Promise<void> } {
    const ac = new AbortController();
    const statuses: BinlogArchiveStatus[] = [];
    running.add(ac);
    const done = runBinlogArchiver({ repo, database: root(), target, replicaServerId: 1001, flushIntervalMs: 150, heartbeatMs: 200, signal: ac.signal, onStatus: (s) => statuses.push(s), retry: { baseDelayMs: 50, maxDelayMs: 200 }, ...over });
    return { statuses, abort: () => ac.abort(), done };
  }

  /** The newest record of each file of the target, by chain. */
  async function newestByFile(target: TargetRef): Promise<Map<string, BinlogFileRecord>> {
    const out = new Map<string, BinlogFileRecord>();
    for (const r of await targetArchiveRecords(repo, target)) {
      const key = `${r.chain}/${r.file}`;
      const had = out.get(key);
      if (!had || r.endPosition > had.endPosition) out.set(key, r);
    }
    return out;
  }

  /** Waits until the target's archive holds the server's current file up to its current end. */
  async function caughtUp(target: TargetRef, noGapIn?: BinlogArchiveStatus[]): Promise<void> {
    const want = await masterStatus();
    await until(`archive of ${want.file} up to ${want.position}`, async () => {
      const gap = noGapIn?.find((s) => s.gap);
      if (gap) throw new Error(`unexpected gap: ${gap.gap!.message}`);
      for (const r of (await newestByFile(target)).values()) if (r.file === want.file && r.endPosition >= want.position) return true;
      return undefined;
    }, 120_000, 100).catch(async (err: Error) => {
      // What the archiver last said and what the repository holds, for the failure's message.
      const held = [...(await newestByFile(target)).values()].map((r) => `${r.file}:${r.endPosition}${r.closed ? ' closed' : ''}`).join(', ');
      throw new Error(`${err.message}; archived: ${held}; last statuses: ${JSON.stringify(noGapIn?.slice(-3), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    });
  }

  /** Every archived file dumps (real restic) to the server's file on disk, and all of a chain's files in order from `first`. */
  async function assertByteEqual(target: TargetRef, chain?: string): Promise<BinlogFileRecord[]> {
    const records = [...(await newestByFile(target)).values()].filter((r) => chain === undefined || r.chain === chain).sort((a, b) => a.sequence - b.sequence);
    assert.ok(records.length > 0);
    const current = (await masterStatus()).file;
    for (const [i, r] of records.entries()) {
      if (i > 0) assert.equal(r.sequence, records[i - 1]!.sequence + 1, `files of chain ${r.chain} follow each other`);
      const disk = await readFile(join(db.dir, 'data', r.file));
      const archived = await resticDumpBytes(PASSWORD, repoPath, r.snapshotId, `/${r.file}`);
      assert.equal(r.closed, r.file !== current, `${r.file} closed iff rotated past`);
      if (r.closed) assert.equal(r.endPosition, disk.length, `${r.file} archived whole`);
      assert.equal(archived.length, r.endPosition);
      assert.ok(asStreamed(disk).subarray(0, r.endPosition).equals(archived), `${r.file}: archived bytes equal the server's file`);
    }
    return records;
  }

  it('archives every file byte for byte while rows are written, and closes a file when the server rotates', async () => {
    const target = { namespace: 'prod', name: 'continuous' };
    const first = (await masterStatus()).file;
    const writes = writeRows();
    const a = start(target, { startFrom: { file: first } });
    await until('some archived', () => {
      if (a.statuses.some((s) => s.gap)) throw new Error(`unexpected gap: ${a.statuses.find((s) => s.gap)!.gap!.message}`);
      return a.statuses.some((s) => s.bytesArchived > 0) ? true : undefined;
    });
    await sql.query('FLUSH BINARY LOGS');
    await new Promise((r) => setTimeout(r, 300));
    await sql.query('FLUSH BINARY LOGS');
    const rows = await writes.stop();
    assert.ok(rows > 0);
    await caughtUp(target, a.statuses);
    a.abort();
    await a.done;
    const records = await assertByteEqual(target);
    assert.ok(records.length >= 3, 'three files at least');
    assert.equal(new Set(records.map((r) => r.chain)).size, 1, 'one chain');
    assert.ok(records.filter((r) => r.closed).length >= 2);
    assert.ok(!a.statuses.some((s) => s.gap), 'no gap');
    const last = a.statuses.at(-1)!;
    assert.ok(last.lastGtid.length === 1 && last.lastGtid[0]!.serverId === 7);
    assert.ok(records.every((r) => r.serverId === 7));
  });

  it('resumes with no gap and no duplicate after aborts at random moments, mid-flush and between a save and its removal', async () => {
    const target = { namespace: 'prod', name: 'aborted' };
    const first = (await masterStatus()).file;
    const writes = writeRows();
    let rotations = 0;
    for (let round = 0; round < 8; round++) {
      const ac = new AbortController();
      running.add(ac);
      const statuses: BinlogArchiveStatus[] = [];
      // Odd rounds: the abort comes between a snapshot's save and the removal of the one it replaces.
      const done = runBinlogArchiver({
        repo,
        database: root(),
        target,
        replicaServerId: 1002,
        flushIntervalMs: 50,
        heartbeatMs: 100,
        signal: ac.signal,
        startFrom: { file: first },
        onStatus: (s) => statuses.push(s),
        ...(round % 2 === 1 ? { beforeSupersede: async () => (statuses.length > 2 ? ac.abort() : undefined) } : {}),
      });
      if (round % 2 === 0) {
        await until('a flush', () => (statuses.some((s) => s.flushedAt) ? true : undefined));
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
        ac.abort();
      }
      await done;
      assert.ok(!statuses.some((s) => s.gap), `round ${round}: no gap`);
      if (round === 3) {
        await sql.query('FLUSH BINARY LOGS');
        rotations++;
      }
    }
    await writes.stop();
    const a = start(target, { replicaServerId: 1002 });
    await caughtUp(target, a.statuses);
    a.abort();
    await a.done;
    const records = await assertByteEqual(target);
    assert.equal(new Set(records.map((r) => r.chain)).size, 1, 'still one chain');
    assert.ok(records.length >= 1 + rotations);
  });

  it('resumes with no gap after the archiver process is killed (SIGKILL)', async () => {
    const target = { namespace: 'prod', name: 'killed' };
    const first = (await masterStatus()).file;
    const writes = writeRows();
    for (let round = 0; round < 2; round++) {
      const child = spawn(process.execPath, [join(import.meta.dirname, 'helpers', 'binlog-archiver-process.ts')], {
        env: { ...process.env, ARCHIVE_REPO: repoPath, ARCHIVE_PASSWORD: PASSWORD, ARCHIVE_SOCKET: db.socket, ARCHIVE_TARGET: `${target.namespace}/${target.name}`, ARCHIVE_START: first },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let flushes = 0;
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (flushes += d.split('flushed').length - 1));
      const exited = new Promise((r) => child.once('exit', r));
      await until('the child flushed twice', () => (flushes >= 2 + round ? true : undefined));
      child.kill('SIGKILL');
      await exited;
    }
    await writes.stop();
    const a = start(target, { replicaServerId: 1003 });
    await caughtUp(target, a.statuses);
    a.abort();
    await a.done;
    const records = await assertByteEqual(target);
    assert.equal(new Set(records.map((r) => r.chain)).size, 1);
  });

  it('detects binlogs purged before they were archived as a gap and starts a new chain', async () => {
    const target = { namespace: 'prod', name: 'purged' };
    const a = start(target, { startFrom: { file: (await masterStatus()).file }, replicaServerId: 1004 });
    await sql.query("INSERT INTO shop.orders (note) VALUES ('before the gap')");
    await caughtUp(target);
    a.abort();
    await a.done;
    const oldChain = [...(await newestByFile(target)).values()][0]!.chain;
    await sql.query("INSERT INTO shop.orders (note) VALUES ('lost')");
    await sql.query('FLUSH BINARY LOGS');
    await sql.query("INSERT INTO shop.orders (note) VALUES ('lost too')");
    await sql.query('FLUSH BINARY LOGS');
    const now = await masterStatus();
    await sql.query(`PURGE BINARY LOGS TO '${now.file}'`);
    await sql.query("INSERT INTO shop.orders (note) VALUES ('after the gap')");
    const b = start(target, { replicaServerId: 1004 });
    const gapStatus = await until('a gap', () => b.statuses.find((s) => s.gap));
    assert.match(gapStatus.gap!.message, /1236|purged|cannot send|not find|could not find/i);
    await caughtUp(target);
    const after = b.statuses.at(-1)!;
    assert.notEqual(after.chain, oldChain, 'a new chain');
    assert.ok(after.gap, 'the gap stays reported');
    b.abort();
    await b.done;
    const records = await assertByteEqual(target, after.chain);
    assert.equal(records[0]!.file, now.file, 'the new chain starts at the server\'s current file');
    const chains = new Set([...(await newestByFile(target)).values()].map((r) => r.chain));
    assert.equal(chains.size, 2);
  });

  it('goes on across server restarts, a clean one and a crash (SIGKILL), with no gap and every file byte for byte', async () => {
    const target = { namespace: 'prod', name: 'restarted' };
    const a = start(target, { startFrom: { file: (await masterStatus()).file }, replicaServerId: 1005 });
    const burst = async (): Promise<void> => {
      const w = writeRows();
      await new Promise((r) => setTimeout(r, 400));
      assert.ok((await w.stop()) > 0);
    };
    const restart = async (crash: boolean): Promise<void> => {
      sql.close();
      await db.restart({ crash });
      sql = await openSqlConnection(root());
    };
    await burst();
    await restart(false); // a clean stop ends its file with a STOP event; the server starts a new file
    await burst();
    await restart(true); // a crash leaves its file without a STOP or ROTATE
    await burst();
    await sql.query('FLUSH BINARY LOGS');
    await caughtUp(target, a.statuses);
    a.abort();
    await a.done;
    assert.equal(a.statuses.find((s) => s.gap), undefined, 'no gap');
    const records = await assertByteEqual(target);
    assert.equal(new Set(records.map((r) => r.chain)).size, 1, 'one chain across both restarts');
    assert.ok(records.length >= 4, `a file per server life and the flush: ${records.map((r) => r.file).join(', ')}`);
  });

  it('leaves a repository that restic check --read-data accepts', async () => {
    // The killed archiver's last lock is stale (its process is gone): restic unlock removes it.
    // A lock the killed archiver held is stale: its process is gone from this PID namespace, which
    // sidestash's unlock can tell (the lock's hostname names the namespace, so restic's unlock
    // takes it for another host's). Every other lock was released: nothing else is stale.
    await removeLocks(repo);
    assert.deepEqual(await repo.listIds('locks'), [], 'no archiver left a lock behind');
    const checked = await restic(repoPath, PASSWORD, ['check', '--read-data']);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });
});
