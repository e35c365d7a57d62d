import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { makeTestPki } from '../../test/helpers/tls.ts';
import { publishCaBundle } from './ca-bundle-publisher.ts';
import { loadOrGenerateTls } from './webhook-tls.ts';

it('generates a CA and serving certificate once and keeps them across restarts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sidestash-tls-'));
  try {
    const first = await loadOrGenerateTls(dir, ['sidestash.sidestash.svc']);
    const cert = new X509Certificate(first.cert);
    const ca = new X509Certificate(first.caCert!);
    assert.ok(cert.verify(ca.publicKey), 'signed by the CA');
    assert.ok(cert.checkHost('sidestash.sidestash.svc'));
    assert.ok(ca.ca);
    assert.equal((await stat(join(dir, 'webhook.key'))).mode & 0o777, 0o600);
    const again = await loadOrGenerateTls(dir, ['sidestash.sidestash.svc']);
    assert.equal(again.caCert, first.caCert);
    const renamed = await loadOrGenerateTls(dir, ['other.svc']);
    assert.notEqual(renamed.cert, first.cert, 'new names, new certificate');
    assert.equal(renamed.caCert, first.caCert, 'signed by the kept CA, so clients keep trusting it');
    assert.ok(new X509Certificate(renamed.cert).verify(ca.publicKey));
    assert.equal((await stat(join(dir, 'webhook-ca.key'))).mode & 0o777, 0o600);
    const api = await loadOrGenerateTls(dir, ['localhost'], { prefix: 'api', caName: 'sidestash API CA' });
    assert.notEqual(api.caCert, first.caCert, 'the API has its own CA');
    assert.match(new X509Certificate(api.caCert!).subject, /sidestash API CA/);
    assert.ok(new X509Certificate(api.cert).checkIP('127.0.0.1'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('publishes the CA into every webhook of the MutatingWebhookConfiguration with a JSON patch', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sidestash-kube-'));
  const pki = await makeTestPki(dir);
  const seen: { method: string; path: string; auth: string; type: string; body: string }[] = [];
  const api = createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, path: req.url!, auth: req.headers.authorization ?? '', type: req.headers['content-type'] ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ webhooks: [{ clientConfig: {} }, { clientConfig: {} }] }));
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  try {
    const n = await publishCaBundle({ apiUrl: `https://127.0.0.1:${(api.address() as AddressInfo).port}`, token: 'sa-token', caCert: pki.caCert }, 'rel-sidestash-injector', 'CA PEM');
    assert.equal(n, 2);
    assert.equal(seen[1]!.method, 'PATCH');
    assert.equal(seen[1]!.path, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/rel-sidestash-injector');
    assert.equal(seen[1]!.auth, 'Bearer sa-token');
    assert.equal(seen[1]!.type, 'application/json-patch+json');
    assert.deepEqual(JSON.parse(seen[1]!.body), [0, 1].map((i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: Buffer.from('CA PEM').toString('base64') })));
  } finally {
    api.close();
    await rm(dir, { recursive: true, force: true });
  }
});
