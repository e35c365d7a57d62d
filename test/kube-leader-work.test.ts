// Leader-only work in Kubernetes mode, on a real API server's Lease: two controllers (in this
// process) campaign on one coordination.k8s.io/v1 Lease; only the holder runs the scheduler (a
// BackupConfiguration gets its nextScheduleTime only there) and serves the agent protocol (the
// other answers 503 SIDESTASH_NOT_LEADER, Retry-After 1, Connection: close); the HTTP API works
// on both. When the leader stops, the other takes over at once (the Lease is released) and starts
// the leader's work. The resource store here is each controller's own sqlite file (the Kubernetes
// store has its own tests): what is under test is the election's gate.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { createLogger } from '../common/log.ts';
import { parseControllerConfig } from '../controller/config.ts';
import { Controller } from '../controller/controller.ts';
import { KubeClient } from '../controller/kubernetes/kube-client.ts';
import { SqliteStore } from '../controller/store/sqlite-store.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';
import { tempDir } from './helpers/tmp.ts';
import { until } from './helpers/until.ts';

const quiet = createLogger({}, { level: 'error' });
const ADMIN = 'admin-token-0123456789abcdef';

function call(base: string, method: string, path: string, body?: unknown, token = ADMIN): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject).end(body === undefined ? undefined : JSON.stringify(body));
  });
}


const CONFIG = { kind: 'BackupConfiguration', metadata: { name: 'nightly', namespace: 'shop' }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } } };

