// Agent identity by projected ServiceAccount token (controller/kubernetes/service-account-identity.ts)
// against a real kube-apiserver's TokenReview: tokens minted by kubectl create token, bound to
// Pod objects (the harness has no kubelet: the pods are stored, never run). A pod's token grants
// the AppBindings its annotation names in its own namespace; a token for another audience, one
// not bound to a pod, one of a deleted or re-created pod, one of a pod without the annotation,
// and a request for another namespace are each refused.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, test } from 'node:test';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { grantTargets } from '../controller/agents/agent-scope.ts';
import { KubeClient } from '../controller/kubernetes/kube-client.ts';
import { loadKubeConnection } from '../controller/kubernetes/kube-config.ts';
import { ServiceAccountAuthenticator } from '../controller/kubernetes/service-account-identity.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };
let kube: KubeApiServer;
let client: KubeClient;
let auth: ServiceAccountAuthenticator;

const podYaml = (ns: string, name: string, target: string | undefined, sa = 'default'): string => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: ns, ...(target !== undefined ? { annotations: { 'sidestash.io/target': target } } : {}) },
  spec: { serviceAccountName: sa, containers: [{ name: 'mariadb', image: 'mariadb:11.4' }] },
});
const token = async (ns: string, args: string[]): Promise<string> => (await kube.kubectlOk(['-n', ns, 'create', 'token', 'default', ...args])).trim();
const podToken = (ns: string, pod: string, audience = 'sidestash') => token(ns, ['--audience', audience, '--bound-object-kind', 'Pod', '--bound-object-name', pod]);
const req = (t: string): IncomingMessage => ({ headers: { authorization: `Bearer ${t}` } }) as unknown as IncomingMessage;
const refused = async (t: string, code: string, reason: RegExp): Promise<void> => {
  const err = await auth.verify(t).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof SidestashError, `expected a refusal, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, reason);
  assert.equal(await auth.authenticate(req(t)), undefined, 'the authenticator grants nothing');
};

before(async () => {
  kube = await startKubeApiServer();
  client = new KubeClient(loadKubeConnection({ SIDESTASH_KUBECONFIG: kube.kubeconfig }));
  auth = new ServiceAccountAuthenticator(client, { log: quiet });
  for (const ns of ['shop', 'crm']) {
    await kube.kubectlOk(['create', 'namespace', ns]);
    // No controller manager here: the namespace's default ServiceAccount is made by hand.
    await kube.kubectlOk(['-n', ns, 'create', 'serviceaccount', 'default']);
  }
  await kube.kubectlOk(['apply', '-f', '-'], { input: podYaml('shop', 'db-0', 'shop-db,shop-reports') });
  await kube.kubectlOk(['apply', '-f', '-'], { input: podYaml('shop', 'plain', undefined) });
  await kube.kubectlOk(['apply', '-f', '-'], { input: podYaml('crm', 'db-0', 'crm-db') });
});
after(async () => {
  await client?.close();
  await kube?.stop();
});

test("a pod's token grants the AppBindings its annotation names, in its own namespace only", async () => {
  const t = await podToken('shop', 'db-0');
  const id = await auth.verify(t);
  const uid = JSON.parse(await kube.kubectlOk(['-n', 'shop', 'get', 'pod', 'db-0', '-o', 'json'])).metadata.uid;
  assert.deepEqual(id, { namespace: 'shop', serviceAccount: 'default', pod: 'db-0', podUid: uid, targets: ['shop-db', 'shop-reports'] });
  const scope = await auth.authenticate(req(t));
  assert.deepEqual(scope, { namespace: 'shop', targets: ['shop-db', 'shop-reports'], credentialId: `serviceaccount:shop/db-0@${uid}`, name: 'db-0' }, 'the scope is bound to the pod: the agent registers under its name');
  assert.equal(auth.isActive(scope!.credentialId), true);
  assert.equal(auth.isActive(`serviceaccount:shop/db-0@another-uid`), false);
  assert.deepEqual(grantTargets(scope!, 'shop', ['shop/shop-db']), ['shop/shop-db']);
  // Another namespace, or an AppBinding the annotation does not name: refused.
  assert.throws(() => grantTargets(scope!, 'crm', ['crm/crm-db']), (e: unknown) => (e as SidestashError).code === ErrorCodes.FORBIDDEN);
  assert.throws(() => grantTargets(scope!, 'shop', ['shop/payroll']), (e: unknown) => (e as SidestashError).code === ErrorCodes.FORBIDDEN);
});

test('a token for another audience is refused', async () => {
  await refused(await podToken('shop', 'db-0', 'https://kubernetes.default.svc.cluster.local'), ErrorCodes.UNAUTHORIZED, /not accepted/);
});

test('a ServiceAccount token not bound to a pod is refused', async () => {
  await refused(await token('shop', ['--audience', 'sidestash']), ErrorCodes.UNAUTHORIZED, /not bound to a pod/);
});

test('a pod without the target annotation is refused', async () => {
  await refused(await podToken('shop', 'plain'), ErrorCodes.FORBIDDEN, /no sidestash\.io\/target annotation/);
});

test('a deleted pod, and a new pod under its name, are refused', async () => {
  await kube.kubectlOk(['apply', '-f', '-'], { input: podYaml('crm', 'short-lived', 'crm-db') });
  const t = await podToken('crm', 'short-lived');
  assert.equal((await auth.verify(t)).pod, 'short-lived');
  await kube.kubectlOk(['-n', 'crm', 'delete', 'pod', 'short-lived', '--grace-period=0', '--force', '--wait=false']);
  await refused(t, ErrorCodes.UNAUTHORIZED, /not accepted|does not exist/);
  await kube.kubectlOk(['apply', '-f', '-'], { input: podYaml('crm', 'short-lived', 'crm-db') });
  await refused(t, ErrorCodes.UNAUTHORIZED, /not accepted|not the pod/);
});

test('a token that is not one, and no token, grant nothing', async () => {
  await refused('not-a-token', ErrorCodes.UNAUTHORIZED, /not accepted/);
  assert.equal(await auth.authenticate({ headers: {} } as unknown as IncomingMessage), undefined);
});
