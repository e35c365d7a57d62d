// The controller in-process: validation, HTTP status codes, persistence across restarts,
// leases, overlap, history limit, agent isolation, metrics.
import assert from 'node:assert/strict';
import { upsert } from './store/upsert.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBackend } from '../common/backend/open-backend.ts';
import { createLogger } from '../common/log.ts';
import { Repository } from '../common/repository/repository.ts';
import { targetTags } from '../common/repository/snapshot-selector.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import type { ControllerConfig } from './config.ts';
import { parseControllerConfig } from './config.ts';
import { Controller } from './controller.ts';
import { until as untilValue } from '../test/helpers/until.ts';

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

/** Polls `probe` until it returns a value; fails after 20 s (a bound, not a duration under test). */
const until = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => untilValue(what, probe, 20_000, 50);

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
    config = parseControllerConfig({ SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir, 'c.db'), SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: BOOT, SIDESTASH_SESSION_LEASE: '1s', SIDESTASH_SWEEP_INTERVAL: '200ms', SIDESTASH_INSECURE_HTTP: 'true' });
    await start();
  });
  after(async () => {
    await c.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports every configuration problem at once', async () => {
    await assert.rejects(async () => parseControllerConfig({ SIDESTASH_LISTEN: 'nope', SIDESTASH_SESSION_LEASE: 'soon', SIDESTASH_PENDING_TIMEOUT: '5 minutes' }), (err: Error) =>
      ['SIDESTASH_LISTEN', 'SIDESTASH_ADMIN_TOKEN', 'SIDESTASH_SESSION_LEASE', 'SIDESTASH_PENDING_TIMEOUT'].every((v) => err.message.includes(v)));
    assert.equal(parseControllerConfig({ SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_INSECURE_HTTP: 'true' }).pendingTimeoutMs, 5 * 60_000, 'SIDESTASH_PENDING_TIMEOUT defaults to 5m');
    await assert.rejects(async () => parseControllerConfig({ SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'short', SIDESTASH_AGENT_BOOTSTRAP_NAMESPACE: 'Not_NS', SIDESTASH_AGENT_TOKENS_FILE: join(dir, 'missing.json') }), (err: Error) =>
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

  it('refuses dump arguments outside the allow-list in any spelling, each with its field path, and takes positional names', async () => {
    const cfg = (dumpArgs: unknown[]) => ({ kind: 'BackupConfiguration', metadata: { name: 'dump-args' }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, dumpArgs } });
    const refused = await call(base, 'POST', '/api/v1/apply', cfg(['--single-transaction', '--res=/etc/passwd', '--log_error', '/etc/cron.d/x', '-T/tmp', '--loose-plugin-dir=/tmp', '--d', '--where=1 INTO OUTFILE "/tmp/x"', '--databases', '-x', 'shop']));
    assert.equal(refused.status, 422);
    const errors = refused.body.error.errors as { field: string; message: string }[];
    assert.deepEqual(errors.map((e) => e.field), ['spec.dumpArgs[1]', 'spec.dumpArgs[2]', 'spec.dumpArgs[4]', 'spec.dumpArgs[5]', 'spec.dumpArgs[6]', 'spec.dumpArgs[7]']);
    assert.match(errors[0]!.message, /--res \(--result-file\) is not allowed/);
    assert.match(errors[4]!.message, /ambiguous/);
    const ok = await call(base, 'POST', '/api/v1/apply', cfg(['--databases', 'shop', 'crm', '--single-transaction', '--where', "status = 'open'"]));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await call(base, 'DELETE', '/api/v1/backupconfigurations/dump-args')).status < 300, true);
  });

  it('refuses local repository paths in system directories, not normalised, or with ..', async () => {
    const repo = (path: string) => ({ kind: 'Repository', metadata: { name: 'sys-repo' }, spec: { backend: { local: { path }, storageSecretName: 'repo-secret' } } });
    for (const [path, message] of [['/', /itself/], ['/etc/sidestash', /\/etc/], ['/proc/self/cwd', /\/proc/], ['/var/lib/mysql', /\/var\/lib\/mysql/], ['/srv/../etc', /\.\./], ['relative/repo', /absolute/], ['/srv//repo', /normalised/]] as const) {
      const res = await call(base, 'POST', '/api/v1/apply', repo(path));
      assert.equal(res.status, 422, path);
      const errors = res.body.error.errors as { field: string; message: string }[];
      assert.deepEqual(errors.map((e) => e.field), ['spec.backend.local.path'], path);
      assert.match(errors[0]!.message, message);
    }
  });

  it('answers malformed paths, request targets, bodies and YAML bombs with 400, and refuses Secret values that are not text', async () => {
    for (const path of ['/api/v1/secrets/%zz', '/api/v1/secrets/%', '/api/v1/secrets/%C3%28']) {
      const res = await call(base, 'GET', path);
      assert.equal(res.status, 400, path);
      assert.equal(res.body.error.code, 'SIDESTASH_INVALID_ARGUMENT');
    }
    // Request targets that are no URL: on the old code "//" threw outside the handler's try (an
    // unhandled rejection that ends the process); now a 404 (the path "//"), and "*" or a broken
    // absolute URL a 400.
    const { connect } = await import('node:net');
    const raw = (line: string): Promise<string> =>
      new Promise<string>((resolve) => {
        const s = connect(Number(new URL(base).port), '127.0.0.1', () => s.end(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let text = '';
        s.on('data', (d: Buffer) => (text += d.toString()));
        s.on('close', () => resolve(text));
        s.on('error', () => resolve(text));
      });
    assert.match(await raw('GET // HTTP/1.1'), /^HTTP\/1\.1 404/);
    assert.match(await raw('OPTIONS * HTTP/1.1'), /^HTTP\/1\.1 400/);
    assert.match(await raw('GET http://[ HTTP/1.1'), /^HTTP\/1\.1 400/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const levels = ['a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const bomb = await call(base, 'POST', '/api/v1/apply', `${levels.join('\n')}\n`, ADMIN, 'application/yaml');
    assert.equal(bomb.status, 400);
    assert.match(bomb.body.error.message, /aliases expand too much/);
    const notUtf8 = await fetch(`${base}/api/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/yaml' }, body: Buffer.concat([Buffer.from('kind: Secret\nmetadata: {name: s}\nspec: {stringData: {password: "a'), Buffer.from([0xff]), Buffer.from('"}}\n')]) });
    assert.equal(notUtf8.status, 400);
    assert.match(((await notUtf8.json()) as { error: { message: string } }).error.message, /not valid UTF-8/);
    // Secret values are text: bytes that are not UTF-8, or an unpaired surrogate, are refused with their field, not altered.
    const secret = await call(base, 'POST', '/api/v1/apply', '{"kind":"Secret","metadata":{"name":"bin"},"spec":{"data":{"password":"' + Buffer.from([0x70, 0xff, 0x77]).toString('base64') + '","username":"' + Buffer.from('ü').toString('base64') + '"},"stringData":{"other":"\\ud800"}}}');
    assert.equal(secret.status, 422);
    assert.deepEqual((secret.body.error.errors as { field: string }[]).map((e) => e.field).sort(), ['spec.data.password', 'spec.stringData.other']);
    assert.equal((await call(base, 'GET', '/api/v1/secrets/bin')).status, 404, 'nothing stored');
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
    }
    const running = await call(base, 'GET', `/api/v1/backupsessions/${name}`);
    assert.equal(running.body.status.phase, 'Running', 'progress keeps the lease alive');
    assert.equal(running.body.status.progress.etaSeconds, 5);
    assert.equal(running.body.status.progress.percent, 20, 'the last report: 200 of an estimated 1000 bytes (for kubectl get)');
    // Lease renewal and expiry at exact instants: controller/sessions/session-manager.test.ts. Here,
    // once: the running controller's sweep fails a silent agent's session (lease 1s).
    const lost = await until(`session ${name} to fail`, async () => {
      const s = await call(base, 'GET', `/api/v1/backupsessions/${name}`);
      return s.body.status.phase === 'Running' ? undefined : s;
    });
    assert.equal(lost.body.status.phase, 'Failed');
    assert.equal(lost.body.status.error.code, 'SIDESTASH_AGENT_LOST');
    assert.equal((await call(base, 'POST', `/api/v1/agents/default/a1/sessions/BackupSession/default/${name}/result`, { phase: 'Succeeded' }, t1)).status, 409);
  });

  it('passes a cancel request to the running agent and ends pending sessions Cancelled at once', async () => {
    const reg = await call(base, 'POST', '/api/v1/agents/register', { name: 'a4', namespace: 'default', targets: ['default/db'], version: 't' }, BOOT);
    const token = reg.body.token as string;
    const pending = await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger');
    const cancelledPending = await call(base, 'POST', `/api/v1/backupsessions/${pending.body.metadata.name}/cancel`);
    assert.equal(cancelledPending.body.status.phase, 'Cancelled');
    assert.equal(cancelledPending.body.status.error.code, 'SIDESTASH_SESSION_CANCELLED');
    await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger');
    const next = await call(base, 'GET', '/api/v1/agents/default/a4/sessions/next?waitMs=1000', undefined, token);
    const path = `/api/v1/agents/default/a4/sessions/BackupSession/default/${next.body.name}`;
    assert.equal((await call(base, 'POST', `/api/v1/backupsessions/${next.body.name}/cancel`)).body.status.cancelRequested, true);
    const p = await call(base, 'POST', `${path}/progress`, { bytesDumped: 1, bytesStored: 1, rateBytesPerSecond: 1 }, token);
    assert.equal(p.body.cancel, true);
    assert.equal((await call(base, 'POST', `${path}/result`, { phase: 'Failed', error: { code: 'SIDESTASH_SESSION_CANCELLED', message: 'cancelled' } }, token)).status, 200);
    assert.equal((await call(base, 'GET', `/api/v1/backupsessions/${next.body.name}`)).body.status.phase, 'Cancelled', 'the agent reports Failed; the cancel asked for makes it Cancelled');
    assert.equal((await call(base, 'POST', `/api/v1/backupsessions/${next.body.name}/cancel`)).status, 409);
  });

  it('keeps state across restarts and prunes session history to the limit', async () => {
    const reg = await call(base, 'POST', '/api/v1/agents/register', { name: 'a5', namespace: 'default', targets: ['default/db'], version: 't' }, BOOT);
    const token = reg.body.token as string;
    for (let i = 0; i < 3; i++) {
      await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger');
      const next = await call(base, 'GET', '/api/v1/agents/default/a5/sessions/next?waitMs=1000', undefined, token);
      assert.equal(next.status, 200);
      const { snapshotId } = await writeSnapshot(repo, Readable.from([Buffer.from('-- dump\n')]), { filename: 'dumpfile.sql', hostname: 'db', tags: [`session=${next.body.name}`, `session-uid=${next.body.sessionUid}`, ...targetTags({ namespace: 'default', name: 'db' })] });
      const done = await call(base, 'POST', `/api/v1/agents/default/a5/sessions/BackupSession/default/${next.body.name}/result`, { phase: 'Succeeded', snapshotId, bytesRead: 10 }, token);
      assert.equal(done.status, 200);
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
    const after = await until(`the orphaned session ${orphan.body.name} to fail`, async () => {
      const s = await call(base, 'GET', `/api/v1/backupsessions/${orphan.body.name}`);
      return s.body.status.phase === 'Running' ? undefined : s;
    });
    assert.equal(after.body.status.phase, 'Failed');
    assert.equal(after.body.status.error.code, 'SIDESTASH_AGENT_LOST');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // History limit 2: the orphan (Failed) and the newest success remain.
    assert.match(metrics, /sidestash_sessions\{kind="BackupSession",phase="Succeeded"\} 1/);
    assert.match(metrics, /sidestash_sessions\{kind="BackupSession",phase="Failed"\} 1/);
    assert.match(metrics, /sidestash_sessions\{kind="BackupSession",phase="Running"\} 0/);
    assert.match(metrics, /sidestash_controller_http_requests_total/);
  });
  it('refuses retention policies that would keep nothing and unbounded timeouts, each with its field path', async () => {
    const cfg = (spec: Record<string, unknown>, kind = 'BackupConfiguration') => ({
      kind, metadata: { name: 'guarded' },
      spec: kind === 'RestoreSession' ? { repository: { name: 'repo' }, target: { ref: { name: 'db' } }, ...spec } : { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } }, ...spec },
    });
    const refused: [Record<string, unknown>, string, RegExp, string?][] = [
      [{ retentionPolicy: { keepTags: ['gold'] } }, 'spec.retentionPolicy', /keepTags alone/],
      [{ retentionPolicy: { keepLast: 0, keepDaily: 0 } }, 'spec.retentionPolicy', /keeps no snapshot/],
      [{ retentionPolicy: { name: 'p', prune: true } }, 'spec.retentionPolicy', /keeps no snapshot/],
      [{ timeout: '169h' }, 'spec.timeout', /at most 168h/],
      [{ timeout: '9999999999999h' }, 'spec.timeout', /at most 168h/],
      [{ timeout: '0s' }, 'spec.timeout', /at least 1s/],
      [{ timeout: '200h' }, 'spec.timeout', /at most 168h/, 'RestoreSession'],
    ];
    for (const [spec, field, message, kind] of refused) {
      const res = await call(base, 'POST', '/api/v1/apply', cfg(spec, kind));
      assert.equal(res.status, 422, JSON.stringify(spec));
      assert.deepEqual((res.body.error.errors as { field: string }[]).map((e) => e.field), [field], JSON.stringify(res.body));
      assert.match(res.body.error.errors[0].message, message);
    }
    assert.equal((await call(base, 'GET', '/api/v1/backupconfigurations/guarded')).status, 404);
    const ok = await call(base, 'POST', '/api/v1/apply', cfg({ timeout: '168h', retentionPolicy: { keepTags: ['gold'], keepLast: 3 }, shrinkGuard: { thresholdPercent: 30 } }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await call(base, 'DELETE', '/api/v1/backupconfigurations/guarded')).status, 200);
  });

  it('applies several documents all or nothing: one failing at apply stores none', async () => {
    const session = { kind: 'BackupSession', metadata: { name: 'pinned-session' }, spec: { invoker: { kind: 'BackupConfiguration', name: 'no-such-config' }, trigger: 'manual' } };
    assert.equal((await call(base, 'POST', '/api/v1/apply', session)).status, 200);
    const batch = [
      { kind: 'Secret', metadata: { name: 'atomic-secret' }, spec: { stringData: { a: 'b' } } },
      { kind: 'AppBinding', metadata: { name: 'atomic-db' }, spec: { clientConfig: { socket: '/s' }, secret: { name: 'atomic-secret' } } },
      { ...session, spec: { ...session.spec, trigger: 'schedule' } },
    ];
    const res = await call(base, 'POST', '/api/v1/apply', batch);
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.equal((await call(base, 'GET', '/api/v1/secrets/atomic-secret')).status, 404, 'the earlier documents are not stored');
    assert.equal((await call(base, 'GET', '/api/v1/appbindings/atomic-db')).status, 404);
    assert.equal((await call(base, 'DELETE', '/api/v1/backupsessions/pinned-session')).status, 200);
  });

  it('a session whose configuration is broken fails alone; the agent still gets the others', async () => {
    await call(base, 'POST', '/api/v1/apply', { kind: 'AppBinding', metadata: { name: 'db2' }, spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } });
    await call(base, 'POST', '/api/v1/apply', { kind: 'AppBinding', metadata: { name: 'db3' }, spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } });
    // Stored before apply checked them (bypassing validation here): a timeout that is no duration,
    // and one whose deadline lies past any date (it used to make every poll of the agent a 500).
    const put = async (name: string, target: string, timeout: string) => (await upsert(c.store, { apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name, namespace: 'default' }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: target } }, timeout } }));
    await put('broken', 'db2', 'soon');
    await put('endless', 'db3', '9999999999999h');
    const broken = await call(base, 'POST', '/api/v1/backupconfigurations/broken/trigger');
    const endless = await call(base, 'POST', '/api/v1/backupconfigurations/endless/trigger');
    const good = await call(base, 'POST', '/api/v1/backupconfigurations/nightly/trigger');
    assert.equal(good.status, 201, JSON.stringify(good.body));
    const reg = await call(base, 'POST', '/api/v1/agents/register', { name: 'three-targets', namespace: 'default', targets: ['default/db2', 'default/db3', 'default/db'], version: 't' }, BOOT);
    const token = reg.body.token as string;
    const first = await call(base, 'GET', '/api/v1/agents/default/three-targets/sessions/next?waitMs=0', undefined, token);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.name, endless.body.metadata.name);
    assert.ok(first.body.deadlineMs <= Date.now() + 7 * 24 * 3_600_000, 'the timeout is cut to 7 days');
    const failed = await call(base, 'GET', `/api/v1/backupsessions/${broken.body.metadata.name}`);
    assert.equal(failed.body.status.phase, 'Failed');
    assert.equal(failed.body.status.error.code, 'SIDESTASH_INVALID_CONFIG');
    assert.match(failed.body.status.error.message, /spec\.timeout "soon" is not a duration/);
    const next = await call(base, 'GET', '/api/v1/agents/default/three-targets/sessions/next?waitMs=0', undefined, token);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.name, good.body.metadata.name);
    assert.equal(next.body.shrinkGuardPercent, 50);

    // The shrink guard's finding is recorded (type-checked) and exposed on /metrics.
    const shrink = { previousSnapshotId: 'c'.repeat(64), previousBytes: 1000, bytes: 10, percent: 1, thresholdPercent: 50 };
    const path = `/api/v1/agents/default/three-targets/sessions/BackupSession/default/${next.body.name}/result`;
    const { snapshotId } = await writeSnapshot(repo, Readable.from([Buffer.from('-- small dump\n')]), { filename: 'dumpfile.sql', hostname: 'db', tags: [`session=${next.body.name}`, `session-uid=${next.body.sessionUid}`, ...targetTags({ namespace: 'default', name: 'db' })] });
    const reported = await call(base, 'POST', path, { phase: 'Succeeded', snapshotId, bytesRead: 10, suspiciousShrink: shrink }, token);
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    const done = await call(base, 'GET', `/api/v1/backupsessions/${next.body.name}`);
    assert.deepEqual(done.body.status.suspiciousShrink, shrink);
    assert.equal(done.body.status.retention, undefined);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /sidestash_backup_suspicious_shrink\{namespace="default",configuration="nightly",target="db"\} 1/);
  });
});
