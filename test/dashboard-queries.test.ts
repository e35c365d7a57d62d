// Every Grafana dashboard query and every alert expression, evaluated by a real Prometheus that
// scrapes a real Pushgateway (Stash-shaped pushes as the metric contract describes) and an
// in-test HTTP server serving contract-shaped controller /metrics. The fixture holds what hides
// failures in naive dashboards: a failing configuration next to a succeeding one on the same
// target, an older successful restore next to a newer failed one, a repository that shrank
// after another configuration's bigger push, and a progress group of a killed session.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ALERT_RULES_FILE, loadAlertRules } from './helpers/alert-rules.ts';
import type { AlertRule } from './helpers/alert-rules.ts';
import { dashboardQueries, loadDashboard, variableQueries } from './helpers/dashboard-queries.ts';
import type { Dashboard, DashboardQuery } from './helpers/dashboard-queries.ts';
import { exposition, progressPush, stashBackupPush, stashJobPath, stashRestorePush } from './helpers/metric-contract.ts';
import type { Sample as ContractSample } from './helpers/metric-contract.ts';
import { startPrometheus } from './helpers/prometheus.ts';
import type { Prometheus, Sample } from './helpers/prometheus.ts';
import { startPushgateway } from './helpers/pushgateway.ts';
import type { Pushgateway } from './helpers/pushgateway.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;

/** The controller's /metrics for the fixture, as the contract shapes them. */
function controllerMetrics(nowS: number): string {
  const s: ContractSample[] = [];
  const cfg = (namespace: string, configuration: string, target: string, o: { createdS: number; periodS?: number; paused?: boolean; lastSuccessS?: number; lastPhase?: 'Succeeded' | 'Failed' | 'Cancelled'; durationS?: number; failures: number; legacyPhases?: boolean }) => {
    const l = { namespace, configuration, target };
    s.push({ name: 'sidestash_backup_configuration_created_timestamp_seconds', labels: l, value: o.createdS });
    if (o.periodS !== undefined) s.push({ name: 'sidestash_backup_schedule_period_seconds', labels: l, value: o.periodS });
    s.push({ name: 'sidestash_backup_paused', labels: l, value: o.paused ? 1 : 0 });
    if (o.lastSuccessS !== undefined) s.push({ name: 'sidestash_backup_last_success_timestamp_seconds', labels: l, value: o.lastSuccessS });
    if (o.lastPhase) {
      // legacyPhases: as a controller from before the Cancelled phase exported it.
      for (const phase of o.legacyPhases ? ['Succeeded', 'Failed'] : ['Succeeded', 'Failed', 'Cancelled']) s.push({ name: 'sidestash_backup_last_phase', labels: { ...l, phase }, value: phase === o.lastPhase ? 1 : 0 });
      s.push({ name: 'sidestash_backup_last_duration_seconds', labels: l, value: o.durationS ?? 0 });
    }
    s.push({ name: 'sidestash_backup_consecutive_failures', labels: l, value: o.failures });
    s.push({ name: 'sidestash_backup_suspicious_shrink', labels: l, value: 0 });
  };
  // Two configurations on the same target: nightly succeeded an hour ago, hourly has failed for 30 h.
  cfg('demo', 'nightly', 'db', { createdS: nowS - 10 * DAY, periodS: DAY, lastSuccessS: nowS - HOUR, lastPhase: 'Succeeded', durationS: 42, failures: 0 });
  cfg('demo', 'hourly', 'db', { createdS: nowS - 10 * DAY, periodS: HOUR, lastSuccessS: nowS - 30 * HOUR, lastPhase: 'Failed', durationS: 3, failures: 30 });
  // Paused after failures, long ago: no alert. Fresh: created a minute ago, nothing finished yet.
  cfg('shop', 'paused', 'shop-db', { createdS: nowS - 60 * DAY, paused: true, lastSuccessS: nowS - 40 * DAY, lastPhase: 'Failed', durationS: 5, failures: 2, legacyPhases: true });
  // Its newest session was cancelled: neither a success nor a failure, and no alert.
  cfg('shop', 'stopped', 'shop-db', { createdS: nowS - 10 * DAY, periodS: DAY, lastSuccessS: nowS - 2 * HOUR, lastPhase: 'Cancelled', durationS: 7, failures: 0 });
  cfg('shop', 'fresh', 'shop-db', { createdS: nowS - 60, periodS: DAY, failures: 0 });
  // Binlog archives: nightly's is running and caught up; fresh's has nobody archiving it for 15m.
  for (const [l, up, lag, gaps] of [[{ namespace: 'demo', configuration: 'nightly', target: 'db' }, 1, 0.4, 0], [{ namespace: 'shop', configuration: 'fresh', target: 'shop-db' }, 0, 900, 1]] as const) {
    s.push({ name: 'sidestash_binlog_archive_up', labels: l, value: up });
    s.push({ name: 'sidestash_binlog_archive_lag_seconds', labels: l, value: lag });
    s.push({ name: 'sidestash_binlog_archive_last_event_timestamp_seconds', labels: l, value: nowS - lag - 1 });
    s.push({ name: 'sidestash_binlog_archive_last_flush_timestamp_seconds', labels: l, value: nowS - lag });
    s.push({ name: 'sidestash_binlog_archived_bytes', labels: l, value: 1048576 });
    s.push({ name: 'sidestash_binlog_archive_gaps', labels: l, value: gaps });
  }
  s.push({ name: 'sidestash_repository_integrity', labels: { namespace: 'demo', repository: 'repo' }, value: 1 });
  s.push({ name: 'sidestash_repository_integrity', labels: { namespace: 'shop', repository: 'shop-repo' }, value: 0 });
  for (const [kind, phase, age] of [['BackupSession', 'Pending', 1200], ['BackupSession', 'Running', 10], ['RestoreSession', 'Pending', 0], ['RestoreSession', 'Running', 0]] as const) {
    s.push({ name: 'sidestash_session_oldest_age_seconds', labels: { kind, phase }, value: age });
    s.push({ name: 'sidestash_sessions', labels: { kind, phase }, value: age > 0 ? 1 : 0 });
  }
  s.push({ name: 'sidestash_agent_online', labels: { namespace: 'demo', name: 'db-0', version: '0.1.0' }, value: 1 });
  s.push({ name: 'sidestash_agent_online', labels: { namespace: 'shop', name: 'shop-db-0', version: '0.1.0' }, value: 0 });
  s.push({ name: 'sidestash_agents_online', labels: {}, value: 1 });
  return exposition(s);
}

