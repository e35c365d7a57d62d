// The controller in-process: validation, HTTP status codes, persistence across restarts,
// leases, overlap, history limit, agent isolation, metrics.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBackend } from '../common/backend/open-backend.ts';
import { createLogger } from '../common/log.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import type { ControllerConfig } from './config.ts';
import { parseControllerConfig } from './config.ts';
import { Controller } from './controller.ts';

const quiet = createLogger({}, { level: 'error' });
const ADMIN = 'admin-token-0123456789abcdef';
const BOOT = 'boot-token-0123456789abcdef';

async function call(base: string, method: string, path: string, body?: unknown, token = ADMIN, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

const resources = [
  { kind: 'Secret', metadata: { name: 'repo-secret' }, spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
  { kind: 'Secret', metadata: { name: 'db-secret' }, spec: { data: { username: Buffer.from('u').toString('base64'), password: Buffer.from('topsecret').toString('base64') } } },
  { kind: 'Repository', metadata: { name: 'repo' }, spec: { backend: { local: { path: 'REPO_PATH' }, storageSecretName: 'repo-secret' } } },
  { kind: 'AppBinding', metadata: { name: 'db' }, spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } },
  { kind: 'BackupConfiguration', metadata: { name: 'nightly' }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, backupHistoryLimit: 2 } },
];

