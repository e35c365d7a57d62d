// The Kubernetes-mode tests' control plane (test/helpers/kube-apiserver.ts) is real: a custom
// resource definition is served, RBAC refuses an unauthorised token, and stop() ends the processes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';

let kube: KubeApiServer;
before(async () => {
  kube = await startKubeApiServer();
});
after(async () => kube?.stop());

test('kubectl and the REST API reach the same real API server', async () => {
  await kube.kubectlOk(['create', 'namespace', 'helper-check']);
  const r = await kube.request('GET', '/api/v1/namespaces/helper-check');
  assert.equal(r.status, 200);
  assert.equal(r.body.metadata.name, 'helper-check');
  assert.match(kube.serviceCidr, /^127\.10\.\d+\.0\/24$/);
});

test('a token the server does not know is refused', async () => {
  const res = await fetch(`${kube.url}/api/v1/namespaces`, { headers: { authorization: 'Bearer not-a-token' } }).catch((err: Error) => err);
  // Without the CA the TLS handshake itself fails; with it (kube.request) the admin is accepted.
  assert.ok(res instanceof Error);
  const out = await kube.kubectl(['--token', 'not-a-token', 'get', 'namespaces']);
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /Unauthorized|must be logged in/);
});