async function push(pgw: Pushgateway, path: string, samples: ContractSample[]): Promise<void> {
  const res = await fetch(`${pgw.url}${path}`, { method: 'POST', body: exposition(samples) });
  assert.equal(res.status, 200, `${path}: ${await res.text()}`);
}

const byLabels = (samples: Sample[], ...labels: string[]): Record<string, number> => Object.fromEntries(samples.map((s) => [labels.map((l) => s.metric[l] ?? '').join('/'), s.value]));

describe('dashboard queries and alert expressions on a real Prometheus', () => {
  let pgw: Pushgateway;
  let prom: Prometheus;
  let server: ReturnType<typeof createServer>;
  let dashboard: Dashboard;
  let queries: DashboardQuery[];
  let rules: AlertRule[];
  /** The evaluation time: 61 s after the killed session's last progress push, < 60 s after the running one's. */
  let evalS: number;
  const nowS = Math.floor(Date.now() / 1000);

  before(async () => {
    dashboard = await loadDashboard();
    queries = dashboardQueries(dashboard);
    rules = await loadAlertRules();
    pgw = await startPushgateway();
    const metrics = controllerMetrics(nowS);
    server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    prom = await startPrometheus({
      targets: [{ job: 'pushgateway', url: `${pgw.url}/metrics`, honorLabels: true }, { job: 'sidestash', url: `http://127.0.0.1:${port}/metrics` }],
      ruleFiles: [ALERT_RULES_FILE],
    });

    // Backups of one repository: hourly succeeded 30 h ago (5000 bytes) and has failed since
    // (a failure pushes only the success gauges, and the last success time); nightly succeeded
    // 1 h ago, after a prune (3000 bytes). Pushed in the other order, as a controller's re-push
    // after a restart may do: the newest measurement is the newest success's, whatever the
    // push times say.
    await push(pgw, stashJobPath('BackupConfiguration', 'demo', 'nightly'), stashBackupPush({ namespace: 'demo', configuration: 'nightly', repository: 'repo', target: 'db', success: true, durationS: 42, finishedAtS: nowS - HOUR, sizeBytes: 10_000, uploadedBytes: 400, repositorySizeBytes: 3000, snapshotCount: 4, integrity: true }));
    await push(pgw, stashJobPath('BackupConfiguration', 'demo', 'hourly'), stashBackupPush({ namespace: 'demo', configuration: 'hourly', repository: 'repo', target: 'db', success: true, durationS: 3, finishedAtS: nowS - 30 * HOUR, sizeBytes: 9_000, uploadedBytes: 300, repositorySizeBytes: 5000, snapshotCount: 7 }));
    await push(pgw, stashJobPath('BackupConfiguration', 'demo', 'hourly'), stashBackupPush({ namespace: 'demo', configuration: 'hourly', repository: 'repo', target: 'db', success: false, finishedAtS: nowS - 60, lastSuccessS: nowS - 30 * HOUR }));
    // Restores of the same target: the older succeeded, the newer failed. Pushed newest first
    // (a re-push after a restart goes in name order): the newest is chosen by when it ended.
    await push(pgw, stashJobPath('RestoreSession', 'demo', 'restore-new'), stashRestorePush({ namespace: 'demo', restoreSession: 'restore-new', repository: 'repo', target: 'db', success: false, finishedAtS: nowS - HOUR }));
    await push(pgw, stashJobPath('RestoreSession', 'demo', 'restore-old'), stashRestorePush({ namespace: 'demo', restoreSession: 'restore-old', repository: 'repo', target: 'db', success: true, durationS: 12, finishedAtS: nowS - 2 * HOUR }));
    // Live progress: a session whose agent was killed (its group stays), then, 2 s later, a running one.
    const killed = progressPush({ namespace: 'demo', invokerKind: 'BackupConfiguration', invokerName: 'hourly', session: 'hourly-31', target: 'db', repository: 'repo', progressBytes: 100, storedBytes: 10, rateBytesPerSecond: 50, etaSeconds: 30 });
    await push(pgw, killed.path, killed.samples);
    const killedAtMs = Date.now();
    while (Date.now() < killedAtMs + 2000) await new Promise((r) => setTimeout(r, 100));
    const running = progressPush({ namespace: 'demo', invokerKind: 'BackupConfiguration', invokerName: 'nightly', session: 'nightly-9', target: 'db', repository: 'repo', progressBytes: 2_000_000, storedBytes: 500_000, rateBytesPerSecond: 1_000_000, etaSeconds: 8 });
    await push(pgw, running.path, running.samples);
    await prom.waitForScrape();

    const pushTimes = byLabels(await prom.query('push_time_seconds{job="sidestash-progress"}'), 'invoker_name');
    assert.ok(pushTimes.nightly! > pushTimes.hourly! + 1, JSON.stringify(pushTimes));
    evalS = Math.ceil(pushTimes.hourly!) + 61; // whole seconds: Prometheus keeps query times to the millisecond
  });

  after(async () => {
    await prom?.stop();
    await pgw?.stop();
    if (server) await new Promise((r) => server.close(r));
  });

  it('the dashboard has queries, all of which Prometheus evaluates, instant and over a range, each with data in this fixture', async () => {
    assert.ok(queries.length >= 20, `${queries.length} queries`);
    for (const q of queries) {
      const at = await prom.query(q.expr, evalS).catch((err: Error) => assert.fail(`panel "${q.panel}" ${q.refId}: ${err.message}`));
      assert.ok(at.length > 0, `panel "${q.panel}" ${q.refId} shows nothing: ${q.expr}`);
      if (!q.instant) await prom.queryRange(q.expr, nowS - 300, nowS + 60, 15).catch((err: Error) => assert.fail(`panel "${q.panel}" ${q.refId} (range): ${err.message}`));
    }
  });

  it("the dashboard's variables list the namespaces and configurations", async () => {
    const vars = Object.fromEntries(await Promise.all(variableQueries(dashboard).map(async (v) => [v.name, (await prom.query(v.expr, evalS)).map((s) => s.metric[v.label]).sort()] as const)));
    assert.deepEqual(vars, { namespace: ['demo', 'shop'], configuration: ['fresh', 'hourly', 'nightly', 'paused', 'stopped'] });
  });

  const panel = (title: string, refId: string): DashboardQuery => {
    const q = queries.find((x) => x.panel === title && x.refId === refId);
    assert.ok(q, `panel "${title}" ${refId}`);
    return q;
  };
  const show = async (title: string, refId: string, ...labels: string[]) => byLabels(await prom.query(panel(title, refId).expr, evalS), ...labels);

  it('shows one line per configuration: the failing one failed while the other succeeded on the same target', async () => {
    assert.deepEqual(await show('Backup configurations', 'A', 'namespace', 'configuration', 'target'), { 'demo/nightly/db': (nowS - 10 * DAY) * 1000, 'demo/hourly/db': (nowS - 10 * DAY) * 1000, 'shop/paused/shop-db': (nowS - 60 * DAY) * 1000, 'shop/fresh/shop-db': (nowS - 60) * 1000, 'shop/stopped/shop-db': (nowS - 10 * DAY) * 1000 }, 'created: one line per configuration, never-finished ones included');
    assert.deepEqual(await show('Backup configurations', 'B', 'configuration'), { nightly: 0, hourly: 1, paused: 1, stopped: 2 }, 'last phase: 0 Succeeded, 1 Failed (also from a controller without the Cancelled series), 2 Cancelled');
    assert.deepEqual(await show('Backup configurations', 'C', 'configuration'), { nightly: (nowS - HOUR) * 1000, hourly: (nowS - 30 * HOUR) * 1000, paused: (nowS - 40 * DAY) * 1000, stopped: (nowS - 2 * HOUR) * 1000 }, 'last success (ms for dateTimeFromNow)');
    assert.deepEqual(await show('Backup configurations', 'D', 'configuration'), { nightly: evalS - nowS + HOUR, hourly: evalS - nowS + 30 * HOUR, paused: evalS - nowS + 40 * DAY, stopped: evalS - nowS + 2 * HOUR });
    assert.deepEqual(await show('Backup configurations', 'E', 'configuration'), { nightly: 0, hourly: 30, paused: 2, fresh: 0, stopped: 0 });
    assert.deepEqual(await show('Consecutive failures', 'A', 'configuration'), { nightly: 0, hourly: 30, paused: 2, fresh: 0, stopped: 0 });
    // Stash's metrics: hourly's failure keeps its last success time (POST), and shows failed.
    assert.deepEqual(await show('Stash backup metrics per BackupConfiguration', 'A', 'namespace', 'invoker_name', 'name'), { 'demo/nightly/db': 1, 'demo/hourly/db': 0 });
    assert.deepEqual(await show('Stash backup metrics per BackupConfiguration', 'B', 'invoker_name'), { nightly: (nowS - HOUR) * 1000, hourly: (nowS - 30 * HOUR) * 1000 });
  });

  it("shows the newest restore's outcome (failed), not the best of all restores", async () => {
    assert.deepEqual(await show('Latest restore per target', 'A', 'namespace', 'name', 'invoker_name'), { 'demo/db/restore-new': 0 });
    const all = await show('All restores (newest first)', 'A', 'invoker_name');
    assert.deepEqual(all, { 'restore-old': 1, 'restore-new': 0 });
    assert.deepEqual(await show('All restores (newest first)', 'C', 'invoker_name'), { 'restore-old': 12 }, 'a failed restore pushes no duration');
  });

  it("shows the repository as the newest push left it, and both integrity views", async () => {
    assert.deepEqual(await show('Repositories', 'C', 'namespace', 'repository'), { 'demo/repo': 3000 }, 'the newer, smaller size, not the max');
    assert.deepEqual(await show('Repositories', 'D', 'repository'), { repo: 4 });
    assert.deepEqual(await show('Repositories', 'A', 'repository'), { repo: 1, 'shop-repo': 0 });
    assert.deepEqual(await show('Repositories', 'B', 'repository'), { repo: 1 });
  });

  it('the fixture defeats the naive queries the dashboard avoids (so the assertions above can fail)', async () => {
    const naive = async (expr: string, ...labels: string[]) => byLabels(await prom.query(expr, evalS), ...labels);
    assert.deepEqual(await naive('max by (namespace, name) (stash_backup_target_success)', 'namespace', 'name'), { 'demo/db': 1 }, 'a max over configurations looks green');
    assert.deepEqual(await naive('max by (namespace, name) (stash_restore_target_success)', 'namespace', 'name'), { 'demo/db': 1 }, 'a max over restores looks green');
    assert.deepEqual(await naive('max by (namespace, name) (stash_repository_size_bytes)', 'namespace', 'name'), { 'demo/repo': 5000 }, 'a max over pushes keeps the old size');
    const byPushTime = (metric: string, job: string, label: string) =>
      `topk by (namespace) (1, max by (job, namespace, ${label}) (${metric}) * 0 + on (job) group_left max by (job) (push_time_seconds{job=~"${job}-.+"}))`;
    assert.deepEqual(Object.keys(await naive(byPushTime('stash_restore_target_success', 'restoresession', 'invoker_name'), 'invoker_name')), ['restore-old'], 'the newest push is not the newest restore');
    assert.deepEqual(Object.keys(await naive(byPushTime('stash_repository_size_bytes', 'backupconfiguration', 'invoker_name'), 'invoker_name')), ['hourly'], 'nor the newest measurement');
    assert.deepEqual(Object.keys(await naive('sidestash_session_progress_bytes', 'session')).sort(), ['hourly-31', 'nightly-9'], 'without the filter the killed session shows');
  });

  it('hides progress older than 60 s: only the running session shows, the killed one does not', async () => {
    for (const title of ['Progress', 'Rate']) {
      assert.deepEqual(Object.keys(await show(title, 'A', 'session')), ['nightly-9'], title);
    }
    assert.deepEqual(await show('Running now', 'C', 'session', 'name'), { 'nightly-9/db': 1_000_000 });
    // Control: a minute earlier both groups were fresh, so the filter (not a missing series) hides it.
    const earlier = byLabels(await prom.query(panel('Running now', 'A').expr, evalS - 30), 'session');
    assert.deepEqual(earlier, { 'hourly-31': 100, 'nightly-9': 2_000_000 });
  });

  it('shows agents and stuck sessions from the controller', async () => {
    assert.deepEqual(await show('Agents', 'A', 'namespace', 'name'), { 'demo/db-0': 1, 'shop/shop-db-0': 0 });
    assert.equal((await show('Oldest waiting and running session', 'A', 'kind', 'phase'))['BackupSession/Pending'], 1200);
  });

  // What each alert expression selects in this fixture (alert labels; "for:" aside).
  const expected: Record<string, string[]> = {
    SidestashBackupTooOld: ['demo/hourly/db'],
    SidestashBackupFailed: ['demo/hourly/db'],
    SidestashRepositoryIntegrityFailed: ['shop/shop-repo'],
    SidestashSessionStuckPending: ['BackupSession'],
    SidestashSessionStuckRunning: [],
    SidestashAgentMissing: ['shop/shop-db-0'],
    SidestashControllerMetricsAbsent: [],
    SidestashBinlogArchiveLagging: ['shop/fresh/shop-db'],
    SidestashBinlogArchiveDown: ['shop/fresh/shop-db'],
    // A standing gap count is no new gap (the fixture's values never change).
    SidestashBinlogGap: [],
  };
  const key = (labels: Record<string, string>): string => ['namespace', 'configuration', 'repository', 'name', 'target', 'kind'].filter((l) => labels[l] !== undefined).map((l) => labels[l]).join('/');

  it('every alert expression evaluates and selects exactly the configurations, repositories, sessions and agents at fault', async () => {
    assert.deepEqual(rules.map((r) => r.alert).sort(), Object.keys(expected).sort());
    for (const r of rules) {
      const got = (await prom.query(r.expr, evalS).catch((err: Error) => assert.fail(`${r.alert}: ${err.message}`))).map((s) => key(s.metric)).sort();
      assert.deepEqual(got, expected[r.alert], r.alert);
    }
  });

  it('Prometheus, running the shipped rules file, holds exactly those alerts as pending or firing', async () => {
    const want = Object.entries(expected).flatMap(([name, keys]) => keys.map((k) => `${name} ${k}`)).sort();
    let got: string[] = [];
    await prom.waitFor('the expected alerts', async () => {
      const alerts = await prom.alerts();
      got = alerts.map((a) => `${a.labels.alertname} ${key(a.labels)}`).sort();
      return got.join('\n') === want.join('\n') ? alerts : undefined;
    }).catch(() => assert.deepEqual(got, want));
    for (const a of await prom.alerts()) {
      assert.ok(a.state === 'pending' || a.state === 'firing', `${a.labels.alertname}: ${a.state}`);
      assert.ok(a.labels.severity, `${a.labels.alertname} severity`);
      assert.ok(!/<no value>|\{\{/.test(`${a.annotations.summary} ${a.annotations.description}`), `${a.labels.alertname} annotations render: ${JSON.stringify(a.annotations)}`);
      if (a.labels.configuration) assert.ok(a.annotations.description?.includes(a.labels.configuration) && a.annotations.description.includes(a.labels.namespace!) && a.annotations.description.includes(a.labels.target!), a.annotations.description);
    }
  });
});
