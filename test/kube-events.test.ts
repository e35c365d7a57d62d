// Events (controller/kubernetes/event-recorder.ts) as the real kubectl describe shows them: an
// event recorded for a ConfigMap appears under its Events, repeats are one Event with a count,
// and recording never blocks or throws, even with the API server unreachable.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EventRecorder } from '../controller/kubernetes/event-recorder.ts';
import type { CoreEvent } from '../controller/kubernetes/event-recorder.ts';
import { KubeClient } from '../controller/kubernetes/kube-client.ts';
import { loadKubeConnection } from '../controller/kubernetes/kube-config.ts';
import { ConfigMaps, CoreEvents } from '../controller/kubernetes/resource-type.ts';
import type { KubeObject } from '../controller/kubernetes/resource-type.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };
let kube: KubeApiServer;
let client: KubeClient;
before(async () => {
  kube = await startKubeApiServer();
  client = new KubeClient(loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }));
  await kube.kubectlOk(['create', 'namespace', 'ev']);
});
after(async () => {
  await client?.close();
  await kube?.stop();
});

const configMap = async (name: string): Promise<KubeObject> => {
  const cm = await client.create<KubeObject>(ConfigMaps, { metadata: { name, namespace: 'ev' } });
  return { ...cm, apiVersion: 'v1', kind: 'ConfigMap' };
};
const asInvolved = (o: KubeObject) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: o.metadata });

test('an event recorded for a ConfigMap shows in kubectl describe, with its type, reason and message', async () => {
  const cm = await configMap('described');
  const recorder = new EventRecorder(client, { component: 'sidestash-controller', instance: 'test-replica', log: quiet });
  recorder.record(asInvolved(cm), 'Normal', 'SessionStarted', 'BackupSession ev/nightly-1 started');
  recorder.record(asInvolved(cm), 'Warning', 'SessionFailed', 'BackupSession ev/nightly-1 failed: dump exited 2');
  await recorder.flush();
  const out = await kube.kubectlOk(['-n', 'ev', 'describe', 'configmap', 'described']);
  assert.match(out, /Events:/);
  assert.match(out, /Normal\s+SessionStarted\s+.*sidestash-controller\s+BackupSession ev\/nightly-1 started/);
  assert.match(out, /Warning\s+SessionFailed\s+.*sidestash-controller\s+BackupSession ev\/nightly-1 failed: dump exited 2/);
  assert.equal(recorder.dropped, 0);
});

test('the same event again is one Event with a count (describe: "x3 over"); another object or reason is another', async () => {
  const cm = await configMap('repeated');
  const other = await configMap('other');
  const recorder = new EventRecorder(client, { component: 'sidestash-controller', instance: 'test-replica', log: quiet });
  for (let i = 0; i < 3; i++) recorder.record(asInvolved(cm), 'Normal', 'RetentionApplied', 'kept 7, removed 1 snapshot');
  recorder.record(asInvolved(cm), 'Normal', 'SessionStarted', 'started');
  recorder.record(asInvolved(other), 'Normal', 'RetentionApplied', 'kept 7, removed 1 snapshot');
  await recorder.flush();
  const events = (await client.list<CoreEvent>(CoreEvents, 'ev', { fieldSelector: 'involvedObject.name=repeated' })).items;
  assert.deepEqual(events.map((e) => `${e.reason}:${e.count}`).sort(), ['RetentionApplied:3', 'SessionStarted:1']);
  assert.equal(events.find((e) => e.reason === 'RetentionApplied')!.involvedObject.uid, cm.metadata.uid);
  const out = await kube.kubectlOk(['-n', 'ev', 'describe', 'configmap', 'repeated']);
  assert.match(out, /RetentionApplied\s+\S+\s+\(x3 over \S+\)\s+sidestash-controller\s+kept 7, removed 1 snapshot/);
  // An object deleted and made again under the same name (new uid) does not show the old one's events.
  await client.delete(ConfigMaps, 'ev', 'other');
  await configMap('other');
  assert.doesNotMatch(await kube.kubectlOk(['-n', 'ev', 'describe', 'configmap', 'other']), /RetentionApplied/);
});

test('recording never throws or waits: invalid input and an unreachable API server are dropped and counted', async () => {
  const cm = await configMap('unreachable');
  const gone = new KubeClient({ ...loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }), server: 'https://127.0.0.1:1' }, { requestTimeoutMs: 500 });
  const recorder = new EventRecorder(gone, { component: 'sidestash-controller', instance: 'r', log: quiet, maxQueue: 1 });
  const startedMs = Date.now();
  recorder.record(asInvolved(cm), 'Normal', 'SessionStarted', 'a'); // taken by the writer at once
  recorder.record(asInvolved(cm), 'Normal', 'SessionStarted', 'b'); // the one place in the queue
  recorder.record(asInvolved(cm), 'Normal', 'SessionStarted', 'c (queue full)');
  recorder.record(asInvolved(cm), 'Fatal' as 'Normal', 'SessionStarted', 'not a type');
  recorder.record(asInvolved(cm), 'Normal', 'not a reason', 'x');
  recorder.record({ ...asInvolved(cm), metadata: { name: '../x', namespace: 'ev' } }, 'Normal', 'SessionStarted', 'x');
  assert.ok(Date.now() - startedMs < 100, 'record() returned at once');
  assert.equal(recorder.dropped, 4, 'queue full + three invalid');
  await recorder.flush();
  assert.equal(recorder.dropped, 6, 'both queued events dropped after retries');
  await gone.close();
});

test('kubectl describe of a custom resource shows its events too (what the CRDs of sidestash.io rely on)', async () => {
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.events-test.example' },
      spec: { group: 'events-test.example', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
    }),
  });
  await kube.kubectlOk(['wait', '--for=condition=Established', 'crd/widgets.events-test.example', '--timeout=60s']);
  const created = await kube.request('POST', '/apis/events-test.example/v1/namespaces/ev/widgets', { apiVersion: 'events-test.example/v1', kind: 'Widget', metadata: { name: 'w1' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const recorder = new EventRecorder(client, { component: 'sidestash-controller', instance: 'r', log: quiet });
  recorder.record({ apiVersion: 'events-test.example/v1', kind: 'Widget', metadata: created.body.metadata }, 'Warning', 'SessionFailed', 'no agent served ev/w1');
  await recorder.flush();
  assert.match(await kube.kubectlOk(['-n', 'ev', 'describe', 'widget', 'w1']), /Warning\s+SessionFailed\s+.*sidestash-controller\s+no agent served ev\/w1/);
});
