// The chart's Kubernetes mode on a real kube-apiserver (with kube-controller-manager, so the
// Deployment gets its Pods): `helm install -f charts/sidestash/examples/values-kubernetes.yaml`
// (no --wait: no kubelet here), the Deployment's replicas, rollout, PodDisruptionBudget,
// anti-affinity and environment; the
// least-privilege RBAC proven with `kubectl auth can-i` as the controller's ServiceAccount; the
// webhook's Helm-generated certificate shared by two real controller processes behind the
// Service's cluster IP, called by the API server, the caBundle patched by nobody; and a
// `helm upgrade` that keeps every certificate. The two processes run the chart's Kubernetes mode
// as the chart's ServiceAccount (a token of it in their kubeconfig): one holds the Lease and the
// API server refuses neither anything, so the RBAC is proven by use too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ANNOTATIONS } from '../controller/webhook/injector.ts';
import { chartControllerEnv } from './helpers/chart-controller.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer, KubectlResult } from './helpers/kube-apiserver.ts';
import { toolPath } from './helpers/kube-validate.ts';
import { freePort } from './helpers/mariadb.ts';
import { deniedLines, serviceAccountKubeconfig } from './helpers/service-account-kubeconfig.ts';
import { startController } from './helpers/stack.ts';
import type { ControllerProc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

const ROOT = join(import.meta.dirname, '..');
const RELEASE = 'sidestash';
const RELEASE_NS = 'sidestash';
const APP_NS = 'shop';
/** A namespace the release does not serve. */
const OTHER_NS = 'other';
const SA_NAME = 'sidestash';
const SA = `system:serviceaccount:${RELEASE_NS}:${SA_NAME}`;
const LEASE = 'sidestash-controller';
// The command the values file (and README.md) documents, word for word (plus --kubeconfig).
const INSTALL = ['install', RELEASE, 'charts/sidestash', '-n', RELEASE_NS, '--create-namespace', '-f', 'charts/sidestash/examples/values-kubernetes.yaml'];

let kube: KubeApiServer;
let tmp: { path: string; cleanup: () => Promise<void> };
const controllers: ControllerProc[] = [];
let serviceProxy: Server | undefined;

const helm = (args: string[]): Promise<KubectlResult> =>
  new Promise((resolve) => {
    execFile(toolPath('helm'), [...args, '--kubeconfig', kube.kubeconfig], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });

const getJson = async (args: string[]): Promise<any> => JSON.parse(await kube.kubectlOk([...args, '-o', 'json']));

/** Polls `read` until `done` holds (the controllers of kube-controller-manager and the API server's informers work asynchronously). */
async function eventually<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s; last: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * What kube-proxy does for a Service with several ready endpoints: each new connection to the
 * cluster IP goes to the next replica; a replica that refuses is skipped.
 */
function startServiceProxy(host: string, port: number, upstreams: number[]): Promise<Server> {
  let next = 0;
  const server = createServer((client: Socket) => {
    client.pause();
    const attempt = (tries: number): void => {
      if (tries >= upstreams.length) return void client.destroy();
      const upstreamPort = upstreams[next++ % upstreams.length]!;
      const upstream = connect(upstreamPort, '127.0.0.1');
      upstream.once('error', () => attempt(tries + 1));
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        pipeline(client, upstream, client, () => {
          client.destroy();
          upstream.destroy();
        });
        client.resume();
      });
    };
    attempt(0);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

const injections = async (c: ControllerProc): Promise<number> => (await readFile(c.logFile, 'utf8')).split('\n').filter((l) => l.includes('"msg":"injecting agent"')).length;

/** A server-side dry run of an opted-in pod, as the API server admits it (through the webhook). */
async function admitProbe(name: string, namespace = APP_NS): Promise<any> {
  const probe = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, annotations: { [ANNOTATIONS.inject]: 'true', [ANNOTATIONS.target]: 'shop-db' } }, spec: { containers: [{ name: 'mariadb', image: 'docker.io/library/mariadb:11.4' }] } };
  return JSON.parse(await kube.kubectlOk(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(probe) }));
}
const injected = (pod: any): boolean => pod.metadata.annotations?.[ANNOTATIONS.injected] === 'true';

const secretData = async (name: string): Promise<Record<string, string>> => (await getJson(['-n', RELEASE_NS, 'get', 'secret', name])).data;

