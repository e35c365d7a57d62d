// The watch cache (controller/kubernetes/informer.ts) against a real kube-apiserver: it sees
// what kubectl does; a dropped watch connection resumes from its resourceVersion without losing
// an event (and without listing again); and after etcd has compacted the history it would resume
// from, the server's 410 Gone makes it list again, so that it ends equal to the server, deletions
// made meanwhile included. ConfigMaps are served from etcd here (no watch cache,
// --watch-cache-sizes=configmaps#0) so that a compaction expires a resourceVersion at once;
// Secrets keep the API server's watch cache.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeClient } from '../controller/kubernetes/kube-client.ts';
import { loadKubeConnection } from '../controller/kubernetes/kube-config.ts';
import { Informer } from '../controller/kubernetes/informer.ts';
import type { InformerEventType } from '../controller/kubernetes/informer.ts';
import { ConfigMaps, Secrets } from '../controller/kubernetes/resource-type.ts';
import type { KubeObject } from '../controller/kubernetes/resource-type.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';
import { waitFor } from './helpers/scenario.ts';
import { startTcpCutter } from './helpers/tcp-cutter.ts';
import type { TcpCutter } from './helpers/tcp-cutter.ts';

interface Obj extends KubeObject {
  data?: Record<string, string>;
}

let kube: KubeApiServer;
let cutter: TcpCutter;
let direct: KubeClient;
let viaCutter: KubeClient;
const stop = new AbortController();
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };
before(async () => {
  kube = await startKubeApiServer({ apiServerArgs: ['--watch-cache-sizes=configmaps#0'] });
  cutter = await startTcpCutter(kube.url);
  const conn = loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig });
  direct = new KubeClient(conn);
  viaCutter = new KubeClient({ ...conn, server: cutter.url });
});
after(async () => {
  stop.abort();
  await viaCutter?.close();
  await direct?.close();
  await cutter?.stop();
  await kube?.stop();
});

const record = (informer: Informer<Obj>): string[] => {
  const seen: string[] = [];
  informer.on((type: InformerEventType, o) => seen.push(`${type} ${o.metadata.name}${o.data?.v ? `=${o.data.v}` : ''}`));
  return seen;
};
const names = (informer: Informer<Obj>, ns: string): string[] => informer.list(ns).map((o) => o.metadata.name!).sort();
const serverState = async (type: typeof ConfigMaps, ns: string): Promise<string[]> =>
  (await direct.list<Obj>(type, ns)).items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
const cacheState = (informer: Informer<Obj>, ns: string): string[] => informer.list(ns).map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();

test('the cache lists what exists, then sees creates, updates and deletes made with kubectl, in order', async () => {
  await kube.kubectlOk(['create', 'namespace', 'seen']);
  await kube.kubectlOk(['-n', 'seen', 'create', 'secret', 'generic', 'before', '--from-literal=v=0']);
  const informer = new Informer<Obj>(direct, { type: Secrets, namespace: 'seen', signal: stop.signal });
  const seen = record(informer);
  await informer.synced();
  assert.deepEqual(names(informer, 'seen'), ['before']);
  await kube.kubectlOk(['-n', 'seen', 'create', 'secret', 'generic', 'one', '--from-literal=v=1']);
  await kube.kubectlOk(['-n', 'seen', 'patch', 'secret', 'one', '-p', '{"stringData":{"v":"2"}}']);
  await kube.kubectlOk(['-n', 'seen', 'delete', 'secret', 'before']);
  await waitFor('the informer to see the delete', 30_000, async () => (informer.get('seen', 'before') === undefined ? true : undefined));
  // Secret data is base64 on the wire: the cache holds the objects as the server sends them.
  assert.deepEqual(seen, ['ADDED before=MA==', 'ADDED one=MQ==', 'MODIFIED one=Mg==', 'DELETED before=MA==']);
  assert.deepEqual(cacheState(informer, 'seen'), await serverState(Secrets, 'seen'));
  assert.equal(informer.stats.lists, 1);
});

test('a dropped watch connection resumes from its resourceVersion: nothing made meanwhile is lost, no re-list', async () => {
  await kube.kubectlOk(['create', 'namespace', 'dropped']);
  await kube.kubectlOk(['-n', 'dropped', 'create', 'secret', 'generic', 'old', '--from-literal=v=0']);
  const informer = new Informer<Obj>(viaCutter, { type: Secrets, namespace: 'dropped', signal: stop.signal, log: quiet, backoff: { attempts: Infinity, baseDelayMs: 100, maxDelayMs: 500 } });
  const seen = record(informer);
  await informer.synced();
  await waitFor('the watch to be open', 30_000, async () => (informer.stats.watches >= 1 ? true : undefined));
  cutter.hold();
  cutter.cut();
  await kube.kubectlOk(['-n', 'dropped', 'create', 'secret', 'generic', 'during', '--from-literal=v=1']);
  await kube.kubectlOk(['-n', 'dropped', 'patch', 'secret', 'during', '-p', '{"stringData":{"v":"2"}}']);
  await kube.kubectlOk(['-n', 'dropped', 'delete', 'secret', 'old']);
  await waitFor('the informer to fail to reconnect while held', 30_000, async () => (informer.stats.failures >= 1 ? true : undefined));
  cutter.release();
  await waitFor('the informer to catch up', 60_000, async () => (seen.length >= 4 ? true : undefined));
  assert.deepEqual(seen, ['ADDED old=MA==', 'ADDED during=MQ==', 'MODIFIED during=Mg==', 'DELETED old=MA==']);
  assert.deepEqual(cacheState(informer, 'dropped'), await serverState(Secrets, 'dropped'));
  assert.equal(informer.stats.lists, 1, 'resumed by watching from the last resourceVersion, not by listing again');
});

