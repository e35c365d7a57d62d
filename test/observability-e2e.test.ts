// Honest observability end to end, as a user sees it: the real controller and agents, a real
// MariaDB, a real Pushgateway, and a real Prometheus scraping both the Pushgateway and the
// controller's /metrics with the shipped alert rules (thresholds shortened, expressions as
// shipped). Sessions: a success and an agent-reported failure of two configurations on one
// target, a controller-decided failure (no agent serves the target), an agent killed
// mid-backup, a successful restore followed by a failed one. Then every dashboard query and
// the alerts are evaluated through Prometheus's HTTP API.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { dashboardQueries, loadDashboard, variableQueries } from './helpers/dashboard-queries.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { startPrometheus } from './helpers/prometheus.ts';
import type { Prometheus } from './helpers/prometheus.ts';
import { startPushgateway } from './helpers/pushgateway.ts';
import type { Pushgateway } from './helpers/pushgateway.ts';
import { REPO_PASSWORD, slowDump, waitFor } from './helpers/scenario.ts';
import { DB_PASSWORD, DB_USER, createShop } from './helpers/shop-db.ts';
import { startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc, SessionView } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

const RULES = join(import.meta.dirname, '..', 'charts', 'sidestash', 'files', 'sidestash-alerts.rules.yaml');

/** The shipped rules with test-sized thresholds: every `for:` 0s, the stuck-session ages in seconds. */
async function shortenedRules(dir: string): Promise<string> {
  const text = (await readFile(RULES, 'utf8'))
    .replace(/for: \d+[smh]/g, 'for: 0s')
    .replace(/\{phase="Pending"\}\) > 900/, '{phase="Pending"}) > 2')
    .replace(/\{phase="Running"\}\) > 21600/, '{phase="Running"}) > 600');
  assert.ok(text.includes('> 2') && !/for: [1-9]/.test(text), 'the thresholds were found and shortened');
  const file = join(dir, 'sidestash-alerts.rules.yaml');
  await writeFile(file, text);
  return file;
}

