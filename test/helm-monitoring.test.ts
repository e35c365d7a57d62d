// The chart's monitoring objects with the real helm: the optional PrometheusRule is the shipped
// rules file unchanged (and valid for promtool), the dashboard ConfigMap holds the shipped
// dashboard, and the Pushgateway ServiceMonitor refuses an empty selector (which would match
// every Service), both by the values schema and by the template itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ALERT_RULES_FILE } from './helpers/alert-rules.ts';
import { parseManifests, toolPath } from './helpers/kube-validate.ts';
import type { KubeObject } from './helpers/kube-validate.ts';
import { tempDir } from './helpers/tmp.ts';

const run = promisify(execFile);
const CHART = join(import.meta.dirname, '..', 'charts', 'sidestash');
const helm = toolPath('helm');

async function render(...args: string[]): Promise<KubeObject[]> {
  const { stdout } = await run(helm, ['template', 'rel', CHART, '--namespace', 'sidestash', '--kube-version', '1.30.0', ...args], { maxBuffer: 16 * 1024 * 1024 });
  return parseManifests(stdout);
}

describe('helm chart: monitoring', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => (dir = await tempDir('sidestash-helm-mon-')));
  after(() => dir.cleanup());

  it('renders no PrometheusRule by default', async () => {
    assert.ok(!(await render()).some((o) => o.kind === 'PrometheusRule'));
  });

  it('renders the shipped rules file unchanged as the optional PrometheusRule, which promtool accepts', async () => {
    const objects = await render('--set', 'metrics.prometheusRule.enabled=true', '--set', 'metrics.prometheusRule.labels.release=prometheus', '--set', 'metrics.prometheusRule.namespace=monitoring');
    const rules = objects.filter((o) => o.kind === 'PrometheusRule') as (KubeObject & { spec: unknown })[];
    assert.equal(rules.length, 1);
    const rule = rules[0]!;
    assert.equal(rule.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(rule.metadata.namespace, 'monitoring');
    assert.equal(rule.metadata.labels?.release, 'prometheus');
    assert.deepEqual(rule.spec, parse(await readFile(ALERT_RULES_FILE, 'utf8')));
    const file = join(dir.path, 'rendered.rules.yaml');
    await writeFile(file, JSON.stringify(rule.spec));
    const { stdout } = await run('promtool', ['check', 'rules', file]);
    assert.match(stdout, /SUCCESS: 10 rules found/);
  });

  it('ships the dashboard file unchanged in the dashboard ConfigMap', async () => {
    const objects = await render('--set', 'grafana.dashboard.enabled=true');
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'rel-sidestash-dashboard') as KubeObject & { data: Record<string, string> };
    assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
    assert.deepEqual(JSON.parse(cm.data['sidestash.json']!), JSON.parse(await readFile(join(CHART, 'dashboards', 'sidestash.json'), 'utf8')));
  });

  it('scrapes the Pushgateway with honorLabels through the given selector', async () => {
    const objects = await render('--set', 'metrics.pushgatewayServiceMonitor.enabled=true', '--set', 'metrics.pushgatewayServiceMonitor.selector.matchLabels.app=pushgateway');
    const sm = objects.find((o) => o.kind === 'ServiceMonitor' && o.metadata.name === 'rel-sidestash-pushgateway') as KubeObject & { spec: { selector: unknown; endpoints: { honorLabels: boolean }[] } };
    assert.deepEqual(sm.spec.selector, { matchLabels: { app: 'pushgateway' } });
    assert.equal(sm.spec.endpoints[0]!.honorLabels, true);
    const expr = await render('--set', 'metrics.pushgatewayServiceMonitor.enabled=true', '--set-json', 'metrics.pushgatewayServiceMonitor.selector={"matchExpressions":[{"key":"app","operator":"Exists"}]}');
    assert.ok(expr.some((o) => o.kind === 'ServiceMonitor' && o.metadata.name === 'rel-sidestash-pushgateway'));
  });

  for (const [what, selector] of [['no selector', undefined], ['{}', '{}'], ['empty matchLabels', '{"matchLabels":{}}'], ['empty matchExpressions', '{"matchExpressions":[]}'], ['null', 'null']] as const) {
    it(`refuses a Pushgateway ServiceMonitor with ${what} as its selector`, async () => {
      const args = ['--set', 'metrics.pushgatewayServiceMonitor.enabled=true', ...(selector === undefined ? [] : ['--set-json', `metrics.pushgatewayServiceMonitor.selector=${selector}`])];
      // The values schema refuses it...
      await assert.rejects(render(...args), /pushgatewayServiceMonitor/);
      // ...and so does the template where the schema is skipped.
      await assert.rejects(render('--skip-schema-validation', ...args), /pushgatewayServiceMonitor\.selector must select the Pushgateway's Service/);
    });
  }
});
