// SIDESTASH_STORE and Kubernetes mode's settings: parsed with the controller's configuration,
// every problem reported together with its variable; the sqlite mode is the default and is
// unchanged (no Kubernetes settings read).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSidestashError } from '../../common/errors.ts';
import { parseControllerConfig } from '../config.ts';

const dir = mkdtempSync(join(tmpdir(), 'sidestash-kmode-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: abc } }]
contexts: [{ name: x, context: { cluster: c, user: u, namespace: ops } }]
current-context: x
`);
const base = { SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789abcdef', SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_DB: join(dir, 'c.db') };
const kube = { ...base, SIDESTASH_STORE: 'kubernetes', SIDESTASH_KUBECONFIG: kubeconfig };

function problems(env: Record<string, string>): string[] {
  try {
    parseControllerConfig(env);
  } catch (err) {
    if (isSidestashError(err)) return err.details.problems as string[];
    throw err;
  }
  return [];
}

describe('SIDESTASH_STORE', () => {
  it('is sqlite by default, without Kubernetes settings', () => {
    const c = parseControllerConfig(base);
    assert.equal(c.store, 'sqlite');
    assert.equal(c.kubernetes, undefined);
  });
  it('kubernetes: the kubeconfig, all namespaces, the Lease in the context namespace, identity from POD_NAME', () => {
    const c = parseControllerConfig({ ...kube, POD_NAME: 'sidestash-0' });
    assert.equal(c.store, 'kubernetes');
    assert.equal(c.kubernetes!.connection.server, 'https://127.0.0.1:6443');
    assert.deepEqual(c.kubernetes!.watchNamespaces, []);
    assert.equal(c.kubernetes!.leaderElection.namespace, 'ops');
    assert.equal(c.kubernetes!.leaderElection.name, 'sidestash-controller');
    assert.match(c.kubernetes!.leaderElection.identity, /^sidestash-0_[0-9a-f]{12}$/);
  });
  it('POD_NAMESPACE and SIDESTASH_LEADER_ELECTION_NAMESPACE place the Lease; namespaces listed', () => {
    assert.equal(parseControllerConfig({ ...kube, POD_NAMESPACE: 'sidestash' }).kubernetes!.leaderElection.namespace, 'sidestash');
    const c = parseControllerConfig({ ...kube, POD_NAMESPACE: 'sidestash', SIDESTASH_LEADER_ELECTION_NAMESPACE: 'leases', SIDESTASH_WATCH_NAMESPACES: 'shop, billing,shop' });
    assert.equal(c.kubernetes!.leaderElection.namespace, 'leases');
    assert.deepEqual(c.kubernetes!.watchNamespaces, ['shop', 'billing']);
  });
  it('an unknown mode is refused by name', () => {
    assert.deepEqual(problems({ ...base, SIDESTASH_STORE: 'etcd' }), ['SIDESTASH_STORE: "etcd" is not one of sqlite, kubernetes']);
  });
  it('reports every problem together, each with its variable', () => {
    const p = problems({
      ...base, SIDESTASH_STORE: 'kubernetes', SIDESTASH_KUBECONFIG: join(dir, 'missing'), SIDESTASH_WATCH_NAMESPACES: 'shop,Bad_NS',
      SIDESTASH_LEADER_ELECTION_NAMESPACE: 'No', POD_NAME: 'UPPER', SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'bootstrap-token-0123456789',
      SIDESTASH_LEADER_ELECTION_LEASE: '5s', SIDESTASH_LEADER_ELECTION_RENEW_DEADLINE: '10s',
    });
    const vars = p.map((x) => x.split(':')[0]);
    assert.deepEqual(vars, ['SIDESTASH_STORE=kubernetes', 'SIDESTASH_WATCH_NAMESPACES', 'SIDESTASH_LEADER_ELECTION_NAMESPACE', 'POD_NAME', 'SIDESTASH_LEADER_ELECTION_LEASE, SIDESTASH_LEADER_ELECTION_RENEW_DEADLINE, SIDESTASH_LEADER_ELECTION_RETRY_PERIOD', 'SIDESTASH_AGENT_BOOTSTRAP_TOKEN'], p.join('\n'));
    assert.match(p[0]!, /SIDESTASH_KUBECONFIG: cannot read/);
  });
  it('the bootstrap token stays a sqlite-mode setting', () => {
    assert.equal(parseControllerConfig({ ...base, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'bootstrap-token-0123456789' }).agentTokens.length, 1);
  });
});