/** Compacts etcd's history up to its current revision: older resourceVersions are gone. */
async function compactEtcd(): Promise<number> {
  const range = await (await fetch(`${kube.etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) })).json() as { header: { revision: string } };
  const revision = Number(range.header.revision);
  const res = await fetch(`${kube.etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(revision), physical: true }) });
  assert.equal(res.status, 200, await res.text());
  return revision;
}

test('410 Gone after a compaction: the informer lists again and ends equal to the server, deletions included', async () => {
  await kube.kubectlOk(['create', 'namespace', 'gone']);
  for (const n of ['keep', 'change', 'remove']) await kube.kubectlOk(['-n', 'gone', 'create', 'configmap', n, '--from-literal=v=0']);
  const informer = new Informer<Obj>(viaCutter, { type: ConfigMaps, namespace: 'gone', signal: stop.signal, log: quiet, backoff: { attempts: Infinity, baseDelayMs: 100, maxDelayMs: 500 } });
  const seen = record(informer);
  await informer.synced();
  await waitFor('the watch to be open', 30_000, async () => (informer.stats.watches >= 1 ? true : undefined));
  const rv = informer.resourceVersion!;
  cutter.hold();
  cutter.cut();
  await kube.kubectlOk(['-n', 'gone', 'patch', 'configmap', 'change', '-p', '{"data":{"v":"1"}}']);
  await kube.kubectlOk(['-n', 'gone', 'delete', 'configmap', 'remove']);
  await kube.kubectlOk(['-n', 'gone', 'create', 'configmap', 'new', '--from-literal=v=1']);
  await compactEtcd();
  // The server itself says the informer's resourceVersion is gone.
  const probe = await kube.request('GET', `/api/v1/namespaces/gone/configmaps?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
  assert.match(JSON.stringify(probe.body), /"code":410/, 'a watch from the old resourceVersion is 410 Gone');
  cutter.release();
  // The re-list counts when it starts; its result reaches the cache a moment later (slowly under load).
  await waitFor('the informer to list again', 60_000, async () => (informer.stats.expired >= 1 && informer.stats.lists >= 2 && names(informer, 'gone').join() === 'change,keep,new' ? true : undefined));
  assert.deepEqual(names(informer, 'gone'), ['change', 'keep', 'new']);
  assert.deepEqual(cacheState(informer, 'gone'), await serverState(ConfigMaps, 'gone'));
  assert.deepEqual(seen.slice(3).sort(), ['ADDED new=1', 'DELETED remove=0', 'MODIFIED change=1']);
  // And it keeps watching from the new list's resourceVersion.
  await kube.kubectlOk(['-n', 'gone', 'delete', 'configmap', 'keep']);
  await waitFor('the delete after the re-list', 30_000, async () => (informer.get('gone', 'keep') === undefined ? true : undefined));
});

test('a listener that throws does not stop the others or the cache', async () => {
  await kube.kubectlOk(['create', 'namespace', 'throws']);
  const informer = new Informer<Obj>(direct, { type: ConfigMaps, namespace: 'throws', signal: stop.signal, log: quiet });
  informer.on(() => {
    throw new Error('listener bug');
  });
  const seen = record(informer);
  await informer.synced();
  await kube.kubectlOk(['-n', 'throws', 'create', 'configmap', 'a', '--from-literal=v=1']);
  await waitFor('the event', 30_000, async () => (seen.length === 1 ? true : undefined));
  assert.deepEqual(seen, ['ADDED a=1']);
});

test('aborting the signal ends the informer; synced() of one stopped before its list rejects', async () => {
  const ac = new AbortController();
  const informer = new Informer<Obj>(direct, { type: ConfigMaps, namespace: 'throws', signal: ac.signal });
  await informer.synced();
  ac.abort();
  await informer.done;
  const unreachable = new KubeClient({ ...loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }), server: 'https://127.0.0.1:1' });
  const never = new Informer<Obj>(unreachable, { type: ConfigMaps, signal: AbortSignal.abort(), log: quiet });
  await assert.rejects(never.synced());
  await never.done;
  await unreachable.close();
});

// Last in the file: it restarts the file's API server.
test('the API server killed and started again: the informer reconnects and ends equal to the server, changes after the restart included', async () => {
  await kube.kubectlOk(['create', 'namespace', 'restart']);
  await kube.kubectlOk(['-n', 'restart', 'create', 'secret', 'generic', 'before', '--from-literal=v=0']);
  const informer = new Informer<Obj>(direct, { type: Secrets, namespace: 'restart', signal: stop.signal, log: quiet, backoff: { attempts: Infinity, baseDelayMs: 200, maxDelayMs: 1000 } });
  const seen = record(informer);
  await informer.synced();
  await waitFor('the watch to be open', 30_000, async () => (informer.stats.watches >= 1 ? true : undefined));
  await kube.restartApiServer();
  await kube.kubectlOk(['-n', 'restart', 'create', 'secret', 'generic', 'after', '--from-literal=v=1']);
  await kube.kubectlOk(['-n', 'restart', 'delete', 'secret', 'before']);
  await waitFor('the informer to catch up', 60_000, async () => (informer.get('restart', 'before') === undefined && informer.get('restart', 'after') ? true : undefined));
  assert.ok(informer.stats.failures + informer.stats.expired >= 1, 'it noticed the restart');
  assert.deepEqual(cacheState(informer, 'restart'), await serverState(Secrets, 'restart'));
  assert.deepEqual(seen, ['ADDED before=MA==', 'ADDED after=MQ==', 'DELETED before=MA==']);
});
