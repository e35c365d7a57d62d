// The real-Prometheus test helper itself: it scrapes an HTTPS target through the given CA and
// bearer token, reports a target it cannot scrape (an unknown CA) by its error, and turns a
// PromQL error into a thrown error (which the dashboard and alert tests rely on), and can make
// alerts fire at once (forOverride).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPrometheus } from './helpers/prometheus.ts';
import { makeTestPki } from './helpers/tls.ts';
import { tempDir } from './helpers/tmp.ts';

describe('test helper: a real Prometheus', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: ReturnType<typeof createServer>;
  let url: string;
  before(async () => {
    dir = await tempDir('sidestash-prom-helper-');
    const pki = await makeTestPki(dir.path);
    server = createServer({ cert: await readFile(pki.certFile), key: await readFile(pki.keyFile) }, (req, res) => {
      if (req.headers.authorization !== 'Bearer s3cret') return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('# TYPE sidestash_test_value gauge\nsidestash_test_value{a="b"} 42\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await dir.cleanup();
  });

  it('scrapes an HTTPS target with a CA and a bearer token, reports one without the CA as down, and throws on a PromQL error', async () => {
    // One Prometheus (they take 5 s to scrape first): the same server as two jobs, with and without the CA.
    const rules = join(dir.path, 'test.rules.yaml');
    await writeFile(rules, 'groups:\n  - name: t\n    rules:\n      - alert: TestValueHigh\n        expr: sidestash_test_value > 40\n        for: 1h\n        annotations: {summary: "value {{ $value }}"}\n');
    const prom = await startPrometheus({ targets: [{ job: 'controller', url, caFile: join(dir.path, 'ca.crt'), serverName: 'localhost', bearerToken: 's3cret' }, { job: 'no-ca', url, bearerToken: 's3cret' }], ruleFiles: [rules], forOverride: '0s' });
    try {
      await assert.rejects(prom.waitForScrape(), /targets down: https:\/\/127\.0\.0\.1:\d+\/metrics down .*certificate/);
      // The other job may be scraped a moment later.
      const health = await prom.waitFor('the controller job up', async () => {
        const h = Object.fromEntries((await prom.targets()).map((t) => [t.labels.job, t.health]));
        return h.controller === 'up' ? h : undefined;
      });
      assert.deepEqual(health, { controller: 'up', 'no-ca': 'down' });
      assert.deepEqual(await prom.query('sidestash_test_value'), [{ metric: { __name__: 'sidestash_test_value', a: 'b', job: 'controller', instance: new URL(url).host }, value: 42 }]);
      assert.deepEqual(await prom.query('1 + 1'), [{ metric: {}, value: 2 }]);
      await assert.rejects(prom.query('max by (a) (sidestash_test_value'), /bad_data/);
      const alerts = await prom.waitFor('the alert', async () => ((await prom.alerts()).length > 0 ? prom.alerts() : undefined));
      assert.deepEqual(alerts.map((a) => [a.labels.alertname, a.labels.a, a.state, a.annotations.summary]), [['TestValueHigh', 'b', 'firing', 'value 42']], 'for: 1h overridden to 0s');
    } finally {
      await prom.stop();
    }
  });
});