before(async () => {
  kube = await startKubeApiServer({ withControllerManager: true });
  tmp = await tempDir('sidestash-kube-helm-ha-');
  for (const ns of [APP_NS, OTHER_NS]) await kube.kubectlOk(['create', 'namespace', ns]);
});
after(async () => {
  await new Promise<void>((r) => (serviceProxy ? serviceProxy.close(() => r()) : r()));
  for (const c of controllers) await c.stop();
  await kube?.stop();
  await tmp?.cleanup();
});

describe('helm install in Kubernetes mode (examples/values-kubernetes.yaml) into a real API server', () => {
  it('installs two controller replicas that roll without losing one, a PodDisruptionBudget and anti-affinity; no PVC, no encryption key, no enrolment tokens', async () => {
    const documented = await readFile(join(ROOT, 'charts', 'sidestash', 'examples', 'values-kubernetes.yaml'), 'utf8');
    assert.ok(documented.includes(`helm ${INSTALL.join(' ')}`), 'the command the values file documents');
    const r = await helm(INSTALL);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /STATUS: deployed/);
    assert.match(r.stdout, /Kubernetes mode: 2 replicas elect a leader on Lease sidestash\/sidestash-controller/);

    const dep = await getJson(['-n', RELEASE_NS, 'get', 'deployment', RELEASE]);
    assert.equal(dep.spec.replicas, 2);
    assert.deepEqual(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const pod = dep.spec.template.spec;
    const selector = dep.spec.selector.matchLabels;
    const anti = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
    assert.equal(anti.length, 1);
    assert.equal(anti[0].podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(anti[0].podAffinityTerm.labelSelector.matchLabels, selector, 'the replicas avoid each other');
    assert.equal(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution, undefined, 'preferred: a single-node cluster still runs both');
    assert.deepEqual(pod.topologySpreadConstraints.map((t: any) => [t.topologyKey, t.whenUnsatisfiable]), [['topology.kubernetes.io/zone', 'ScheduleAnyway']]);
    assert.equal(pod.automountServiceAccountToken, true, 'the in-cluster configuration reads the ServiceAccount token');

    const pdb = await getJson(['-n', RELEASE_NS, 'get', 'poddisruptionbudget', RELEASE]);
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, selector);

    const c = pod.containers[0];
    const env = Object.fromEntries((c.env as any[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env.SIDESTASH_STORE, 'kubernetes');
    assert.equal(env.SIDESTASH_WATCH_NAMESPACES, APP_NS);
    assert.equal(env.SIDESTASH_LEADER_ELECTION_NAME, LEASE);
    assert.deepEqual(env.POD_NAME, { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } });
    assert.deepEqual(env.POD_NAMESPACE, { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } });
    for (const sqliteOnly of ['SIDESTASH_DB', 'SIDESTASH_ENCRYPTION_KEY_FILE', 'SIDESTASH_AGENT_TOKENS_FILE', 'SIDESTASH_AGENT_BOOTSTRAP_TOKEN', 'SIDESTASH_AGENT_TOKEN_SECRET', 'SIDESTASH_WEBHOOK_CONFIGURATION']) {
      assert.ok(!(sqliteOnly in env), `${sqliteOnly} is not set in Kubernetes mode`);
    }
    assert.ok(!(pod.volumes as any[]).some((v) => v.persistentVolumeClaim), 'no PVC');
    assert.equal((await getJson(['-n', RELEASE_NS, 'get', 'persistentvolumeclaims'])).items.length, 0);
    const secrets = (await getJson(['get', 'secrets', '-A', '-l', 'app.kubernetes.io/instance=sidestash'])).items.map((s: any) => `${s.metadata.namespace}/${s.metadata.name}`);
    assert.deepEqual(secrets.sort(), [`${RELEASE_NS}/sidestash-api-tls`, `${RELEASE_NS}/sidestash-auth`, `${RELEASE_NS}/sidestash-webhook-tls`], 'no encryption key, no enrolment tokens');

    // kube-controller-manager's ReplicaSet controller makes both Pods (never Ready: no nodes).
    const pods = await eventually('two controller pods', async () => (await getJson(['-n', RELEASE_NS, 'get', 'pods', '-l', 'app.kubernetes.io/instance=sidestash'])).items as any[], (p) => p.length >= 2);
    assert.equal(pods.length, 2);
    for (const p of pods) assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'ReplicaSet');
    assert.notEqual(pods[0].metadata.name, pods[1].metadata.name);
  });

  // Each row: [expected, verb, resource, namespace (undefined: cluster scope; '*': all namespaces), why].
  const table: [boolean, string, string, string | undefined, string][] = [
    [true, 'create', 'tokenreviews.authentication.k8s.io', undefined, 'agent identity (TokenReview)'],
    [true, 'get', 'secrets', APP_NS, 'the Secrets a served namespace\'s Repository and AppBinding name'],
    [true, 'list', 'secrets', APP_NS, 'served namespace'],
    [true, 'watch', 'secrets', APP_NS, 'served namespace'],
    [true, 'get', 'pods', APP_NS, 'the agent\'s pod, by name'],
    [true, 'create', 'events', APP_NS, 'kubectl describe'],
    [true, 'patch', 'events', APP_NS, 'repeated events'],
    ...['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].map((v): [boolean, string, string, string, string] => [true, v, 'backupsessions.sidestash.io', APP_NS, 'its own resources']),
    [true, 'list', 'repositories.sidestash.io', APP_NS, 'its own resources'],
    [true, 'watch', 'appbindings.sidestash.io', APP_NS, 'its own resources'],
    [true, 'list', 'backupconfigurations.sidestash.io', APP_NS, 'its own resources'],
    [true, 'delete', 'restoresessions.sidestash.io', APP_NS, 'its own resources'],
    [true, 'update', 'backupsessions.sidestash.io/status', APP_NS, 'status through /status'],
    [true, 'patch', 'restoresessions.sidestash.io/status', APP_NS, 'status through /status'],
    [true, 'get', `leases.coordination.k8s.io/${LEASE}`, RELEASE_NS, 'its Lease'],
    [true, 'update', `leases.coordination.k8s.io/${LEASE}`, RELEASE_NS, 'renews its Lease'],
    [true, 'create', 'leases.coordination.k8s.io', RELEASE_NS, 'creates its Lease (create cannot be limited by name)'],
    // Refused: Secrets outside the served namespaces.
    [false, 'get', 'secrets', OTHER_NS, 'a namespace it does not serve'],
    [false, 'list', 'secrets', OTHER_NS, 'a namespace it does not serve'],
    [false, 'get', 'secrets', RELEASE_NS, 'not even its own namespace\'s (the admin token)'],
    [false, 'list', 'secrets', '*', 'cluster-wide Secrets'],
    [false, 'watch', 'secrets', '*', 'cluster-wide Secrets'],
    // Refused: writing Secrets (kubernetes.secretWrites is false).
    [false, 'create', 'secrets', APP_NS, 'no Secret writes by default'],
    [false, 'update', 'secrets', APP_NS, 'no Secret writes by default'],
    [false, 'delete', 'secrets', APP_NS, 'no Secret writes by default'],
    // Refused: other Leases, and its own Lease elsewhere or deleted.
    [false, 'get', 'leases.coordination.k8s.io/another-controller', RELEASE_NS, 'another Lease'],
    [false, 'update', 'leases.coordination.k8s.io/another-controller', RELEASE_NS, 'another Lease'],
    [false, 'list', 'leases.coordination.k8s.io', RELEASE_NS, 'listing Leases'],
    [false, 'delete', `leases.coordination.k8s.io/${LEASE}`, RELEASE_NS, 'deleting its Lease'],
    [false, 'update', `leases.coordination.k8s.io/${LEASE}`, 'kube-system', 'a Lease of the same name elsewhere'],
    [false, 'create', 'leases.coordination.k8s.io', 'kube-node-lease', 'Leases outside the release namespace'],
    // Refused: pods beyond reading one, and everything else.
    [false, 'create', 'pods/exec', APP_NS, 'exec into the database'],
    [false, 'list', 'pods', APP_NS, 'listing pods'],
    [false, 'delete', 'pods', APP_NS, 'deleting pods'],
    [false, 'get', 'pods', OTHER_NS, 'pods of a namespace it does not serve'],
    [false, 'get', 'configmaps', APP_NS, 'ConfigMaps'],
    [false, 'list', 'backupsessions.sidestash.io', OTHER_NS, 'resources of a namespace it does not serve'],
    [false, 'list', 'backupsessions.sidestash.io', '*', 'resources of all namespaces'],
    [false, 'create', 'events', OTHER_NS, 'Events of a namespace it does not serve'],
    [false, 'patch', 'mutatingwebhookconfigurations.admissionregistration.k8s.io/sidestash-injector', undefined, 'the caBundle is Helm\'s; nothing patches it'],
    [false, 'create', 'subjectaccessreviews.authorization.k8s.io', undefined, 'other reviews'],
    [false, 'list', 'namespaces', undefined, 'namespaces'],
    [false, 'get', 'nodes', undefined, 'nodes'],
    [false, 'impersonate', 'serviceaccounts', APP_NS, 'impersonation'],
    [false, 'create', 'serviceaccounts/token', APP_NS, 'minting tokens'],
    [false, 'update', 'customresourcedefinitions.apiextensions.k8s.io', undefined, 'its CRDs (Helm installs them)'],
  ];

  it(`grants ${SA} only what Kubernetes mode needs (kubectl auth can-i, ${table.length} checks)`, async () => {
    const results = await Promise.all(table.map(async ([expected, verb, resource, ns, why]) => {
      const r = await kube.kubectl(['auth', 'can-i', verb, resource, `--as=${SA}`, ...(ns === '*' ? ['--all-namespaces'] : ns ? ['-n', ns] : [])]);
      const got = r.stdout.trim();
      if (got !== 'yes' && got !== 'no') throw new Error(`can-i ${verb} ${resource}: ${r.stderr}`);
      return { row: `${verb} ${resource} in ${ns ?? 'cluster'} (${why})`, expected: expected ? 'yes' : 'no', got };
    }));
    const wrong = results.filter((x) => x.expected !== x.got).map((x) => `${x.row}: expected ${x.expected}, got ${x.got}`);
    assert.deepEqual(wrong, []);
  });
});