describe('observability end to end: controller, agents, Pushgateway and Prometheus', { timeout: 240_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let pgw: Pushgateway;
  let controller: ControllerProc;
  let agent: Proc;
  let slowAgent: Proc;
  let prom: Prometheus;
  const backups = new Map<string, SessionView>();
  const restores = new Map<string, SessionView>();
  const alertsSeen = new Map<string, Set<string>>();

  const session = (plural: 'backupsessions' | 'restoresessions', name: string) => api<SessionView>(controller.api, 'GET', `/api/v1/${plural}/${name}`);
  const trigger = async (config: string): Promise<string> => (await api<{ metadata: { name: string } }>(controller.api, 'POST', `/api/v1/backupconfigurations/${config}/trigger`)).metadata.name;
  const finished = (plural: 'backupsessions' | 'restoresessions', name: string, timeoutMs = 60_000) =>
    waitFor(`${plural}/${name} to finish`, timeoutMs, async () => {
      const s = await session(plural, name);
      return s.status?.phase === 'Succeeded' || s.status?.phase === 'Failed' ? s : undefined;
    });
  /** Records every alert seen pending or firing, by name, with its identifying labels. */
  const recordAlerts = async (): Promise<void> => {
    for (const a of await prom.alerts()) {
      const set = alertsSeen.get(a.labels.alertname!) ?? new Set<string>();
      set.add(`${a.state}:${a.labels.namespace ?? ''}/${a.labels.configuration ?? a.labels.name ?? a.labels.kind ?? ''}`);
      alertsSeen.set(a.labels.alertname!, set);
    }
  };

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 2000);
    pgw = await startPushgateway();
    controller = await startController(dir.path, {
      env: { SIDESTASH_PUSHGATEWAY_URL: pgw.url, SIDESTASH_SESSION_LEASE: '3s', SIDESTASH_PENDING_TIMEOUT: '30s', SIDESTASH_SWEEP_INTERVAL: '500ms' },
    });
    const app = (name: string) => ({ kind: 'AppBinding', metadata: { name }, spec: { type: 'kubedb.com/mariadb', clientConfig: { socket: db.socket }, secret: { name: 'db-secret' } } });
    const config = (name: string, target: string, dumpArgs: string[]) => ({ kind: 'BackupConfiguration', metadata: { name }, spec: { schedule: '0 0 1 1 *', repository: { name: 'repo' }, target: { ref: { name: target } }, dumpArgs } });
    await api(controller.api, 'POST', '/api/v1/apply', [
      { kind: 'Secret', metadata: { name: 'repo-secret' }, spec: { stringData: { RESTIC_PASSWORD: REPO_PASSWORD } } },
      { kind: 'Secret', metadata: { name: 'db-secret' }, spec: { stringData: { username: DB_USER, password: DB_PASSWORD } } },
      { kind: 'Repository', metadata: { name: 'repo' }, spec: { backend: { local: { path: join(dir.path, 'repo') }, storageSecretName: 'repo-secret' } } },
      app('shop-db'), app('slow-db'), app('ghost-db'),
      config('shop-good', 'shop-db', ['--databases', 'shop', '--single-transaction']),
      // mariadb-dump fails on a database that does not exist: an agent-reported failure.
      config('shop-bad', 'shop-db', ['--databases', 'nosuchdb', '--single-transaction']),
      config('slow-backup', 'slow-db', ['--databases', 'shop', '--single-transaction']),
      // No agent serves ghost-db: the controller fails its sessions (SIDESTASH_NO_AGENT).
      config('ghost-backup', 'ghost-db', ['--databases', 'shop']),
    ]);
    agent = startAgent(dir.path, controller, ['default/shop-db']);
    slowAgent = startAgent(dir.path, controller, ['default/slow-db'], { SIDESTASH_AGENT_NAME: 'agent-slow', SIDESTASH_MARIADB_DUMP: await slowDump(dir.path, 120) });
    prom = await startPrometheus({
      targets: [
        { job: 'pushgateway', url: `${pgw.url}/metrics`, honorLabels: true },
        { job: 'sidestash-controller', url: `${controller.url}/metrics`, caFile: controller.caFile!, serverName: 'localhost' },
      ],
      ruleFiles: [await shortenedRules(dir.path)],
    });
  });
  after(async () => {
    await prom?.stop();
    await slowAgent?.kill();
    await agent?.stop();
    await controller?.stop();
    await pgw?.stop();
    await db?.stop();
    await dir?.cleanup();
  });

  it('runs the sessions: success, agent-reported failure, controller-decided failure, killed agent, restores', async () => {
    backups.set('shop-good', await finished('backupsessions', await trigger('shop-good')));
    backups.set('shop-bad', await finished('backupsessions', await trigger('shop-bad')));
    assert.equal(backups.get('shop-good')!.status?.phase, 'Succeeded');
    assert.equal(backups.get('shop-bad')!.status?.phase, 'Failed');

    // Pending with no agent: the stuck-Pending alert fires while it waits, then the controller fails it.
    const ghost = await trigger('ghost-backup');
    await prom.waitFor('the stuck-Pending alert', async () => {
      await recordAlerts();
      return alertsSeen.get('SidestashSessionStuckPending')?.has('firing:/BackupSession') ? true : undefined;
    });
    backups.set('ghost-backup', await finished('backupsessions', ghost));
    assert.equal(backups.get('ghost-backup')!.status?.error?.code, 'SIDESTASH_NO_AGENT');

    // The slow agent is killed mid-dump: its progress was live, then the lease runs out.
    const slow = await trigger('slow-backup');
    await prom.waitFor('live progress of slow-backup in Prometheus', async () => {
      const s = await prom.query('sidestash_session_progress_bytes{invoker_name="slow-backup"}');
      return s.length === 1 && s[0]!.value > 0 ? true : undefined;
    });
    await slowAgent.kill();
    backups.set('slow-backup', await finished('backupsessions', slow));
    assert.equal(backups.get('slow-backup')!.status?.error?.code, 'SIDESTASH_AGENT_LOST');

    const snapshot = backups.get('shop-good')!.status!.snapshotId!;
    await api(controller.api, 'POST', '/api/v1/apply', { kind: 'RestoreSession', metadata: { name: 'restore-ok' }, spec: { repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, snapshot } });
    restores.set('restore-ok', await finished('restoresessions', 'restore-ok'));
    await api(controller.api, 'POST', '/api/v1/apply', { kind: 'RestoreSession', metadata: { name: 'restore-missing' }, spec: { repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, snapshot: 'deadbeef' } });
    restores.set('restore-missing', await finished('restoresessions', 'restore-missing'));
    assert.deepEqual([...restores.values()].map((s) => s.status?.phase), ['Succeeded', 'Failed']);
  });

  it('Prometheus shows each configuration as it ended: a failure is never hidden by a success on the same target', async () => {
    await prom.waitForScrape();
    const byConfig = async (expr: string): Promise<Record<string, number>> => Object.fromEntries((await prom.query(expr)).map((s) => [s.metric.configuration ?? s.metric.invoker_name ?? '', s.value]));
    assert.deepEqual(await byConfig('sidestash_backup_last_phase{phase="Failed"}'), { 'shop-good': 0, 'shop-bad': 1, 'ghost-backup': 1, 'slow-backup': 1 });
    assert.deepEqual(await byConfig('stash_backup_session_success'), { 'shop-good': 1, 'shop-bad': 0, 'ghost-backup': 0, 'slow-backup': 0 }, 'Stash\'s metric: every decision pushed, the controller\'s too');
    assert.deepEqual(Object.keys(await byConfig('stash_backup_last_success_time_seconds')), ['shop-good']);
    const jobs = (await prom.query('stash_backup_session_success')).map((s) => s.metric.job).sort();
    assert.deepEqual(jobs, ['backupconfiguration-default-ghost-backup', 'backupconfiguration-default-shop-bad', 'backupconfiguration-default-shop-good', 'backupconfiguration-default-slow-backup']);
    assert.deepEqual(await prom.query('sidestash_session_running'), [], 'no progress series left by the killed agent');
    assert.deepEqual((await prom.query('stash_repository_integrity')).map((s) => s.value), [1], 'the check after the good backup');
    const restoresNow = Object.fromEntries((await prom.query('stash_restore_session_success')).map((s) => [s.metric.invoker_name, s.value]));
    assert.deepEqual(restoresNow, { 'restore-ok': 1, 'restore-missing': 0 });
  });

  it('every dashboard query evaluates on the real data, and the panels say what happened', async () => {
    const dash = await loadDashboard();
    const results = new Map<string, Awaited<ReturnType<Prometheus['query']>>>();
    for (const q of dashboardQueries(dash)) {
      const r = await prom.query(q.expr).catch((err: Error) => assert.fail(`panel "${q.panel}" ${q.refId}: ${err.message}`));
      results.set(`${q.panel}/${q.refId}`, r);
    }
    for (const v of variableQueries(dash)) assert.ok((await prom.query(v.expr)).length > 0, `variable ${v.name} lists values`);
    const cells = (key: string, label: string): Record<string, number> => Object.fromEntries(results.get(key)!.map((s) => [s.metric[label]!, s.value]));
    // The configurations table: one line each, the failure of one not hidden by the other's success.
    assert.deepEqual(cells('Backup configurations/B', 'configuration'), { 'shop-good': 0, 'shop-bad': 1, 'ghost-backup': 1, 'slow-backup': 1 });
    assert.deepEqual(cells('Consecutive failures/A', 'configuration'), { 'shop-good': 0, 'shop-bad': 1, 'ghost-backup': 1, 'slow-backup': 1 });
    assert.deepEqual(Object.keys(cells('Time since last success/A', 'configuration')), ['shop-good']);
    assert.deepEqual(cells('Stash backup metrics per BackupConfiguration/A', 'invoker_name'), { 'shop-good': 1, 'shop-bad': 0, 'ghost-backup': 0, 'slow-backup': 0 });
    // The newest restore failed: the latest restore shows the failure, not the older success.
    assert.deepEqual(results.get('Latest restore per target/A')!.map((s) => [s.metric.invoker_name, s.value]), [['restore-missing', 0]]);
    assert.equal(results.get('All restores (newest first)/A')!.length, 2);
    // Nothing runs any more: no live progress (the killed agent's included).
    for (const key of ['Running now/A', 'Progress/A', 'Rate/A']) assert.deepEqual(results.get(key), [], key);
    assert.deepEqual(cells('Repositories/A', 'repository'), { repo: 1 });
    assert.deepEqual(cells('Agents/A', 'name'), { 'agent-0': 1, 'agent-slow': 0 });
  });

  it('the alerts fire for what failed, and only for that', async () => {
    await prom.waitFor('the failure and agent alerts', async () => {
      await recordAlerts();
      const failed = alertsSeen.get('SidestashBackupFailed');
      return failed?.has('firing:default/shop-bad') && failed.has('firing:default/slow-backup') && alertsSeen.get('SidestashAgentMissing')?.has('firing:default/agent-slow') ? true : undefined;
    });
    const firing = (await prom.alerts()).filter((a) => a.state === 'firing').map((a) => `${a.labels.alertname}:${a.labels.configuration ?? a.labels.name ?? a.labels.kind}`).sort();
    assert.ok(!firing.includes('SidestashBackupFailed:shop-good'), firing.join(', '));
    assert.ok(!firing.some((f) => f.startsWith('SidestashRepositoryIntegrityFailed')), firing.join(', '));
    assert.ok(!firing.some((f) => f.startsWith('SidestashAgentMissing:agent-0')), 'the live agent is not missing');
    assert.ok(firing.includes('SidestashBackupFailed:ghost-backup'), firing.join(', '));
  });
});