describe('controller', () => {
  let dir: string;
  let config: ControllerConfig;
  let c: Controller;
  let base: string;
  let repo: Repository;
  const start = async (overrides: Partial<ControllerConfig> = {}): Promise<void> => {
    c = new Controller({ ...config, ...overrides }, quiet);
    const { port } = await c.start();
    base = `http://127.0.0.1:${port}`;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sidestash-controller-'));
    repo = await Repository.init(await openBackend(`local:${join(dir, 'repo')}`), 'pw', { scrypt: { N: 1024, r: 8, p: 1 } });
    (resources[2]!.spec as { backend: { local: { path: string } } }).backend.local.path = join(dir, 'repo');
    config = parseControllerConfig({ SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir, 'c.db'), SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: BOOT, SIDESTASH_SESSION_LEASE: '1s', SIDESTASH_SWEEP_INTERVAL: '200ms' });
    await start();
  });
  after(async () => {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports every configuration problem at once', () => {
    assert.throws(() => parseControllerConfig({ SIDESTASH_LISTEN: 'nope', SIDESTASH_SESSION_LEASE: 'soon' }), (err: Error) =>
      ['SIDESTASH_LISTEN', 'SIDESTASH_ADMIN_TOKEN', 'SIDESTASH_SESSION_LEASE'].every((v) => err.message.includes(v)));
    assert.throws(() => parseControllerConfig({ SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'short', SIDESTASH_AGENT_BOOTSTRAP_NAMESPACE: 'Not_NS', SIDESTASH_AGENT_TOKENS_FILE: join(dir, 'missing.json') }), (err: Error) =>
      ['SIDESTASH_AGENT_BOOTSTRAP_TOKEN', 'SIDESTASH_AGENT_BOOTSTRAP_NAMESPACE', 'SIDESTASH_AGENT_TOKENS_FILE'].every((v) => err.message.includes(v)));
  });

  it('refuses requests without the admin token', async () => {
    assert.equal((await call(base, 'GET', '/api/v1/secrets', undefined, 'wrong')).status, 401);
    assert.equal((await call(base, 'GET', '/api/v1/secrets', undefined, '')).status, 401);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  it('rejects invalid documents with every problem and its field path, storing nothing', async () => {
    const bad = [
      resources[0],
      { kind: 'Repository', metadata: { name: 'Bad_Name' }, spec: { backend: { local: { path: '' }, storageSecretName: 'x', color: 'red' } } },
      { kind: 'BackupConfiguration', metadata: { name: 'b' }, spec: { schedule: 'every day', repository: {}, target: { ref: { name: 'db' } }, dumpArgs: ['--result-file=/etc/passwd'], extra: 1 } },
    ];
    const res = await call(base, 'POST', '/api/v1/apply', bad);
    assert.equal(res.status, 422);
    const fields = (res.body.error.errors as { document: number; field: string }[]).map((e) => `${e.document}:${e.field}`);
    for (const f of ['2:metadata.name', '2:spec.backend.local.path', '2:spec.backend.color', '3:spec.repository.name', '3:spec.extra']) assert.ok(fields.includes(f), `${f} in ${fields.join(', ')}`);
    assert.equal((await call(base, 'GET', '/api/v1/secrets')).body.items.length, 0, 'nothing applied');
    const sem = await call(base, 'POST', '/api/v1/apply', { kind: 'BackupConfiguration', metadata: { name: 'b' }, spec: { schedule: 'every day', repository: { name: 'r' }, target: { ref: { name: 'db' } }, dumpArgs: ['--result-file=/etc/passwd'] } });
    assert.equal(sem.status, 422);
    assert.deepEqual((sem.body.error.errors as { field: string }[]).map((e) => e.field).sort(), ['spec.dumpArgs[0]', 'spec.schedule']);
    assert.equal((await call(base, 'POST', '/api/v1/apply', 'kind: [unclosed', ADMIN, 'application/yaml')).status, 400);
    assert.equal((await call(base, 'POST', '/api/v1/apply', { kind: 'Pod', metadata: { name: 'x' }, spec: {} })).status, 422);
  });

  it('applies YAML, reports created/unchanged/configured, hides secret values, and 404s', async () => {
    const yaml = (await import('yaml')).stringify;
    const text = resources.map((r) => yaml(r)).join('---\n');
    const first = await call(base, 'POST', '/api/v1/apply', text, ADMIN, 'application/yaml');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.results.map((r: { outcome: string }) => r.outcome), ['created', 'created', 'created', 'created', 'created']);
    const again = await call(base, 'POST', '/api/v1/apply', text, ADMIN, 'application/yaml');
    assert.ok(again.body.results.every((r: { outcome: string }) => r.outcome === 'unchanged'));
    const secret = await call(base, 'GET', '/api/v1/secrets/db-secret');
    assert.deepEqual(secret.body.spec, { data: { password: '[REDACTED]', username: '[REDACTED]' } });
    assert.ok(!JSON.stringify((await call(base, 'GET', '/api/v1/secrets')).body).includes('dG9wc2VjcmV0'));
    assert.equal((await call(base, 'GET', '/api/v1/repositories/nope')).status, 404);
    assert.equal((await call(base, 'GET', '/api/v1/widgets')).status, 404);
    assert.equal((await call(base, 'PUT', '/api/v1/secrets')).status, 405);
    const cfg = await call(base, 'GET', '/api/v1/backupconfigurations/nightly');
    assert.match(cfg.body.status.nextScheduleTime, /T03:00:00/);
  });

  it('hands sessions only to the agent serving the target, renews leases, and fails lost sessions', async () => {
    const reg = await call(base, 'POST', '/api/v1/agents/register', { name: 'a1', namespace: 'default', targets: ['default/db'], version: 't' }, BOOT);
    assert.equal(reg.status, 200);
    const other = await call(base, 'POST', '/api/v1/agents/register', { name: 'a2', namespace: 'default', targets: ['default/other'], version: 't' }, BOOT);
    assert.equal((await call(base, 'POST', '/api/v1/agents/register', { name: 'a3', namespace: 'default', targets: ['default/x'] }, ADMIN)).status, 401);
    assert.equal((await call(base, 'POST', '/api/v1/agents/register', { name: 'a3', namespace: 'default', targets: ['x'] }, BOOT)).status, 422);
    const t1 = reg.body.token as string;
    const t2 = other.body.token as string;

    const trig = await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger');
    assert.equal(trig.status, 201);
    assert.equal((await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger')).status, 409, 'no overlapping sessions');
    assert.equal((await call(base, 'GET', '/api/v1/agents/default/a2/sessions/next?waitMs=0', undefined, t2)).status, 204);
    assert.equal((await call(base, 'GET', '/api/v1/agents/default/a1/sessions/next?waitMs=0', undefined, t2)).status, 401, 'a token is good for its own agent only');
    for (const path of ['/api/v1/secrets', '/api/v1/secrets/db-secret', '/api/v1/backupsessions', '/api/v1/repositories/repo/snapshots']) {
      assert.equal((await call(base, 'GET', path, undefined, t1)).status, 401, `an agent token does not open ${path}`);
    }
    assert.equal((await call(base, 'POST', '/api/v1/apply', resources[0], BOOT)).status, 401, 'nor does the bootstrap token');
    const next = await call(base, 'GET', '/api/v1/agents/default/a1/sessions/next?waitMs=0', undefined, t1);
    assert.equal(next.status, 200);
    assert.equal(next.body.kind, 'BackupSession');
    assert.equal(next.body.database.password, 'topsecret');
    assert.equal(next.body.repository.password, 'pw');
    const name = next.body.name as string;
    const prog = `/api/v1/agents/default/a2/sessions/BackupSession/default/${name}/progress`;
    assert.equal((await call(base, 'POST', prog, { bytesDumped: 1, bytesStored: 1, rateBytesPerSecond: 1 }, t2)).status, 403, "another agent's session");
    for (let i = 0; i < 3; i++) {
      const p = await call(base, 'POST', `/api/v1/agents/default/a1/sessions/BackupSession/default/${name}/progress`, { bytesDumped: 100 * i, bytesStored: 50 * i, rateBytesPerSecond: 10, estimatedTotalBytes: 1000, etaSeconds: 5 }, t1);
      assert.equal(p.status, 200);
      assert.equal(p.body.cancel, false);
      await new Promise((r) => setTimeout(r, 500));
    }
    const running = await call(base, 'GET', `/api/v1/backupsessions/${name}`);
    assert.equal(running.body.status.phase, 'Running', 'progress keeps the lease alive');
    assert.equal(running.body.status.progress.etaSeconds, 5);
    await new Promise((r) => setTimeout(r, 1800));
    const lost = await call(base, 'GET', `/api/v1/backupsessions/${name}`);
    assert.equal(lost.body.status.phase, 'Failed');
    assert.equal(lost.body.status.error.code, 'SIDESTASH_AGENT_LOST');
    assert.equal((await call(base, 'POST', `/api/v1/agents/default/a1/sessions/BackupSession/default/${name}/result`, { phase: 'Succeeded' }, t1)).status, 409);
  });

  it('passes a cancel request to the running agent and fails pending sessions at once', async () => {
    const reg = await call(base, 'POST', '/api/v1/agents/register', { name: 'a4', namespace: 'default', targets: ['default/db'], version: 't' }, BOOT);
    const token = reg.body.token as string;
    const pending = await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger');
    const cancelledPending = await call(base, 'POST', `/api/v1/backupsessions/${pending.body.metadata.name}/cancel`);
    assert.equal(cancelledPending.body.status.phase, 'Failed');
    assert.equal(cancelledPending.body.status.error.code, 'SIDESTASH_SESSION_CANCELLED');
    await new Promise((r) => setTimeout(r, 1100));
    await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger');
    const next = await call(base, 'GET', '/api/v1/agents/default/a4/sessions/next?waitMs=1000', undefined, token);
    const path = `/api/v1/agents/default/a4/sessions/BackupSession/default/${next.body.name}`;
    assert.equal((await call(base, 'POST', `/api/v1/backupsessions/${next.body.name}/cancel`)).body.status.cancelRequested, true);
    const p = await call(base, 'POST', `${path}/progress`, { bytesDumped: 1, bytesStored: 1, rateBytesPerSecond: 1 }, token);
    assert.equal(p.body.cancel, true);
    assert.equal((await call(base, 'POST', `${path}/result`, { phase: 'Failed', error: { code: 'SIDESTASH_SESSION_CANCELLED', message: 'cancelled' } }, token)).status, 200);
    assert.equal((await call(base, 'POST', `/api/v1/backupsessions/${next.body.name}/cancel`)).status, 409);
    await new Promise((r) => setTimeout(r, 1100));
  });

  it('keeps state across restarts and prunes session history to the limit', async () => {
    const reg = await call(base, 'POST', '/api/v1/agents/register', { name: 'a5', namespace: 'default', targets: ['default/db'], version: 't' }, BOOT);
    const token = reg.body.token as string;
    for (let i = 0; i < 3; i++) {
      await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger');
      const next = await call(base, 'GET', '/api/v1/agents/default/a5/sessions/next?waitMs=1000', undefined, token);
      assert.equal(next.status, 200);
      const { snapshotId } = await writeSnapshot(repo, Readable.from([Buffer.from('-- dump\n')]), { filename: 'dumpfile.sql', hostname: 'db', tags: [`session=${next.body.name}`] });
      const done = await call(base, 'POST', `/api/v1/agents/default/a5/sessions/BackupSession/default/${next.body.name}/result`, { phase: 'Succeeded', snapshotId, bytesRead: 10 }, token);
      assert.equal(done.status, 200);
      await new Promise((r) => setTimeout(r, 1100)); // session names carry seconds
    }
    const sessions = (await call(base, 'GET', '/api/v1/backupsessions')).body.items as { status: { phase: string } }[];
    assert.equal(sessions.length, 2, 'backupHistoryLimit 2');
    // A session left Running by an agent that dies with the controller.
    await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger');
    const orphan = await call(base, 'GET', '/api/v1/agents/default/a5/sessions/next?waitMs=1000', undefined, token);
    await c.stop();
    await start();
    assert.equal((await call(base, 'GET', '/api/v1/repositories/repo')).status, 200);
    assert.equal((await call(base, 'GET', '/api/v1/agents/default/a5/sessions/next?waitMs=0', undefined, token)).status, 204, 'agent tokens survive restarts');
    await new Promise((r) => setTimeout(r, 1500));
    const after = await call(base, 'GET', `/api/v1/backupsessions/${orphan.body.name}`);
    assert.equal(after.body.status.phase, 'Failed');
    assert.equal(after.body.status.error.code, 'SIDESTASH_AGENT_LOST');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // History limit 2: the orphan (Failed) and the newest success remain.
    assert.match(metrics, /sidestash_sessions\{kind="BackupSession",phase="Succeeded"\} 1/);
    assert.match(metrics, /sidestash_sessions\{kind="BackupSession",phase="Failed"\} 1/);
    assert.match(metrics, /sidestash_sessions\{kind="BackupSession",phase="Running"\} 0/);
    assert.match(metrics, /sidestash_controller_http_requests_total/);
  });
});
