// Point-in-time recovery end to end, with the controller and the agent as processes and a real
// MariaDB with its binary log: a BackupConfiguration with spec.binlog; rows written every 100 ms
// while the agent archives the binary log and a full backup runs; then the server is killed and
// its data directory destroyed; a fresh server gets `sidestash restore --to latest`. It must hold
// every row committed before the crash but for at most flushIntervalSeconds plus one interval of
// them (the test prints how many it lost), and restic must check the repository, dumps and
// binlogs, with --read-data.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { api } from '../cli/api-client.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { applyScenario } from './helpers/scenario.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { runCli, startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';
import { until } from './helpers/until.ts';

const REPO_PASSWORD = 'scenario-repository-password';
const FLUSH_INTERVAL_S = 1;
const WRITE_EVERY_MS = 100;

interface BinlogStatus {
  agent?: string;
  file?: string;
  position?: number;
  lagSeconds?: number;
  error?: { code: string; message: string };
}

describe('point-in-time recovery end to end', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let source: MariaDB;
  let rebuilt: MariaDB | undefined;
  let controller: ControllerProc;
  let agent: Proc;
  const status = async (): Promise<BinlogStatus | undefined> => (await api<{ status?: { binlog?: BinlogStatus } }>(controller.api, 'GET', '/api/v1/backupconfigurations/shop-backup')).status?.binlog;

  before(async () => {
    dir = await tempDir('sidestash-pitr-e2e-');
    source = await startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=1', '--binlog-format=ROW'] });
    await createShop(source, 200);
    await source.sql('CREATE TABLE shop.ticks (id INT PRIMARY KEY, at DATETIME(6))');
    // A short lease: the agent syncs its archives with its heartbeat (a third of it).
    controller = await startController(dir.path, { env: { SIDESTASH_SESSION_LEASE: '9s' } });
    await applyScenario(controller.api, { db: source, repository: { local: { path: join(dir.path, 'repo') } } });
    await api(controller.api, 'POST', '/api/v1/apply', [
      { kind: 'BackupConfiguration', metadata: { name: 'shop-backup' }, spec: { schedule: '0 0 1 1 *', repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, binlog: { enabled: true, flushIntervalSeconds: FLUSH_INTERVAL_S } } },
    ]);
    agent = startAgent(dir.path, controller, ['default/shop-db']);
  });
  after(async () => {
    await agent?.stop();
    await controller?.stop();
    await Promise.all([source?.stop(), rebuilt?.stop()]);
    await dir?.cleanup();
  });

  it('archives while rows are written and a backup runs; after the server is destroyed, restores to latest losing at most one flush interval', async () => {
    await until('the agent archives the binary log', async () => {
      const s = await status();
      return s?.agent && s.file && (s.position ?? 0) > 4 ? s : undefined;
    });
    // Rows every 100 ms, each one's commit recorded.
    const conn = await mysql.createConnection({ socketPath: source.socket, user: DB_USER, password: DB_PASSWORD });
    const committed: number[] = [];
    let writing = true;
    const writer = (async () => {
      for (let id = 1; writing; id++) {
        try {
          await conn.query('INSERT INTO shop.ticks VALUES (?, NOW(6))', [id]);
          committed.push(id);
        } catch {
          return; // the server is gone
        }
        await new Promise((r) => setTimeout(r, WRITE_EVERY_MS));
      }
    })();
    // A full backup while the rows go on (the dump's coordinates are recorded; archiving goes on).
    const backup = await runCli(['backup', 'trigger', 'shop-backup', '--wait'], controller.cliEnv);
    assert.equal(backup.code, 0, backup.stdout + backup.stderr);
    const during = committed.length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(committed.length > during + 10, 'rows were written after the backup');
    const healthy = await status();
    assert.equal(healthy?.error, undefined, JSON.stringify(healthy));
    // The disaster: mariadbd killed, its data directory gone.
    const pid = Number((await readFile(join(source.dir, 'mysqld.pid'), 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    writing = false;
    await writer;
    conn.destroy();
    await source.stop();
    // The archiver stores what it read before the crash within a flush interval; then the
    // configuration is paused so that it does not start a chain on the rebuilt server meanwhile.
    await new Promise((r) => setTimeout(r, (FLUSH_INTERVAL_S + 2) * 1000));
    const paused = await runCli(['pause', 'shop-backup'], controller.cliEnv);
    assert.equal(paused.code, 0, paused.stdout + paused.stderr);
    // A rebuilt server, empty but for the agent's user; the AppBinding points to it.
    rebuilt = await startMariaDB();
    const pw = DB_PASSWORD.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    await rebuilt.sql(`CREATE USER '${DB_USER}'@'localhost' IDENTIFIED BY '${pw}'; GRANT ALL PRIVILEGES ON *.* TO '${DB_USER}'@'localhost'`);
    await api(controller.api, 'POST', '/api/v1/apply', [{ kind: 'AppBinding', metadata: { name: 'shop-db' }, spec: { clientConfig: { socket: rebuilt.socket }, secret: { name: 'db-secret' } } }]);
    const restore = await runCli(['restore', '--repository', 'repo', '--target', 'shop-db', '--to', 'latest', '--wait'], controller.cliEnv);
    assert.equal(restore.code, 0, restore.stdout + restore.stderr);
    const restored = (await rebuilt.sql('SELECT id FROM shop.ticks ORDER BY id')).trim().split('\n').filter(Boolean).map(Number);
    // Every restored row was committed, in order from the first: nothing invented, nothing skipped.
    assert.deepEqual(restored, committed.slice(0, restored.length));
    const lost = committed.length - restored.length;
    const allowed = Math.ceil((FLUSH_INTERVAL_S * 1000 + WRITE_EVERY_MS) / WRITE_EVERY_MS);
    process.stdout.write(`# recovery point: ${committed.length} rows committed before the crash, ${restored.length} restored, ${lost} lost (allowed: ${allowed})\n`);
    assert.ok(lost <= allowed, `lost ${lost} rows, more than ${allowed}`);
    const check = await restic(join(dir.path, 'repo'), REPO_PASSWORD, ['check', '--read-data']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const listed = await restic(join(dir.path, 'repo'), REPO_PASSWORD, ['snapshots', '--tag', 'sidestash-binlog', '--json']);
    assert.ok((JSON.parse(listed.stdout) as unknown[]).length >= 1, 'restic lists the archived binlog files');
  });
});