describe('the webhook with two replicas and the Helm-generated certificate', () => {
  let caBundle = '';
  let configVersion = '';

  it('templates the caBundle of the certificate every replica mounts', async () => {
    const cfg = await getJson(['get', 'mutatingwebhookconfiguration', 'sidestash-injector']);
    caBundle = cfg.webhooks[0].clientConfig.caBundle;
    configVersion = cfg.metadata.resourceVersion;
    const tls = await secretData('sidestash-webhook-tls');
    assert.equal(caBundle, tls['ca.crt'], 'the caBundle is the Secret\'s CA');
    const ca = new X509Certificate(Buffer.from(tls['ca.crt']!, 'base64'));
    const cert = new X509Certificate(Buffer.from(tls['tls.crt']!, 'base64'));
    assert.ok(ca.ca && cert.verify(ca.publicKey), 'the serving certificate is signed by that CA');
    assert.ok(cert.checkHost('sidestash.sidestash.svc'), 'the name the API server calls');
    const apiTls = await secretData('sidestash-api-tls');
    assert.notEqual(tls['ca.crt'], apiTls['ca.crt'], 'the webhook has its own CA');
  });

  it('is called by the API server through the Service and answered by either replica', async () => {
    const svc = await getJson(['-n', RELEASE_NS, 'get', 'service', RELEASE]);
    const ip = svc.spec.clusterIP as string;
    assert.ok(ip.startsWith(kube.serviceCidr.replace(/\.0\/24$/, '.')), `${ip} in the loopback range ${kube.serviceCidr}`);
    const servicePort = svc.spec.ports.find((p: any) => p.name === 'webhook').port as number;
    // Two controller processes with the chart's environment and Secrets, one per "pod", in the
    // chart's Kubernetes mode and as the chart's ServiceAccount (a token of it in their
    // kubeconfig): its RBAC is what they run with. Each listens for the webhook on its own port,
    // behind the Service's cluster IP.
    const kubeconfig = await serviceAccountKubeconfig(kube, RELEASE_NS, SA_NAME, tmp.path);
    const ports: number[] = [];
    for (const podName of ['sidestash-a', 'sidestash-b']) {
      const dir = join(tmp.path, podName);
      await mkdir(dir);
      const { env } = await chartControllerEnv(kube, RELEASE_NS, RELEASE, dir, 'controller', { 'metadata.name': podName });
      assert.equal(env.POD_NAME, podName);
      assert.equal(env.POD_NAMESPACE, RELEASE_NS);
      assert.ok(env.SIDESTASH_WEBHOOK_CERT_FILE && env.SIDESTASH_WEBHOOK_KEY_FILE, 'the mounted certificate');
      assert.equal(await readFile(env.SIDESTASH_WEBHOOK_CERT_FILE, 'utf8'), Buffer.from((await secretData('sidestash-webhook-tls'))['tls.crt']!, 'base64').toString());
      const { SIDESTASH_LISTEN: _l, SIDESTASH_ADMIN_TOKEN: _a, ...chartEnv } = env;
      assert.equal(chartEnv.SIDESTASH_STORE, 'kubernetes');
      const port = await freePort();
      ports.push(port);
      const c = await startController(dir, { env: { ...chartEnv, SIDESTASH_KUBECONFIG: kubeconfig, SIDESTASH_WEBHOOK_LISTEN: `127.0.0.1:${port}` }, caFile: env.SIDESTASH_TLS_CA_FILE! });
      controllers.push(c);
      await eventually(`${podName}'s webhook listening`, () => readFile(c.logFile, 'utf8'), (log) => log.includes('"msg":"webhook listening"'), 30_000);
      assert.match(await readFile(c.logFile, 'utf8'), /"msg":"webhook listening".*"tls":"files"/);
    }
    serviceProxy = await startServiceProxy(ip, servicePort, ports);

    // Both run the Kubernetes store with the chart's RBAC: one of them holds the chart's Lease.
    const holder = (l: any): string => String(l?.spec?.holderIdentity ?? '').replace(/_[0-9a-f]+$/, '');
    const lease = await eventually('a replica holding the Lease', () => getJson(['-n', RELEASE_NS, 'get', 'lease', LEASE]).catch(() => null), (l) => ['sidestash-a', 'sidestash-b'].includes(holder(l)), 30_000);
    assert.ok(['sidestash-a', 'sidestash-b'].includes(holder(lease)), `the Lease names one of the two: ${lease.spec.holderIdentity}`);

    // The API server reads webhook configurations through an informer: the first calls may come
    // before it knows this one (failurePolicy Ignore admits the pod unchanged).
    let n = 0;
    await eventually('an injected probe pod', () => admitProbe(`probe-${n++}`), injected);
    const [a, b] = controllers as [ControllerProc, ControllerProc];
    const served = (await injections(a)) > 0 ? a : b;
    const other = served === a ? b : a;
    assert.ok((await injections(served)) > 0);

    // A namespace the release does not serve is not sent to the webhook at all (the controller
    // could not read its agent's pod): the pod is admitted as it came, and no replica was called.
    const calls = (await injections(a)) + (await injections(b));
    assert.equal(injected(await admitProbe('elsewhere', OTHER_NS)), false);
    assert.equal((await injections(a)) + (await injections(b)), calls);

    // The replica that answered dies: the API server's next connection reaches the other one,
    // which serves the same certificate, so the pod is still injected (not admitted unchanged).
    await served.kill();
    const earlier = await injections(other);
    await eventually('a probe injected by the other replica', () => admitProbe(`probe-${n++}`), injected);
    assert.ok((await injections(other)) > earlier, 'the other replica answered');

    // Nobody patched the caBundle: the configuration is as Helm wrote it.
    const cfg = await getJson(['get', 'mutatingwebhookconfiguration', 'sidestash-injector']);
    assert.equal(cfg.webhooks[0].clientConfig.caBundle, caBundle);
    assert.equal(cfg.metadata.resourceVersion, configVersion, 'the webhook configuration was not written');
  });

  it('keeps the webhook and API certificates and the admin token across helm upgrade', async () => {
    const kept = { webhook: await secretData('sidestash-webhook-tls'), api: await secretData('sidestash-api-tls'), auth: await secretData('sidestash-auth') };
    const r = await helm(['upgrade', RELEASE, 'charts/sidestash', '-n', RELEASE_NS, '--reuse-values', '--set', 'kubernetes.replicas=3']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await getJson(['-n', RELEASE_NS, 'get', 'deployment', RELEASE])).spec.replicas, 3);
    assert.deepEqual(await secretData('sidestash-webhook-tls'), kept.webhook);
    assert.deepEqual(await secretData('sidestash-api-tls'), kept.api);
    assert.deepEqual(await secretData('sidestash-auth'), kept.auth);
    const cfg = await getJson(['get', 'mutatingwebhookconfiguration', 'sidestash-injector']);
    assert.equal(cfg.webhooks[0].clientConfig.caBundle, caBundle, 'the caBundle still names the CA the replicas serve');
    // And the running replica still serves what the API server trusts.
    let n = 0;
    await eventually('an injected probe pod after the upgrade', () => admitProbe(`upgraded-${n++}`), injected);
  });

  it('never refused either replica: the chart\'s RBAC is all that Kubernetes mode used', async () => {
    assert.equal(controllers.length, 2);
    for (const c of controllers) assert.deepEqual(deniedLines(await readFile(c.logFile, 'utf8')), [], c.logFile);
  });
});
