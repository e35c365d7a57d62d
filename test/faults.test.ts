// Faults with real processes: an agent killed mid-backup, a controller killed mid-session, a
// backend answering 500s / resets / slowly, a database that is down or refuses the password.
// Each ends with restic check --read-data passing and nothing lost.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { openBackend } from '../common/backend/open-backend.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { startFaultyProxy } from './helpers/faulty-proxy.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { startS3Server } from './helpers/s3-server.ts';
import { REPO_PASSWORD, applyScenario, assertNoProcessesUnder, getSession, processesUnder, slowDump, triggerBackup, waitFor, waitForSessionEnd } from './helpers/scenario.ts';
import { createShop } from './helpers/shop-db.ts';
import { startAgent, startController } from './helpers/stack.ts';
import type { Proc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

async function snapshotCount(path: string): Promise<number> {
  return (await listSnapshots(await Repository.open(new LocalBackend(path), REPO_PASSWORD))).length;
}

async function resticCheckOk(repo: string, env: Record<string, string> = {}): Promise<void> {
  const r = await restic(repo, REPO_PASSWORD, ['check', '--read-data'], undefined, env);
  assert.equal(r.code, 0, r.stderr + r.stdout);
}

describe('faults', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  const procs: Proc[] = [];
  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 20_000);
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await db?.stop();
    const left = dir ? await processesUnder(dir.path) : [];
    await dir?.cleanup();
    assert.deepEqual(left, [], 'no process outlives the tests');
  });

  it('an agent killed mid-backup leaves no snapshot, its session fails, and the next run succeeds', async () => {
    const d = join(dir.path, 'agent-kill');
    const repo = join(d, 'repo');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(d, { recursive: true });
    const controller = await startController(d, { env: { SIDESTASH_SESSION_LEASE: '3s' } });
    procs.push(controller);
    await applyScenario(controller.api, { db, repository: { local: { path: repo } } });
    const agent = startAgent(d, controller, ['default/shop-db'], { SIDESTASH_MARIADB_DUMP: await slowDump(d, 60) });
    procs.push(agent);
    const name = await triggerBackup(controller.api);
    await waitFor('the backup to be under way', 30_000, async () => ((await getSession(controller.api, name)).status?.progress?.bytesDumped ?? 0) > 0 || undefined);
    await agent.kill();
    // The killed agent's dump does not outlive it (it stops when its agent is gone).
    await assertNoProcessesUnder(d);
    const failed = await waitForSessionEnd(controller.api, name, 30_000);
    assert.equal(failed.status?.phase, 'Failed');
    assert.equal(failed.status?.error?.code, 'SIDESTASH_AGENT_LOST');
    assert.equal(await snapshotCount(repo), 0);
    // The dead agent's lock stays behind, as with restic; it is stale (same host, process gone).
    const locks = await restic(repo, REPO_PASSWORD, ['list', 'locks', '--no-lock']);
    assert.equal(locks.stdout.trim().split('\n').filter(Boolean).length, 1, locks.stderr);
    // A new agent removes stale locks first (restic unlock), then backs up.
    const agent2 = startAgent(d, controller, ['default/shop-db']);
    procs.push(agent2);
    const next = await triggerBackup(controller.api);
    const ok = await waitForSessionEnd(controller.api, next, 60_000);
    assert.equal(ok.status?.phase, 'Succeeded', JSON.stringify(ok.status));
    assert.equal(await snapshotCount(repo), 1);
    // The dead agent's lock was removed (and the new backup released its own).
    const after = await restic(repo, REPO_PASSWORD, ['list', 'locks', '--no-lock']);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stdout.trim(), '', 'no lock left behind');
    await resticCheckOk(repo);
    await agent2.stop();
    await controller.stop();
  });

  it('a controller killed and restarted mid-session keeps its state and creates no duplicate session', async () => {
    const d = join(dir.path, 'controller-kill');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(d, { recursive: true });
    const repo = join(d, 'repo');
    const controller = await startController(d);
    const port = Number(new URL(controller.url).port);
    await applyScenario(controller.api, { db, repository: { local: { path: repo } } });
    const agent = startAgent(d, controller, ['default/shop-db'], { SIDESTASH_MARIADB_DUMP: await slowDump(d, 6) });
    procs.push(agent);
    const name = await triggerBackup(controller.api);
    await waitFor('the backup to be under way', 30_000, async () => ((await getSession(controller.api, name)).status?.progress?.bytesDumped ?? 0) > 0 || undefined);
    await controller.kill();
    // The same URL for the agent: startController retries while the port is still taken.
    const again = await startController(d, { port });
    procs.push(again);
    const done = await waitForSessionEnd(again.api, name, 90_000);
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status));
    const { items } = await api<{ items: unknown[] }>(again.api, 'GET', '/api/v1/backupsessions');
    assert.equal(items.length, 1, 'no duplicate session');
    assert.equal(await snapshotCount(repo), 1);
    await resticCheckOk(repo);
    await agent.stop();
    await again.stop();
  });

  it('an S3 backend answering 500s, resets and slowly is retried; one that keeps failing fails the session clearly', async () => {
    const d = join(dir.path, 'backend-faults');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(d, { recursive: true });
    const s3 = await startS3Server();
    const proxy = await startFaultyProxy(s3.endpoint);
    try {
      const controller = await startController(d);
      procs.push(controller);
      await applyScenario(controller.api, { db, repository: { s3: { endpoint: proxy.url, bucket: 'faults', prefix: 'shop' } }, repoSecret: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey } });
      // A short retry window (the default is 5 minutes), so that the failing backup below ends soon.
      const agent = startAgent(d, controller, ['default/shop-db'], { SIDESTASH_BACKEND_RETRY_MAX_DELAY: '500ms', SIDESTASH_BACKEND_RETRY_TOTAL: '5s' });
      procs.push(agent);
      proxy.decide = (_req, n) => (n % 4 === 0 ? { kind: 'status', status: 500 } : n % 9 === 0 ? { kind: 'reset' } : n % 5 === 0 ? { kind: 'delay', ms: 300 } : n % 7 === 0 ? { kind: 'status', status: 503, body: '<Error><Code>SlowDown</Code></Error>' } : undefined);
      const name = await triggerBackup(controller.api);
      const ok = await waitForSessionEnd(controller.api, name, 120_000);
      assert.equal(ok.status?.phase, 'Succeeded', JSON.stringify(ok.status));
      assert.ok(proxy.stats.faults > 3, JSON.stringify(proxy.stats));
      const resticRepo = `s3:${s3.endpoint}/faults/shop`;
      const env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
      await resticCheckOk(resticRepo, env);
      // From the second data pack on, every upload fails: the backend breaks mid-upload, after
      // the repository was opened, locked and the first pack stored (not at the first request).
      let packs = 0;
      proxy.decide = (req) => {
        if (req.method !== 'PUT' || !/\/data\//.test(req.url ?? '')) return undefined;
        packs++;
        return packs >= 2 ? { kind: 'status', status: 500 } : undefined;
      };
      const bad = await triggerBackup(controller.api);
      const failed = await waitForSessionEnd(controller.api, bad, 120_000);
      assert.equal(failed.status?.phase, 'Failed');
      assert.equal(failed.status?.error?.code, 'SIDESTASH_BACKEND_IO');
      assert.match(failed.status?.error?.message ?? '', /\(s3:http:\/\/127\.0\.0\.1:\d+\/faults\/shop\): the backend kept failing for [\d.]+ s \(\d+ attempts; retry window 5 s\); last error: .*500/);
      assert.ok(packs >= 2, `the first pack was stored before the failures: ${packs} pack uploads`);
      proxy.decide = () => undefined;
      // No lock is left behind by the failed session, and the next prune removes its pack
      // (indexed when the backup failed, for the next one to reuse: unused, not an orphan).
      const locks = await restic(resticRepo, REPO_PASSWORD, ['list', 'locks', '--no-lock'], undefined, env);
      assert.equal(locks.stdout.trim(), '', 'no lock left behind');
      const stored = await Repository.open(await openBackend(resticRepo, env), REPO_PASSWORD);
      const pruned = await prune(stored);
      assert.ok(pruned.packsRemoved + pruned.orphanedPacksRemoved >= 1, `the failed session's pack is removed by the next prune: ${JSON.stringify(pruned)}`);
      const snaps = JSON.parse((await restic(resticRepo, REPO_PASSWORD, ['snapshots', '--json'], undefined, env)).stdout) as unknown[];
      assert.equal(snaps.length, 1);
      await resticCheckOk(resticRepo, env);
      await agent.stop();
      await controller.stop();
    } finally {
      await proxy.stop();
      await s3.stop();
    }
  });

  it('wrong credentials or a stopped database fail clearly, store no snapshot and skip retention', async () => {
    const d = join(dir.path, 'db-faults');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(d, { recursive: true });
    const repo = join(d, 'repo');
    const controller = await startController(d);
    procs.push(controller);
    await applyScenario(controller.api, { db, repository: { local: { path: repo } } });
    const agent = startAgent(d, controller, ['default/shop-db']);
    procs.push(agent);
    const run = async (): Promise<{ phase?: string; error?: { code: string; message: string } }> => {
      const name = await triggerBackup(controller.api);
      return (await waitForSessionEnd(controller.api, name, 60_000)).status!;
    };
    assert.equal((await run()).phase, 'Succeeded');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await run()).phase, 'Succeeded');
    assert.equal(await snapshotCount(repo), 2);
    // keepLast 1 would remove a snapshot, if retention ran after a failed backup.
    await applyScenario(controller.api, { db, repository: { local: { path: repo } }, dbPassword: 'wrong', retention: { keepLast: 1, prune: true } });
    await new Promise((r) => setTimeout(r, 1100));
    const denied = await run();
    assert.equal(denied.phase, 'Failed');
    assert.equal(denied.error?.code, 'SIDESTASH_DATABASE_UNAVAILABLE');
    assert.match(denied.error?.message ?? '', /Access denied/);
    assert.equal(await snapshotCount(repo), 2);
    await applyScenario(controller.api, { db, repository: { local: { path: repo } }, retention: { keepLast: 1, prune: true } });
    // Positive control: the same policy after a successful backup does remove snapshots.
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await run()).phase, 'Succeeded');
    assert.equal(await snapshotCount(repo), 1, 'keepLast 1 ran after the success');
    await db.stop();
    await new Promise((r) => setTimeout(r, 1100));
    const down = await run();
    assert.equal(down.phase, 'Failed');
    assert.equal(down.error?.code, 'SIDESTASH_DATABASE_UNAVAILABLE');
    assert.equal(await snapshotCount(repo), 1);
    await resticCheckOk(repo);
    await agent.stop();
    await controller.stop();
  });
});
