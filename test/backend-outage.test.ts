// Long outages: a backup session whose repository backend refuses every request (a local
// HTTP server answering 503) fails once the agent's retry window closes, with a retryable
// error that names the backend and the last cause; it never hangs. And a session whose
// assignment carries an invalid upload limit fails before touching anything.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { runBackup } from '../agent/backup-runner.ts';
import { runRestore } from '../agent/restore-runner.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { BackupAssignment, RestoreAssignment } from '../common/protocol.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { tempDir } from './helpers/tmp.ts';

const log = createLogger({}, { level: 'error' });
const WINDOW_MS = 3000;

describe('backend outages', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let db: MariaDB;
  let server: Server;
  let url = '';
  let requests = 0;
  const assignment = (location: string, over: Partial<BackupAssignment> = {}): BackupAssignment => ({
    kind: 'BackupSession', namespace: 'default', name: 's-outage', invoker: 'cfg', target: 'default/db', repositoryName: 'repo',
    database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD },
    repository: { location, password: 'pw-outage', credentials: {} },
    dumpArgs: ['--all-databases', '--single-transaction'], snapshotHost: 'db', filename: 'dumpfile.sql', ...over,
  });
  const hooks = () => ({ signal: new AbortController().signal, log, onProgress: () => {} });

  before(async () => {
    dir = await tempDir('sidestash-outage-');
    server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance: storage offline'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    db = await startMariaDB();
    await createShop(db, 100);
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.stop();
    await dir?.cleanup();
  });

  it(`a REST repository answering 503 to everything fails the session once the ${WINDOW_MS / 1000} s retry window closes`, async () => {
    const config = testAgentConfig(dir.path, { backendRetry: { maxDelayMs: 500, maxTotalMs: WINDOW_MS } });
    const before = requests;
    await assert.rejects(runBackup(config, assignment(`rest:${url}/repo/`), hooks()), (err: unknown) => {
      assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
      assert.equal(err.retryable, true);
      assert.match(err.message, new RegExp(`\\(rest:${url.replace(/[.]/g, '\\.')}/repo/\\): the backend kept failing for [\\d.]+ s \\(\\d+ attempts; retry window 3 s\\); last error: .*503 maintenance: storage offline`));
      assert.equal(err.details.backend, `rest:${url}/repo/`);
      assert.equal(err.details.status, 503);
      assert.ok(typeof err.details.failingMs === 'number' && err.details.failingMs <= WINDOW_MS, `failed for ${String(err.details.failingMs)} ms`);
      // Backing off from 200 ms up to 500 ms: some 7 tries fit in 3 s.
      assert.ok(typeof err.details.attempts === 'number' && err.details.attempts >= 5, `${String(err.details.attempts)} attempts`);
      return true;
    });
    assert.ok(requests - before >= 5, `${requests - before} requests`);
  });

  it('a restore against that repository fails within the same window, with the same error', async () => {
    const config = testAgentConfig(dir.path, { backendRetry: { maxDelayMs: 500, maxTotalMs: WINDOW_MS } });
    const restore: RestoreAssignment = { kind: 'RestoreSession', namespace: 'default', name: 'r-outage', target: 'default/db', repositoryName: 'repo', database: { socket: db.socket, username: DB_USER, password: DB_PASSWORD }, repository: { location: `rest:${url}/repo/`, password: 'pw-outage', credentials: {} }, snapshot: 'latest', snapshotHost: 'db' };
    await assert.rejects(runRestore(config, restore, hooks()), (err: unknown) => {
      assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
      assert.equal(err.retryable, true);
      assert.match(err.message, /the backend kept failing for [\d.]+ s \(\d+ attempts; retry window 3 s\); last error: .*503 maintenance/);
      return true;
    });
  });

  for (const limit of [0, 1.5, 10_485_761]) {
    it(`an assignment with limitUploadKiBps ${limit} fails the session before anything is written`, async () => {
      const repo = join(dir.path, `repo-limit-${limit}`);
      await assert.rejects(runBackup(testAgentConfig(dir.path), assignment(`local:${repo}`, { limitUploadKiBps: limit }), hooks()), (err: unknown) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT) && /limitUploadKiBps/.test(err.message));
      assert.equal(existsSync(repo), false, 'no repository was created');
    });
  }
});
