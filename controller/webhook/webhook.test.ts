// The injection webhook over HTTPS: real AdmissionReview requests to the controller, patches
// applied to the pod template of the chart's example Deployment and validated as Pods.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fastJsonPatch from 'fast-json-patch';
import { parse } from 'yaml';
import { createLogger } from '../../common/log.ts';
import { validateKube } from '../../test/helpers/kube-validate.ts';
import { makeTestPki } from '../../test/helpers/tls.ts';
import { parseControllerConfig } from '../config.ts';
import { Controller } from '../controller.ts';
import { socketDirProblem } from './socket-dir.ts';

const quiet = createLogger({}, { level: 'error' });
const EXAMPLE = join(import.meta.dirname, '..', '..', 'charts', 'sidestash', 'examples', 'mariadb-deployment.yaml');

function post(port: number, ca: string, body: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = request({ host: '127.0.0.1', port, servername: 'localhost', path: '/mutate?timeout=5s', method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': data.length } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(parts).toString()) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

function review(pod: unknown, uid = 'uid-1', namespace = 'shop'): unknown {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace, object: pod } };
}

async function examplePod(): Promise<any> {
  const dep = parse(await readFile(EXAMPLE, 'utf8')) as any;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { ...dep.spec.template.metadata, name: 'shop-db-0', namespace: 'shop' }, spec: dep.spec.template.spec };
}

function applyPatch(pod: any, response: any): any {
  assert.equal(response.patchType, 'JSONPatch');
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as fastJsonPatch.Operation[];
  return fastJsonPatch.applyPatch(structuredClone(pod), ops, true).newDocument;
}

/** socket-dir values the webhook refuses: relative, not normalised, system directories, odd characters. */
const BAD_SOCKET_DIRS = ['run/mysqld', '/', '/etc', '/etc/mysql', '/proc/self', '/usr/lib', '/dev', '/var', '/run', '/var/run/secrets/kubernetes.io', '/run/../etc', '/run//mysqld', '/run/./mysqld', '/run/mysqld/', '/run/my sqld', '/run/mysqld\n', 'C:\\mysql', '/run/mysqld:ro', ''];

describe('socketDirProblem', () => {
  for (const dir of BAD_SOCKET_DIRS) it(`refuses ${JSON.stringify(dir)}`, () => assert.ok(socketDirProblem(dir)));
  for (const dir of ['/run/mysqld', '/var/run/mysqld', '/tmp', '/tmp/mysql', '/opt/bitnami/mariadb/tmp', '/var/lib/mysql']) it(`accepts ${dir}`, () => assert.equal(socketDirProblem(dir), undefined));
});

