// The Grafana dashboard: valid JSON, a datasource variable used by every panel and query, and
// only metric names that sidestash really produces: the controller's pushes (Stash's metrics,
// live progress) and its /metrics.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { metricNamesProduced } from './helpers/metric-names.ts';

const PRODUCED = await metricNamesProduced();

it('the dashboard queries only pushed metrics through the datasource variable', async () => {
  const dash = JSON.parse(await readFile(join(import.meta.dirname, '..', 'charts', 'sidestash', 'dashboards', 'sidestash.json'), 'utf8')) as {
    uid: string;
    templating: { list: { name: string; type: string }[] };
    panels: { title: string; datasource: { uid: string }; targets: { expr: string; datasource: { uid: string } }[]; gridPos: object }[];
  };
  assert.ok(dash.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
  const wanted = ['stash_backup_last_success_time_seconds', 'stash_backup_session_duration_seconds', 'stash_backup_host_data_size_bytes', 'stash_repository_size_bytes', 'stash_backup_session_success'];
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
  for (const m of wanted) assert.ok(exprs.includes(m), `dashboard shows ${m}`);
  const ids = new Set<number>();
  for (const p of dash.panels) {
    assert.equal(p.datasource.uid, '${datasource}', p.title);
    assert.ok(p.gridPos);
    for (const t of p.targets) {
      assert.equal(t.datasource.uid, '${datasource}');
      for (const metric of t.expr.match(/\b(stash|sidestash)_[a-z_]+\b/g) ?? []) assert.ok(PRODUCED.has(metric), `${metric} is produced by sidestash`);
    }
    ids.add((p as unknown as { id: number }).id);
  }
  assert.equal(ids.size, dash.panels.length, 'panel ids are unique');
});