describe('Kubernetes mode: leader-only work on a real Lease', () => {
  let kube: KubeApiServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const replicas: { c: Controller; base: string; name: string }[] = [];
  /** The agent token pod mariadb-0's agent got when it registered (the ServiceAccount test). */
  let mariadbAgentToken = '';
  const startReplica = async (name: string): Promise<void> => {
    const config = parseControllerConfig({
      SIDESTASH_STORE: 'kubernetes', SIDESTASH_KUBECONFIG: kube.kubeconfig, POD_NAME: name, SIDESTASH_LEADER_ELECTION_NAMESPACE: 'default',
      SIDESTASH_LEADER_ELECTION_LEASE: '4s', SIDESTASH_LEADER_ELECTION_RENEW_DEADLINE: '3s', SIDESTASH_LEADER_ELECTION_RETRY_PERIOD: '500ms',
      SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_DB: `${dir.path}/${name}.db`, SIDESTASH_SWEEP_INTERVAL: '200ms', SIDESTASH_PENDING_TIMEOUT: '1s',
    });
    const store = Object.assign(new SqliteStore(`${dir.path}/${name}-resources.db`), { start: async (): Promise<void> => {} });
    const c = new Controller(config, quiet, { client: new KubeClient(config.kubernetes!.connection), store });
    const { port } = await c.start();
    replicas.push({ c, base: `http://127.0.0.1:${port}`, name });
  };

  before(async () => {
    kube = await startKubeApiServer();
    await kube.kubectlOk(['create', 'namespace', 'shop']);
    dir = await tempDir('sidestash-kube-leader-');
    for (const name of ['replica-a', 'replica-b']) await startReplica(name);
  });
  after(async () => {
    for (const r of replicas) await r.c.stop().catch(() => {});
    await kube?.stop();
    await dir?.cleanup();
  });

  it('only the Lease holder schedules and serves agents; the API works on both; the other takes over when it stops', async () => {
    const leader = await until('a leader', () => {
      const leading = replicas.filter((r) => r.c.isLeader);
      return leading.length === 1 ? leading[0] : undefined;
    });
    const follower = replicas.find((r) => r !== leader)!;
    const lease = await kube.request('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/sidestash-controller');
    assert.match(lease.body.spec.holderIdentity, new RegExp(`^${leader.name}_`));
    await until('the follower to see the holder', () => (follower.c.kube!.elector.holder === lease.body.spec.holderIdentity ? true : undefined));

    for (const r of replicas) assert.equal((await call(r.base, 'POST', '/api/v1/apply', CONFIG)).status, 200, `apply on ${r.name}`);
    const next = await until('the leader to schedule', async () => (await call(leader.base, 'GET', '/api/v1/backupconfigurations/nightly?namespace=shop')).body.status?.nextScheduleTime);
    assert.ok(Date.parse(next) > Date.now());
    assert.equal((await call(follower.base, 'GET', '/api/v1/backupconfigurations/nightly?namespace=shop')).body.status?.nextScheduleTime, undefined, 'a follower does not schedule');

    const refused = await call(follower.base, 'POST', '/api/v1/agents/register', { name: 'a', namespace: 'shop', targets: ['shop/db'] }, 'some-token');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'SIDESTASH_NOT_LEADER');
    assert.equal(refused.body.error.retryable, true);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers.connection, 'close');
    assert.match(refused.body.error.message, new RegExp(leader.name));
    assert.equal((await call(follower.base, 'POST', '/api/v1/agents/shop/a/heartbeat', {}, 'x')).status, 503, 'every agent path');
    assert.equal((await call(leader.base, 'POST', '/api/v1/agents/register', { name: 'a', namespace: 'shop', targets: ['shop/db'] }, 'not-a-token')).status, 401, 'the leader checks the token');

    await leader.c.stop();
    replicas.splice(replicas.indexOf(leader), 1);
    await until('the follower to take over', () => (follower.c.isLeader ? true : undefined));
    await until('the new leader to schedule', async () => (await call(follower.base, 'GET', '/api/v1/backupconfigurations/nightly?namespace=shop')).body.status?.nextScheduleTime);
    assert.equal((await call(follower.base, 'POST', '/api/v1/agents/register', { name: 'a', namespace: 'shop', targets: ['shop/db'] }, 'not-a-token')).status, 401, 'now it serves agents');
  });

  it('a session that no agent serves fails with Warning Events on it and on its configuration', async () => {
    const leader = await until('a leader', () => replicas.find((r) => r.c.isLeader));
    const triggered = await call(leader.base, 'POST', '/api/v1/backupconfigurations/nightly/trigger?namespace=shop');
    assert.equal(triggered.status, 201, JSON.stringify(triggered.body));
    const name = triggered.body.metadata.name as string;
    const events = async (): Promise<any[]> => (await kube.request('GET', '/api/v1/namespaces/shop/events')).body.items ?? [];
    const noAgent = await until('the NoAgent events', async () => {
      const found = (await events()).filter((e) => e.reason === 'NoAgent' || e.reason === 'SessionNoAgent');
      return found.length === 2 ? found : undefined;
    });
    const onSession = noAgent.find((e) => e.reason === 'NoAgent');
    assert.deepEqual([onSession.type, onSession.involvedObject.kind, onSession.involvedObject.name, onSession.involvedObject.apiVersion], ['Warning', 'BackupSession', name, 'sidestash.io/v1']);
    assert.match(onSession.message, /^SIDESTASH_NO_AGENT: /);
    assert.equal(onSession.involvedObject.uid, triggered.body.metadata.uid, 'kubectl describe finds Events by uid');
    const onConfig = noAgent.find((e) => e.reason === 'SessionNoAgent');
    assert.deepEqual([onConfig.type, onConfig.involvedObject.kind, onConfig.involvedObject.name], ['Warning', 'BackupConfiguration', 'nightly']);
    assert.equal(onConfig.source.component, 'sidestash-controller');
  });

  it('agents authenticate with their pod\'s projected ServiceAccount token: own namespace, annotated AppBindings, the pod\'s name', async () => {
    const leader = await until('a leader', () => replicas.find((r) => r.c.isLeader));
    await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'mariadb', namespace: 'shop' } },
    ] }) });
    const pod = (name: string, annotations: Record<string, string>): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', annotations }, spec: { serviceAccountName: 'mariadb', containers: [{ name: 'mariadb', image: 'mariadb:11' }] } });
    await kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('mariadb-0', { 'sidestash.io/target': 'db' }), pod('plain-0', {})] }) });
    const token = async (podName: string, audience = 'sidestash'): Promise<string> => (await kube.kubectlOk(['create', 'token', 'mariadb', '-n', 'shop', '--audience', audience, '--bound-object-kind', 'Pod', '--bound-object-name', podName])).trim();
    const sa = await token('mariadb-0');
    const register = (body: Record<string, unknown>, t = sa): ReturnType<typeof call> => call(leader.base, 'POST', '/api/v1/agents/register', { name: 'mariadb-0', namespace: 'shop', targets: ['shop/db'], version: 't', ...body }, t);

    const refusals: [string, Record<string, unknown>, string, number, RegExp][] = [
      ['another pod\'s name', { name: 'mariadb-1' }, sa, 403, /must register under that name/],
      ['an AppBinding the pod is not annotated for', { targets: ['shop/other'] }, sa, 403, /outside/],
      ['another namespace', { namespace: 'crm', targets: ['crm/db'] }, sa, 403, /not "crm"/],
      ['a token for another audience', {}, await token('mariadb-0', 'other'), 401, /./],
      ['a pod without the annotation', { name: 'plain-0' }, await token('plain-0'), 401, /./],
      ['not a token', {}, 'garbage', 401, /./],
    ];
    for (const [what, body, t, status, message] of refusals) {
      const res = await register(body, t);
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error.message, message, what);
    }
    const ok = await register({});
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.targets, ['shop/db']);
    mariadbAgentToken = ok.body.token;
    assert.equal((await call(leader.base, 'POST', '/api/v1/agents/shop/mariadb-0/heartbeat', {}, ok.body.token)).status, 200);
    const issue = await call(leader.base, 'POST', '/api/v1/agenttokens', { namespace: 'shop' });
    assert.equal(issue.status, 409, 'no enrolment tokens in Kubernetes mode');
    assert.match(issue.body.error.message, /ServiceAccount token/);
    const agents = (await call(leader.base, 'GET', '/api/v1/agents')).body.items;
    assert.deepEqual(agents.map((a: any) => a.name), ['shop/mariadb-0']);
    assert.match(agents[0].enrolledWith, /^serviceaccount:shop\/mariadb-0@/);
  });

  it('leadership A -> B -> A: the agent registers again with the returning leader and its running session stays its own', async () => {
    const leader = await until('a leader', () => replicas.find((r) => r.c.isLeader));
    const sa = (await kube.kubectlOk(['create', 'token', 'mariadb', '-n', 'shop', '--audience', 'sidestash', '--bound-object-kind', 'Pod', '--bound-object-name', 'mariadb-0'])).trim();
    const register = (currentToken?: string): ReturnType<typeof call> => call(leader.base, 'POST', '/api/v1/agents/register', { name: 'mariadb-0', namespace: 'shop', targets: ['shop/db'], version: 't', ...(currentToken ? { currentToken } : {}) }, sa);
    const first = await register(mariadbAgentToken);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const running = await leader.c.store.create({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name: 'flip-flop', namespace: 'shop' }, spec: { invoker: { apiGroup: 'sidestash.io', kind: 'BackupConfiguration', name: 'nightly' } }, status: { phase: 'Running', agent: 'shop/mariadb-0', startedAt: new Date().toISOString(), leaseExpiresAt: new Date(Date.now() + 600_000).toISOString() } } as any) as { status?: { phase?: string } };
    assert.equal(running.status?.phase, 'Running');

    // Another replica takes the Lease for a moment (as after a missed renewal): this one steps down,
    // then leads again once that holder's 1 s lease runs out. Meanwhile the agent registered with
    // the other leader, so what it presents now is that leader's token, unknown here.
    const path = '/apis/coordination.k8s.io/v1/namespaces/default/leases/sidestash-controller';
    await until('the Lease taken by another holder', async () => {
      const lease = (await kube.request('GET', path)).body;
      const put = await kube.request('PUT', path, { ...lease, spec: { ...lease.spec, holderIdentity: 'replica-c_0', leaseDurationSeconds: 1, renewTime: new Date().toISOString().replace('Z', '000Z') } });
      return put.status === 200 ? true : undefined;
    });
    await until('the step-down', () => (leader.c.isLeader ? undefined : true));
    await until('the same replica leading again', () => (leader.c.isLeader ? true : undefined));

    const again = await register('the-other-leaders-agent-token');
    assert.equal(again.status, 200, `the registration is not refused as a live agent's: ${JSON.stringify(again.body)}`);
    assert.equal((await call(leader.base, 'POST', '/api/v1/agents/shop/mariadb-0/heartbeat', {}, again.body.token)).status, 200);
    const session = await leader.c.store.get<unknown, { phase?: string }>('BackupSession', 'shop', 'flip-flop');
    assert.equal(session?.status?.phase, 'Running', `the agent's running session is not failed: ${JSON.stringify(session?.status)}`);
  });

  it('a session trigger on a follower answers NOT_LEADER (no second session beside the leader\'s), and the CLI calls again until it reaches the leader', async () => {
    const leader = await until('a leader', () => replicas.find((r) => r.c.isLeader));
    await startReplica('replica-c');
    const follower = replicas.at(-1)!;
    await until('the new replica to see the holder', () => (follower.c.kube!.elector.holder === leader.c.kube!.elector.identity ? true : undefined));
    const hourly = { ...CONFIG, metadata: { ...CONFIG.metadata, name: 'hourly' } };
    for (const r of [leader, follower]) assert.equal((await call(r.base, 'POST', '/api/v1/apply', hourly)).status, 200);

    const refused = await call(follower.base, 'POST', '/api/v1/backupconfigurations/hourly/trigger?namespace=shop');
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.deepEqual([refused.body.error.code, refused.body.error.retryable, refused.headers['retry-after'], refused.headers.connection], ['SIDESTASH_NOT_LEADER', true, '1', 'close']);
    assert.match(refused.body.error.message, /sessions are created by the leader/);
    assert.equal((await call(follower.base, 'POST', '/api/v1/backupconfigurations/hourly/trigger?namespace=shop', undefined, 'wrong')).status, 401, 'the admin token is checked first');
    assert.deepEqual((await follower.c.store.list('BackupSession', { namespace: 'shop' })).filter((s) => (s.spec as { invoker?: { name?: string } }).invoker?.name === 'hourly'), [], 'the follower created no session');

    // A stand-in for the Service: each new connection goes to the next replica, the follower first.
    const targets = [follower, leader].map((r) => Number(new URL(r.base).port));
    let next = 0;
    const service = createServer((client) => {
      const upstream = connect(targets[next++ % targets.length]!, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    try {
      const session = await api<{ metadata: { name: string } }>({ url: `http://127.0.0.1:${(service.address() as AddressInfo).port}`, token: ADMIN }, 'POST', '/api/v1/backupconfigurations/hourly/trigger?namespace=shop');
      assert.ok(next >= 2, `the first call reached the follower (connections: ${next})`);
      assert.ok(await leader.c.store.get('BackupSession', 'shop', session.metadata.name), 'the leader created the session');
    } finally {
      service.close();
    }
  });
});