for (const mode of ['generated', 'files'] as const) {
  describe(`sidecar injection webhook (${mode} TLS)`, () => {
    let dir: string;
    let controller: Controller;
    let port: number;
    let ca: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sidestash-webhook-'));
      const env: Record<string, string> = {
        SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir, 'c.db'), SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789', SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'boot-token-0123456789',
        SIDESTASH_WEBHOOK_LISTEN: '127.0.0.1:0', SIDESTASH_AGENT_IMAGE: 'ghcr.io/sidestash/sidestash:0.1.0', SIDESTASH_AGENT_CONTROLLER_URL: 'https://sidestash.sidestash.svc:7480',
        SIDESTASH_NATIVE_SIDECAR: mode === 'generated' ? 'true' : 'false', SIDESTASH_PUSHGATEWAY_URL: 'http://pgw:9091',
      };
      if (mode === 'files') {
        const pki = await makeTestPki(dir);
        ca = pki.caCert;
        Object.assign(env, { SIDESTASH_WEBHOOK_CERT_FILE: pki.certFile, SIDESTASH_WEBHOOK_KEY_FILE: pki.keyFile });
      } else {
        env.SIDESTASH_WEBHOOK_DNS_NAMES = 'localhost,sidestash.sidestash.svc';
      }
      controller = new Controller(parseControllerConfig(env), quiet);
      port = (await controller.start()).webhookPort!;
      if (mode === 'generated') ca = controller.webhook!.caCert!;
    });
    after(async () => {
      await controller.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('injects the agent into an annotated pod, sharing the socket directory, and the result is a valid Pod', async () => {
      const pod = await examplePod();
      const res = await post(port, ca, review(pod));
      assert.equal(res.status, 200);
      assert.equal(res.json.apiVersion, 'admission.k8s.io/v1');
      assert.equal(res.json.response.uid, 'uid-1');
      assert.equal(res.json.response.allowed, true);
      const patched = applyPatch(pod, res.json.response);
      await validateKube(patched);
      const agent = mode === 'generated' ? patched.spec.initContainers.find((c: any) => c.name === 'sidestash-agent') : patched.spec.containers.find((c: any) => c.name === 'sidestash-agent');
      assert.ok(agent, 'agent container added');
      if (mode === 'generated') assert.equal(agent.restartPolicy, 'Always', 'native sidecar');
      else assert.equal(agent.restartPolicy, undefined);
      const db = patched.spec.containers[0];
      const socketMount = db.volumeMounts.find((m: any) => m.mountPath === '/run/mysqld');
      assert.ok(socketMount, 'database container mounts the socket directory');
      assert.ok(agent.volumeMounts.some((m: any) => m.name === socketMount.name && m.mountPath === '/run/mysqld'));
      assert.ok(patched.spec.volumes.some((v: any) => v.name === socketMount.name && v.emptyDir));
      const env = Object.fromEntries(agent.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      assert.equal(env.SIDESTASH_AGENT_TARGETS, 'shop/shop-db');
      assert.deepEqual(env.SIDESTASH_AGENT_BOOTSTRAP_TOKEN, { secretKeyRef: { name: 'sidestash-agent-token', key: 'token' } });
      // Identity namespace/name from the pod itself; the namespace's own token is scoped to it.
      assert.deepEqual(env.SIDESTASH_AGENT_NAME, { fieldRef: { fieldPath: 'metadata.name' } });
      assert.deepEqual(env.SIDESTASH_AGENT_NAMESPACE, { fieldRef: { fieldPath: 'metadata.namespace' } });
      assert.equal(env.SIDESTASH_PUSHGATEWAY_URL, undefined, 'agents push no metrics: the controller does');
      assert.equal(env.SIDESTASH_CONTROLLER_URL, 'https://sidestash.sidestash.svc:7480');
      assert.equal(env.SIDESTASH_CONTROLLER_CA, await readFile(join(dir, 'api-ca.crt'), 'utf8'), "agents trust the controller's CA");
      assert.equal(env.SIDESTASH_INSECURE_HTTP, undefined);
      assert.equal(agent.securityContext.readOnlyRootFilesystem, true);
      assert.equal(patched.metadata.annotations['sidestash.io/injected'], 'true');
      // Idempotent: the injected pod is not injected again.
      const again = await post(port, ca, review(patched, 'uid-2'));
      assert.equal(again.json.response.allowed, true);
      assert.equal(again.json.response.patch, undefined);
      // Each mark alone prevents a second injection: the agent container without the annotation
      // (e.g. added by hand) and the annotation without the container (deleting either check in
      // the injector fails one of these).
      const containerOnly = structuredClone(patched);
      delete containerOnly.metadata.annotations['sidestash.io/injected'];
      const annotationOnly = structuredClone(patched);
      annotationOnly.spec.containers = annotationOnly.spec.containers.filter((c: any) => c.name !== 'sidestash-agent');
      annotationOnly.spec.initContainers = (annotationOnly.spec.initContainers ?? []).filter((c: any) => c.name !== 'sidestash-agent');
      for (const [what, pod] of [['container only', containerOnly], ['annotation only', annotationOnly]] as const) {
        const res = await post(port, ca, review(pod, `uid-${what}`));
        assert.equal(res.json.response.allowed, true, what);
        assert.equal(res.json.response.patch, undefined, `${what}: not injected again`);
      }
    });

    it('leaves other pods alone and warns about bad annotations without blocking', async () => {
      const plain = await examplePod();
      delete plain.metadata.annotations;
      const res = await post(port, ca, review(plain, 'uid-3'));
      assert.equal(res.json.response.allowed, true);
      assert.equal(res.json.response.patch, undefined);
      const bad = await examplePod();
      bad.metadata.annotations['sidestash.io/target'] = 'Not_Valid';
      bad.metadata.annotations['sidestash.io/database-container'] = 'nope';
      const warned = await post(port, ca, review(bad, 'uid-4'));
      assert.equal(warned.json.response.allowed, true);
      assert.equal(warned.json.response.patch, undefined);
      assert.equal(warned.json.response.warnings.length, 2);
    });

    it('reuses a volume already mounted at the socket directory and adds to existing lists', async () => {
      const pod = await examplePod();
      pod.spec.volumes.push({ name: 'run', emptyDir: {} });
      pod.spec.containers[0].volumeMounts.push({ name: 'run', mountPath: '/run/mysqld' });
      pod.spec.initContainers = [{ name: 'init-perms', image: 'busybox', command: ['true'] }];
      const patched = applyPatch(pod, (await post(port, ca, review(pod, 'uid-5'))).json.response);
      await validateKube(patched);
      assert.ok(!patched.spec.volumes.some((v: any) => v.name === 'sidestash-socket'));
      const agent = [...patched.spec.initContainers, ...patched.spec.containers].find((c: any) => c.name === 'sidestash-agent');
      assert.ok(agent.volumeMounts.some((m: any) => m.name === 'run'));
      assert.equal(patched.spec.initContainers[0].name, 'init-perms');
    });

    it('refuses a bad socket-dir annotation with a warning: no injection, never a broken pod', async () => {
      for (const [i, dir] of BAD_SOCKET_DIRS.entries()) {
        const pod = await examplePod();
        pod.metadata.annotations['sidestash.io/socket-dir'] = dir;
        const res = await post(port, ca, review(pod, `uid-dir-${i}`));
        assert.equal(res.json.response.allowed, true, dir);
        assert.equal(res.json.response.patch, undefined, `${JSON.stringify(dir)} must not be injected`);
        assert.equal(res.json.response.warnings.length, 1, dir);
        assert.match(res.json.response.warnings[0], /sidestash\.io\/socket-dir/);
      }
    });

    it('never reuses the pod\'s volume names or mounts a path twice, and the result is a valid Pod', async () => {
      const inject = async (pod: any, uid: string): Promise<{ patched: any; agent: any; db: any }> => {
        const patched = applyPatch(pod, (await post(port, ca, review(pod, uid))).json.response);
        await validateKube(patched);
        const agent = [...(patched.spec.initContainers ?? []), ...patched.spec.containers].find((c: any) => c.name === 'sidestash-agent');
        return { patched, agent, db: patched.spec.containers[0] };
      };
      // The pod already has volumes with the injector's names, for its own purposes.
      const named = await examplePod();
      named.spec.volumes.push({ name: 'sidestash-socket', configMap: { name: 'x' } }, { name: 'sidestash-tmp', secret: { secretName: 'y' } });
      named.spec.containers[0].volumeMounts.push({ name: 'sidestash-socket', mountPath: '/etc/x' }, { name: 'sidestash-tmp', mountPath: '/etc/y' });
      const a = await inject(named, 'uid-n1');
      const socket = a.db.volumeMounts.find((m: any) => m.mountPath === '/run/mysqld');
      assert.equal(socket.name, 'sidestash-socket-1');
      assert.deepEqual(a.agent.volumeMounts.map((m: any) => `${m.name}:${m.mountPath}`), ['sidestash-socket-1:/run/mysqld', 'sidestash-tmp-1:/tmp']);
      assert.ok(a.patched.spec.volumes.find((v: any) => v.name === 'sidestash-socket').configMap, 'the pod\'s own volume is untouched');
      // The socket directory is /tmp, which the database already mounts: reused, and the agent mounts /tmp once.
      const tmp = await examplePod();
      tmp.metadata.annotations['sidestash.io/socket-dir'] = '/tmp';
      tmp.spec.volumes.push({ name: 'scratch', emptyDir: {} });
      tmp.spec.containers[0].volumeMounts.push({ name: 'scratch', mountPath: '/tmp/' });
      const b = await inject(tmp, 'uid-n2');
      assert.deepEqual(b.agent.volumeMounts.map((m: any) => `${m.name}:${m.mountPath}`), ['scratch:/tmp']);
      assert.equal(b.db.volumeMounts.length, 2, 'the database container is unchanged');
      assert.equal(b.patched.spec.volumes.length, 2, 'no volume added');
      // /tmp not mounted yet: one new volume, at /tmp in both containers.
      const tmp2 = await examplePod();
      tmp2.metadata.annotations['sidestash.io/socket-dir'] = '/tmp';
      const c = await inject(tmp2, 'uid-n3');
      assert.deepEqual(c.agent.volumeMounts.map((m: any) => `${m.name}:${m.mountPath}`), ['sidestash-socket:/tmp']);
      // A mount of the socket directory through a subPath: the agent sees the same directory.
      const sub = await examplePod();
      sub.spec.containers[0].volumeMounts.push({ name: 'data', mountPath: '/run/mysqld/', subPath: 'run' });
      const d = await inject(sub, 'uid-n4');
      assert.deepEqual(d.agent.volumeMounts[0], { name: 'data', mountPath: '/run/mysqld', subPath: 'run' });
    });

    it('admits a pod of an unexpected shape unchanged, with a warning, instead of failing the webhook', async () => {
      const pod = await examplePod();
      pod.spec.containers[0].volumeMounts = [{ name: 'data', mountPath: 42 }];
      const res = await post(port, ca, review(pod, 'uid-shape'));
      assert.equal(res.status, 200);
      assert.equal(res.json.response.allowed, true);
      assert.equal(res.json.response.patch, undefined);
      assert.equal(res.json.response.warnings.length, 1);
    });

    it('answers malformed reviews with 400', async () => {
      const res = await post(port, ca, { kind: 'Something' });
      assert.equal(res.status, 400);
    });
  });
}
