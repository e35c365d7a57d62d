// The Helm chart on a real kube-apiserver (with kube-controller-manager, so Deployments get Pods):
// the README's `helm install` command, the CRDs and the release's objects; then the mutating
// webhook called BY the API server through the chart's Service, served by the real controller
// process running with the chart's own configuration and Secrets on the Service's cluster IP.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { publishCaBundle } from '../controller/webhook/ca-bundle-publisher.ts';
import { AGENT_CONTAINER, ANNOTATIONS } from '../controller/webhook/injector.ts';
import { SIDESTASH_CRD_KINDS } from '../scripts/crds/crd-manifests.ts';
import { chartControllerEnv } from './helpers/chart-controller.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer, KubectlResult } from './helpers/kube-apiserver.ts';
import { podSpecProblems, toolPath } from './helpers/kube-validate.ts';
import { startController } from './helpers/stack.ts';
import type { ControllerProc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..');
const RELEASE = 'sidestash';
const RELEASE_NS = 'sidestash';
const APP_NS = 'shop';
// The command README.md documents, word for word (plus --kubeconfig).
const README_INSTALL = ['install', 'sidestash', 'charts/sidestash', '-n', 'sidestash', '--create-namespace', '-f', 'charts/sidestash/examples/values-mariadb-official.yaml'];

let kube: KubeApiServer;
let tmp: { path: string; cleanup: () => Promise<void> };
let controller: ControllerProc | undefined;

const helm = (args: string[]): Promise<KubectlResult> =>
  new Promise((resolve) => {
    execFile(toolPath('helm'), [...args, '--kubeconfig', kube.kubeconfig], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });

const getJson = async (args: string[]): Promise<any> => JSON.parse(await kube.kubectlOk([...args, '-o', 'json']));

/** The pods of a Deployment (created by kube-controller-manager's ReplicaSet controller), once there is one. */
async function podsOf(namespace: string, app?: string): Promise<any[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pods = (await getJson(['-n', namespace, 'get', 'pods', ...(app ? ['-l', `app=${app}`] : [])])).items as any[];
    if (pods.length > 0) return pods;
    if (Date.now() > deadline) throw new Error(`no pod of ${namespace}/${app} within 60 s: ${await kube.kubectl(['-n', namespace, 'get', 'events']).then((r) => r.stdout)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

before(async () => {
  kube = await startKubeApiServer({ withControllerManager: true });
  tmp = await tempDir('sidestash-kube-helm-');
});
after(async () => {
  await controller?.stop();
  await kube?.stop();
  await tmp?.cleanup();
});

describe('helm install into a real API server', () => {
  it("the README's command needs the agents' namespace to exist, and says which", async () => {
    const r = await helm(README_INSTALL);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /namespaces "shop" not found/);
    // A failed install leaves a failed release: uninstall, then install again.
    assert.match((await helm(['list', '-n', RELEASE_NS, '-a'])).stdout, /sidestash\s.*\sfailed\s/);
    const u = await helm(['uninstall', RELEASE, '-n', RELEASE_NS]);
    assert.equal(u.code, 0, u.stderr);
    // Helm installed crds/ before failing, and never deletes them: custom resources outlive a release.
    assert.equal((await kube.kubectl(['get', 'crd', 'backupsessions.sidestash.io'])).code, 0);
  });

  it("installs with the README's command once the namespace exists: CRDs first, then every object of the release", async () => {
    await kube.kubectlOk(['create', 'namespace', APP_NS]);
    const r = await helm(README_INSTALL);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /STATUS: deployed/);

    await kube.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/component=crd']);
    const crds = (await getJson(['get', 'crd'])).items.filter((c: any) => c.spec.group === 'sidestash.io').map((c: any) => c.spec.names.kind);
    assert.deepEqual(crds.sort(), [...SIDESTASH_CRD_KINDS].sort());

    // Every object of the manifest Helm applied is in the API server.
    const manifest = parseAllDocuments((await helm(['get', 'manifest', RELEASE, '-n', RELEASE_NS])).stdout).map((d) => d.toJS()).filter(Boolean) as { kind: string; apiVersion: string; metadata: { name: string; namespace?: string } }[];
    const kinds = new Set(manifest.map((o) => o.kind));
    for (const k of ['Deployment', 'Service', 'MutatingWebhookConfiguration', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Secret', 'PersistentVolumeClaim']) assert.ok(kinds.has(k), `${k} in the release`);
    for (const o of manifest) {
      const [group] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : [''];
      const resource = `${o.kind.toLowerCase()}${group ? `.${group}` : ''}`;
      const got = await kube.kubectl(['get', resource, o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : [])]);
      assert.equal(got.code, 0, `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${got.stderr}`);
    }
    // The enrolment token of the agents' namespace, which injected agents read.
    const token = await getJson(['-n', APP_NS, 'get', 'secret', 'sidestash-agent-token']);
    assert.ok(Buffer.from(token.data.token, 'base64').length >= 32);
    // The Deployment is real: kube-controller-manager made its ReplicaSet and Pod (never Ready: no nodes).
    const [pod] = await podsOf(RELEASE_NS);
    assert.equal(pod.metadata.ownerReferences?.[0]?.kind, 'ReplicaSet', 'the controller Deployment has a Pod');
    assert.deepEqual(pod.spec.containers.map((c: any) => c.name), ['controller']);
  });

  it('lets the controller\'s ServiceAccount patch its own webhook configuration, and no other', async () => {
    const saToken = (await kube.kubectlOk(['-n', RELEASE_NS, 'create', 'token', 'sidestash'])).trim();
    const can = async (args: string[]) => (await kube.kubectl(['auth', 'can-i', '--token', saToken, ...args])).stdout.trim();
    assert.equal(await can(['patch', 'mutatingwebhookconfigurations/sidestash-injector']), 'yes');
    assert.equal(await can(['patch', 'mutatingwebhookconfigurations/another-injector']), 'no');
    assert.equal(await can(['delete', 'mutatingwebhookconfigurations/sidestash-injector']), 'no');
  });
});

describe('the webhook, called by the API server through the Service', () => {
  let webhookCa = '';

  it('runs the controller with the chart\'s settings on the Service\'s cluster IP and publishes its CA', async () => {
    const svc = await getJson(['-n', RELEASE_NS, 'get', 'service', 'sidestash']);
    const cfg = await getJson(['get', 'mutatingwebhookconfiguration', 'sidestash-injector']);
    const ref = cfg.webhooks[0].clientConfig.service;
    assert.deepEqual({ name: ref.name, namespace: ref.namespace, path: ref.path }, { name: 'sidestash', namespace: RELEASE_NS, path: '/mutate' });
    // The API server calls the cluster IP and the Service's port (not targetPort).
    const port = svc.spec.ports.find((p: any) => p.name === 'webhook');
    assert.equal(port.port, ref.port);
    const ip = svc.spec.clusterIP as string;
    assert.ok(ip.startsWith(kube.serviceCidr.replace(/\.0\/24$/, '.')), `${ip} in the loopback range ${kube.serviceCidr}`);
    assert.equal(cfg.webhooks[0].clientConfig.caBundle, undefined, 'the controller publishes the CA, not the chart');

    const { env } = await chartControllerEnv(kube, RELEASE_NS, 'sidestash', tmp.path);
    // Where the pod's container would listen, this host process listens on the Service's address.
    assert.equal(env.SIDESTASH_WEBHOOK_LISTEN, '0.0.0.0:8443');
    const { SIDESTASH_LISTEN: _listen, SIDESTASH_DB: _db, SIDESTASH_ADMIN_TOKEN: _admin, ...chartEnv } = env;
    controller = await startController(tmp.path, { env: { ...chartEnv, SIDESTASH_WEBHOOK_LISTEN: `${ip}:${port.port}` }, caFile: env.SIDESTASH_TLS_CA_FILE! });
    // The API listener is up first; the webhook's (and its generated CA) follow.
    for (const deadline = Date.now() + 30_000; !(await readFile(controller.logFile, 'utf8')).includes('"msg":"webhook listening"');) {
      if (Date.now() > deadline) throw new Error(`the webhook did not listen within 30 s; see ${controller.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Outside a pod it cannot publish the CA itself; the same function does, with the chart's ServiceAccount.
    webhookCa = await readFile(join(tmp.path, 'webhook-ca.crt'), 'utf8');
    const saToken = (await kube.kubectlOk(['-n', RELEASE_NS, 'create', 'token', 'sidestash'])).trim();
    assert.equal(await publishCaBundle({ apiUrl: kube.url, token: saToken, caCert: kube.caCert }, 'sidestash-injector', webhookCa), 1);
    const published = await getJson(['get', 'mutatingwebhookconfiguration', 'sidestash-injector']);
    assert.equal(Buffer.from(published.webhooks[0].clientConfig.caBundle, 'base64').toString(), webhookCa);
    // The API server reads webhook configurations through an informer: wait until a server-side
    // dry run of an opted-in pod comes back injected (failurePolicy Ignore admits it unchanged before).
    const probe = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace: APP_NS, annotations: { [ANNOTATIONS.inject]: 'true', [ANNOTATIONS.target]: 'shop-db' } }, spec: { containers: [{ name: 'mariadb', image: 'docker.io/library/mariadb:11.4' }] } };
    const deadline = Date.now() + 60_000;
    for (;;) {
      const out = JSON.parse(await kube.kubectlOk(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(probe) }));
      if (out.metadata.annotations?.[ANNOTATIONS.injected] === 'true') break;
      if (Date.now() > deadline) throw new Error(`the API server did not call the webhook within 60 s; controller log: ${controller.logFile}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('injects the agent into the example MariaDB Deployment\'s Pod, which the API server stores as valid', async () => {
    assert.ok(controller, 'the controller runs');
    const example = join(ROOT, 'charts', 'sidestash', 'examples', 'mariadb-deployment.yaml');
    await kube.kubectlOk(['apply', '-f', example]);
    const [pod] = await podsOf(APP_NS, 'shop-db');
    assert.equal(pod.metadata.ownerReferences?.[0]?.kind, 'ReplicaSet', 'created by the ReplicaSet controller (generateName, no name at admission)');
    assert.equal(pod.metadata.annotations[ANNOTATIONS.injected], 'true');
    const agent = (pod.spec.initContainers ?? []).find((c: any) => c.name === AGENT_CONTAINER);
    assert.ok(agent, `a native sidecar on Kubernetes 1.34: ${JSON.stringify(pod.spec)}`);
    assert.equal(agent.restartPolicy, 'Always');
    assert.ok(!pod.spec.containers.some((c: any) => c.name === AGENT_CONTAINER), 'injected once');
    const env = Object.fromEntries((agent.env as any[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env.SIDESTASH_CONTROLLER_URL, 'https://sidestash.sidestash.svc:7480');
    assert.equal(env.SIDESTASH_AGENT_TARGETS, 'shop/shop-db');
    // The agent trusts the CA of the chart's API certificate, and reads its namespace's token.
    const apiTls = await getJson(['-n', RELEASE_NS, 'get', 'secret', 'sidestash-api-tls']);
    assert.equal(env.SIDESTASH_CONTROLLER_CA.trim(), Buffer.from(apiTls.data['ca.crt'], 'base64').toString().trim());
    assert.deepEqual(env.SIDESTASH_AGENT_BOOTSTRAP_TOKEN, { secretKeyRef: { name: 'sidestash-agent-token', key: 'token' } });
    await kube.kubectlOk(['-n', APP_NS, 'get', 'secret', 'sidestash-agent-token']);
    // The database and the agent share the socket directory through one volume.
    const db = pod.spec.containers.find((c: any) => c.name === 'mariadb');
    const dbSocket = db.volumeMounts.find((m: any) => m.mountPath === '/run/mysqld');
    const agentSocket = agent.volumeMounts.find((m: any) => m.mountPath === '/run/mysqld');
    assert.ok(dbSocket && agentSocket && dbSocket.name === agentSocket.name, JSON.stringify({ db: db.volumeMounts, agent: agent.volumeMounts }));
    assert.ok(pod.spec.volumes.some((v: any) => v.name === dbSocket.name && v.emptyDir));
    assert.deepEqual(podSpecProblems(pod.spec), []);
    // The API server's own validation of the stored pod: a server-side dry run of it again.
    const again = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shop-db-copy', namespace: APP_NS }, spec: { ...pod.spec, nodeName: undefined } };
    await kube.kubectlOk(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(again) });
    const log = await readFile(controller!.logFile, 'utf8');
    assert.match(log, /"msg":"injecting agent".*"namespace":"shop"/);
  });

  it('leaves a pod template without the annotation alone', async () => {
    const plain = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'plain-db', namespace: APP_NS },
      spec: { replicas: 1, selector: { matchLabels: { app: 'plain-db' } }, template: { metadata: { labels: { app: 'plain-db' } }, spec: { containers: [{ name: 'mariadb', image: 'docker.io/library/mariadb:11.4' }] } } },
    };
    await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(plain) });
    const [pod] = await podsOf(APP_NS, 'plain-db');
    assert.deepEqual(pod.spec.containers.map((c: any) => c.name), ['mariadb']);
    assert.equal(pod.spec.initContainers, undefined);
    assert.ok(!(pod.spec.volumes ?? []).some((v: any) => v.name.startsWith('sidestash')), JSON.stringify(pod.spec.volumes));
    assert.equal(pod.metadata.annotations?.[ANNOTATIONS.injected], undefined);
  });

  it('admits an opted-in pod with a bad annotation unchanged, with the warning shown by kubectl', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'no-target', namespace: APP_NS, annotations: { [ANNOTATIONS.inject]: 'true' } }, spec: { containers: [{ name: 'mariadb', image: 'docker.io/library/mariadb:11.4' }] } };
    const r = await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Warning: sidestash: agent not injected: annotation sidestash\.io\/target is required/);
    const stored = await getJson(['-n', APP_NS, 'get', 'pod', 'no-target']);
    assert.deepEqual(stored.spec.containers.map((c: any) => c.name), ['mariadb']);
    assert.equal(stored.spec.initContainers, undefined);
  });
});
