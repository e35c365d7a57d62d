// The Grafana dashboard's shape: a datasource variable used by every panel and query, only
// metrics of the metric contract, no success query that aggregates across configurations or
// restores, progress always filtered by push time, units that fit the values, and a sensible
// default time range. (test/dashboard-queries.test.ts evaluates every query on Prometheus.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allPanels, dashboardQueries, loadDashboard } from './helpers/dashboard-queries.ts';
import type { DashboardPanel } from './helpers/dashboard-queries.ts';
import { CONTRACT_METRICS, metricNames } from './helpers/metric-contract.ts';
import { metricNamesProduced } from './helpers/metric-names.ts';

const dash = await loadDashboard();
const panels = allPanels(dash).filter((p) => p.type !== 'row');

/** The unit a target's values are shown in: its table column's override, else the panel default. */
function unitOf(p: DashboardPanel, refId: string): string | undefined {
  const targets = p.targets ?? [];
  const organize = p.transformations?.find((t) => t.id === 'organize');
  const column = organize?.options.renameByName?.[targets.length > 1 ? `Value #${refId}` : 'Value'] as string | undefined;
  const override = p.fieldConfig?.overrides?.find((o) => o.matcher.options === column)?.properties.find((x) => x.id === 'unit')?.value as string | undefined;
  return override ?? p.fieldConfig?.defaults?.unit;
}

describe('grafana dashboard', () => {
  it('uses the datasource variable in every panel and query, with unique ids and positions', () => {
    assert.ok(dash.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    const ids = new Set(allPanels(dash).map((p) => p.id));
    assert.equal(ids.size, allPanels(dash).length, 'panel ids are unique');
    for (const p of panels) {
      assert.equal(p.datasource?.uid, '${datasource}', p.title);
      assert.ok(p.gridPos, p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has queries`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, '${datasource}', `${p.title} ${t.refId}`);
    }
  });

  it('queries only metrics of the contract, and shows every controller alerting metric', () => {
    const used = new Set(dashboardQueries(dash).flatMap((q) => metricNames(q.expr)));
    for (const m of used) assert.ok(CONTRACT_METRICS.has(m), `${m} is in the metric contract`);
    for (const m of ['sidestash_backup_last_phase', 'sidestash_backup_last_success_timestamp_seconds', 'sidestash_backup_consecutive_failures', 'sidestash_backup_last_duration_seconds', 'sidestash_repository_integrity', 'sidestash_session_oldest_age_seconds', 'sidestash_agent_online', 'stash_backup_target_success', 'stash_restore_target_success', 'stash_repository_integrity', 'sidestash_session_rate_bytes_per_second']) {
      assert.ok(used.has(m), `the dashboard shows ${m}`);
    }
  });

  it('never aggregates a success or phase across configurations or restores', () => {
    for (const q of dashboardQueries(dash)) {
      if (!/_success\b|_success\{|sidestash_backup_last_phase/.test(q.expr)) continue;
      const outer = /^(?:max|min|sum|avg|count|group)\s+by\s*\(([^)]*)\)/.exec(q.expr);
      if (!outer) continue;
      const by = outer[1]!.split(',').map((l) => l.trim());
      assert.ok(by.some((l) => ['configuration', 'invoker_name', 'job'].includes(l)), `panel "${q.panel}" ${q.refId} aggregates by (${by.join(', ')}): ${q.expr}`);
    }
  });

  it('filters live progress by push time (60 s)', () => {
    for (const q of dashboardQueries(dash)) {
      if (!/sidestash_session_(?:running|progress_bytes|stored_bytes|rate_bytes_per_second|eta_seconds)/.test(q.expr)) continue;
      assert.ok(q.expr.includes('(time() - push_time_seconds{job="sidestash-progress"} < 60)'), `panel "${q.panel}" ${q.refId}: ${q.expr}`);
    }
  });

  it('shows values in fitting units', () => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        const unit = unitOf(p, t.refId);
        const where = `panel "${p.title}" ${t.refId} (${t.expr})`;
        if (/\* 1000$/.test(t.expr)) assert.equal(unit, 'dateTimeFromNow', `${where}: a timestamp in ms`);
        else if (/rate_bytes_per_second/.test(t.expr)) assert.equal(unit, 'Bps', where);
        else if (/_bytes\b|_bytes\{/.test(t.expr)) assert.equal(unit, 'bytes', where);
        else if (/(?:duration|age|eta|period)_seconds/.test(t.expr)) assert.equal(unit, 's', where);
        else if (/^time\(\) - /.test(t.expr)) assert.equal(unit, 's', where);
      }
    }
  });

  it('the contract is what sidestash really produces: every name in it is pushed by the controller or on its /metrics', async () => {
    const produced = await metricNamesProduced();
    const missing = [...CONTRACT_METRICS].filter((m) => !produced.has(m) && m !== 'push_failure_time_seconds');
    assert.deepEqual(missing, []);
  });

  it('opens on the last 24 hours and refreshes itself', () => {
    assert.deepEqual(dash.time, { from: 'now-24h', to: 'now' });
    assert.ok(dash.refresh, 'auto-refresh');
  });
});
