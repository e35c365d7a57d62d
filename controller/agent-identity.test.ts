// Agent identity bound to targets, with the real controller in-process and a real repository
// on a local backend: namespace-scoped enrolment tokens (environment, tokens file, admin API),
// namespace/name identity, no takeover of a live name, revocation, reported results checked
// against the repository, type-checked and sanitised reports.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { openBackend } from '../common/backend/open-backend.ts';
import { createLogger } from '../common/log.ts';
import { Repository } from '../common/repository/repository.ts';
import { targetTags } from '../common/repository/snapshot-selector.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { runCli } from '../test/helpers/stack.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { parseControllerConfig } from './config.ts';
import { Controller } from './controller.ts';

const quiet = createLogger({}, { level: 'error' });
const ADMIN = 'admin-token-0123456789abcdef';
const BOOT = 'boot-token-0123456789abcdef'; // SIDESTASH_AGENT_BOOTSTRAP_TOKEN: namespace "default"
const SHOP = 'shop-token-0123456789abcdef'; // tokens file: namespace "shop"
const CRM_DB = 'crm-db-token-0123456789abcdef'; // tokens file: namespace "crm", AppBinding "db" only
const sha = (t: string): string => createHash('sha256').update(t).digest('hex');

type Reply = { status: number; body: any };

describe('agent identity bound to targets', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let c: Controller;
  let base: string;
  let repoPath: string;
  let repo: Repository;

  const call = async (method: string, path: string, body?: unknown, token = ADMIN): Promise<Reply> => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const register = (namespace: string, name: string, targets: string[], token: string, extra: Record<string, unknown> = {}): Promise<Reply> =>
    call('POST', '/api/v1/agents/register', { name, namespace, targets, version: 't', ...extra }, token);
  const agentPath = (ns: string, name: string, rest: string): string => `/api/v1/agents/${ns}/${name}${rest}`;
  /** Triggers nightly in `ns` and has the agent claim it; returns the session name. */
  const claimBackup = async (ns: string, agent: string, token: string): Promise<string> => {
    assert.equal((await call('POST', `/api/v1/backupconfigurations/nightly/trigger?namespace=${ns}`)).status, 201);
    const next = await call('GET', agentPath(ns, agent, '/sessions/next?waitMs=0'), undefined, token);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.namespace, ns);
    return next.body.name as string;
  };
  const resultPath = (ns: string, agent: string, session: string, kind = 'BackupSession'): string => agentPath(ns, agent, `/sessions/${kind}/${ns}/${session}/result`);
  /** A snapshot as the agent of `ns`/`hostname` writes it (hostname, target tags, session tag). */
  const snapshotFor = async (hostname: string, session: string, ns = 'default'): Promise<string> => {
    // The session's uid, as its assignment gives it to the agent (when the session exists).
    const existing = await call('GET', `/api/v1/backupsessions/${session}?namespace=${ns}`);
    const uid = existing.status === 200 ? [`session-uid=${existing.body.metadata.uid as string}`] : [];
    const tags = ['invoker=nightly', `session=${session}`, ...uid, ...targetTags({ namespace: ns, name: hostname })];
    return (await writeSnapshot(repo, Readable.from([Buffer.from(`-- dump of ${session}\n`)]), { filename: 'dumpfile.sql', hostname, tags })).snapshotId;
  };
  const session = async (ns: string, name: string, plural = 'backupsessions'): Promise<any> => {
    const r = await call('GET', `/api/v1/${plural}/${name}?namespace=${ns}`);
    assert.equal(r.status, 200, 'GET of the session never fails');
    return r.body;
  };
  const nextSecond = (): Promise<void> => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10)); // session names carry seconds

  before(async () => {
    dir = await tempDir('sidestash-identity-');
    repoPath = join(dir.path, 'repo');
    repo = await Repository.init(await openBackend(`local:${repoPath}`), 'pw', { scrypt: { N: 1024, r: 8, p: 1 } });
    const tokensFile = join(dir.path, 'agent-tokens.json');
    await writeFile(tokensFile, JSON.stringify([{ id: 'shop', namespace: 'shop', sha256: sha(SHOP) }, { id: 'crm-db', namespace: 'crm', targets: ['db'], sha256: sha(CRM_DB) }]));
    const config = parseControllerConfig({
      SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir.path, 'c.db'), SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: BOOT,
      SIDESTASH_AGENT_TOKENS_FILE: tokensFile, SIDESTASH_SESSION_LEASE: '60s', SIDESTASH_SWEEP_INTERVAL: '1s', SIDESTASH_INSECURE_HTTP: 'true',
    });
    c = new Controller(config, quiet);
    base = `http://127.0.0.1:${(await c.start()).port}`;
    for (const ns of ['default', 'shop']) {
      const docs = [
        { kind: 'Secret', metadata: { name: 'repo-secret', namespace: ns }, spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
        { kind: 'Secret', metadata: { name: 'db-secret', namespace: ns }, spec: { stringData: { username: 'u', password: `pw-${ns}` } } },
        { kind: 'Repository', metadata: { name: 'repo', namespace: ns }, spec: { backend: { local: { path: repoPath }, storageSecretName: 'repo-secret' } } },
        { kind: 'AppBinding', metadata: { name: 'db', namespace: ns }, spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } },
        { kind: 'BackupConfiguration', metadata: { name: 'nightly', namespace: ns }, spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } } },
      ];
      const applied = await call('POST', '/api/v1/apply', docs);
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
    }
  });
  after(async () => {
    await c.stop();
    await dir.cleanup();
  });

  it('refuses an enrolment token scoped to another namespace', async () => {
    const r = await register('shop', 'mariadb-0', ['shop/db'], BOOT);
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.match(r.body.error.message, /scoped to namespace "default", not "shop"/);
    assert.equal((await register('default', 'mariadb-0', ['default/db'], 'not-a-token-0123456789')).status, 401);
    assert.equal((await register('default', 'mariadb-0', ['default/db'], ADMIN)).status, 401, 'the admin token is no enrolment token');
  });

  it('refuses targets outside the token\'s scope, and records only the granted targets', async () => {
    const foreign = await register('default', 'edge-0', ['default/db', 'shop/db'], BOOT);
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.error.message, /"shop\/db" is outside the agent's namespace "default"/);
    const other = await register('crm', 'crm-0', ['crm/other'], CRM_DB);
    assert.equal(other.status, 403);
    assert.match(other.body.error.message, /outside the enrolment token's scope \(crm\/db\)/);
    const ok = await register('crm', 'crm-0', ['crm/db'], CRM_DB);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.targets, ['crm/db']);
    const agents = (await call('GET', '/api/v1/agents')).body.items as { name: string; targets: string[]; enrolledWith: string }[];
    assert.deepEqual(agents.find((a) => a.name === 'crm/crm-0')?.targets, ['crm/db']);
    assert.equal(agents.find((a) => a.name === 'crm/crm-0')?.enrolledWith, 'token:crm-db');
  });

  let defaultToken = '';
  it('refuses a second registration under a live agent\'s name; the holder re-registers with its token', async () => {
    const first = await register('default', 'mariadb-0', ['default/db'], BOOT);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const t1 = first.body.token as string;
    const takeover = await register('default', 'mariadb-0', ['default/db'], BOOT);
    assert.equal(takeover.status, 409);
    assert.match(takeover.body.error.message, /is live/);
    assert.equal((await register('default', 'mariadb-0', ['default/db'], BOOT, { currentToken: 'guess-0123456789' })).status, 409, 'a wrong current token proves nothing');
    assert.equal((await call('GET', agentPath('default', 'mariadb-0', '/sessions/next?waitMs=0'), undefined, t1)).status, 204, 'the live agent keeps working');
    const again = await register('default', 'mariadb-0', ['default/db'], BOOT, { currentToken: t1 });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    defaultToken = again.body.token as string;
    assert.equal((await call('POST', agentPath('default', 'mariadb-0', '/heartbeat'), {}, t1)).status, 401, 'the old agent token is gone');
    assert.equal((await call('POST', agentPath('default', 'mariadb-0', '/heartbeat'), {}, defaultToken)).status, 200);
  });

  it('frees the name of an agent that deregisters (a clean stop), and only for its own token', async () => {
    const reg = await register('default', 'stopping-0', ['default/db'], BOOT);
    assert.equal((await call('POST', agentPath('default', 'stopping-0', '/deregister'), {}, defaultToken)).status, 401);
    assert.equal((await register('default', 'stopping-0', ['default/db'], BOOT)).status, 409);
    assert.equal((await call('POST', agentPath('default', 'stopping-0', '/deregister'), {}, reg.body.token)).status, 200);
    assert.equal((await call('POST', agentPath('default', 'stopping-0', '/heartbeat'), {}, reg.body.token)).status, 401);
    assert.equal((await register('default', 'stopping-0', ['default/db'], BOOT)).status, 200, 'the name is free at once');
  });

  let shopToken = '';
  it('keeps two pods of the same name in two namespaces apart: both work, each gets its own namespace\'s sessions', async () => {
    const shop = await register('shop', 'mariadb-0', ['shop/db'], SHOP);
    assert.equal(shop.status, 200, JSON.stringify(shop.body));
    shopToken = shop.body.token as string;
    assert.equal((await call('POST', agentPath('default', 'mariadb-0', '/heartbeat'), {}, defaultToken)).status, 200, 'default/mariadb-0 was not knocked out');
    assert.equal((await call('POST', agentPath('default', 'mariadb-0', '/heartbeat'), {}, shopToken)).status, 401, 'tokens are per namespace/name');
    const inShop = await claimBackup('shop', 'mariadb-0', shopToken);
    assert.equal((await call('GET', agentPath('default', 'mariadb-0', '/sessions/next?waitMs=0'), undefined, defaultToken)).status, 204, 'no session of shop for default/mariadb-0');
    const inDefault = await claimBackup('default', 'mariadb-0', defaultToken);
    assert.equal((await session('shop', inShop)).status.agent, 'shop/mariadb-0');
    assert.equal((await session('default', inDefault)).status.agent, 'default/mariadb-0');
    // Each finishes its own session with a real snapshot.
    for (const [ns, name, token] of [['shop', inShop, shopToken], ['default', inDefault, defaultToken]] as const) {
      assert.equal((await call('POST', resultPath(ns, 'mariadb-0', name), { phase: 'Succeeded', snapshotId: await snapshotFor('db', name, ns) }, token)).status, 200);
      assert.equal((await session(ns, name)).status.phase, 'Succeeded');
    }
    assert.equal((await call('POST', resultPath('shop', 'mariadb-0', inShop), { phase: 'Failed' }, shopToken)).status, 409, 'a finished session takes no result');
  });

  it('issues, lists and revokes namespace-scoped enrolment tokens through the admin API; a revoked token enrols no one and cuts off its agents', async () => {
    const bad = await call('POST', '/api/v1/agenttokens', { namespace: 'Not_A_Namespace', targets: 'db', colour: 'red' });
    assert.equal(bad.status, 422);
    assert.deepEqual((bad.body.error.errors as { field: string }[]).map((e) => e.field).sort(), ['colour', 'namespace', 'targets']);
    assert.equal((await call('POST', '/api/v1/agenttokens', { namespace: 'default' }, defaultToken)).status, 401, 'agent tokens cannot issue tokens');
    const issued = await call('POST', '/api/v1/agenttokens', { namespace: 'default', targets: ['db'], description: 'edge box \u001b[31m1' });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    const { id, token } = issued.body as { id: string; token: string };
    const list = await call('GET', '/api/v1/agenttokens');
    const listed = (list.body.items as { id: string; source: string; description?: string }[]).find((t) => t.id === id)!;
    assert.equal(listed.description, 'edge box 1');
    assert.ok(!JSON.stringify(list.body).includes(token) && !JSON.stringify(list.body).includes(sha(token)), 'listing shows neither token nor hash');
    assert.deepEqual((list.body.items as { id: string; source: string }[]).filter((t) => t.source !== 'api').map((t) => `${t.id}:${t.source}`), ['bootstrap:env', 'shop:file', 'crm-db:file']);
    const reg = await register('default', 'edge-1', ['default/db'], token);
    assert.equal(reg.status, 200);
    assert.equal((await call('DELETE', `/api/v1/agenttokens/${id}`)).status, 200);
    assert.ok((await call('GET', '/api/v1/agenttokens')).body.items.find((t: { id: string }) => t.id === id).revokedAt);
    assert.equal((await register('default', 'edge-2', ['default/db'], token)).status, 401, 'a revoked token enrols no one');
    assert.equal((await call('GET', agentPath('default', 'edge-1', '/sessions/next?waitMs=0'), undefined, reg.body.token)).status, 401, 'agents it enrolled lose access');
    assert.equal((await call('DELETE', '/api/v1/agenttokens/bootstrap')).status, 409, 'configured tokens are removed from the configuration');
    assert.equal((await call('DELETE', '/api/v1/agenttokens/at-nothing')).status, 404);
  });

  it('issues, lists and revokes enrolment tokens from the CLI', async () => {
    const env = { SIDESTASH_URL: base, SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_INSECURE_HTTP: 'true' };
    const created = await runCli(['agenttoken', 'create', '-n', 'shop', '--targets', 'db', '--description', 'cli test'], env);
    assert.equal(created.code, 0, created.stderr);
    const [, id, token] = /agenttoken\/(at-[0-9a-f]+) created for shop\/db\n.*\n(\S+)\n$/.exec(created.stdout) ?? [];
    assert.ok(id && token, created.stdout);
    assert.equal((await register('shop', 'cli-0', ['shop/db'], token)).status, 200, 'the printed token enrols');
    // -n lists one namespace's tokens (no NAMESPACE column), -A every namespace's, as kubectl get.
    const list = await runCli(['agenttoken', 'list', '-n', 'shop'], env);
    assert.match(list.stdout, new RegExp(`${id}\\s+db\\s+api`));
    assert.match((await runCli(['agenttoken', 'list', '-A'], env)).stdout, new RegExp(`${id}\\s+shop\\s+db\\s+api`));
    assert.ok(!(await runCli(['agenttoken', 'list'], env)).stdout.includes(id), 'the default namespace has none of shop\'s tokens');
    assert.ok(!list.stdout.includes(token));
    assert.equal((await runCli(['agenttoken', 'revoke', id], env)).code, 0);
    assert.equal((await register('shop', 'cli-1', ['shop/db'], token)).status, 401);
    const wrong = await runCli(['agenttoken', 'create', '-n', 'Bad_NS'], env);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /namespace/);
  });

  it('fails a backup proven by the snapshot of an earlier session of the same name (deleted and created again)', async () => {
    const fixed = { kind: 'BackupSession', metadata: { name: 'fixed-name', namespace: 'default' }, spec: { invoker: { kind: 'BackupConfiguration', name: 'nightly' }, trigger: 'manual' } };
    assert.equal((await call('POST', '/api/v1/apply', fixed)).status, 200);
    const first = await call('GET', agentPath('default', 'mariadb-0', '/sessions/next?waitMs=0'), undefined, defaultToken);
    assert.equal(first.body.name, 'fixed-name');
    assert.match(first.body.sessionUid, /^[0-9a-f-]{36}$/, 'the assignment carries the session uid');
    const old = await snapshotFor('db', 'fixed-name');
    assert.equal((await call('POST', resultPath('default', 'mariadb-0', 'fixed-name'), { phase: 'Succeeded', snapshotId: old }, defaultToken)).status, 200);
    assert.equal((await call('DELETE', '/api/v1/backupsessions/fixed-name?namespace=default')).status, 200);
    assert.equal((await call('POST', '/api/v1/apply', fixed)).status, 200);
    const again = await call('GET', agentPath('default', 'mariadb-0', '/sessions/next?waitMs=0'), undefined, defaultToken);
    assert.equal(again.body.name, 'fixed-name');
    assert.notEqual(again.body.sessionUid, first.body.sessionUid);
    const r = await call('POST', resultPath('default', 'mariadb-0', 'fixed-name'), { phase: 'Succeeded', snapshotId: old }, defaultToken);
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match((await session('default', 'fixed-name')).status.error.message, /not written by this session.*session-uid=/);
    assert.equal((await call('DELETE', '/api/v1/backupsessions/fixed-name?namespace=default')).status, 200);
  });

  it('fails a backup reported Succeeded with a snapshot that does not exist', async () => {
    await nextSecond();
    const name = await claimBackup('default', 'mariadb-0', defaultToken);
    const fake = randomBytes(32).toString('hex');
    const r = await call('POST', resultPath('default', 'mariadb-0', name), { phase: 'Succeeded', snapshotId: fake, bytesRead: 10 }, defaultToken);
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'SIDESTASH_RESULT_REJECTED');
    const s = await session('default', name);
    assert.equal(s.status.phase, 'Failed');
    assert.equal(s.status.error.code, 'SIDESTASH_RESULT_REJECTED');
    assert.match(s.status.error.message, new RegExp(`snapshot ${fake} does not exist`));
    assert.equal(s.status.snapshotId, undefined);
    const noId = await (async () => {
      await nextSecond();
      const n = await claimBackup('default', 'mariadb-0', defaultToken);
      return call('POST', resultPath('default', 'mariadb-0', n), { phase: 'Succeeded' }, defaultToken);
    })();
    assert.equal(noId.status, 422, 'a success needs its snapshot');
  });

  it('fails a backup reported with another session\'s snapshot, or one of another host', async () => {
    await nextSecond();
    const name = await claimBackup('default', 'mariadb-0', defaultToken);
    const foreign = await snapshotFor('db', 'nightly-1');
    const r = await call('POST', resultPath('default', 'mariadb-0', name), { phase: 'Succeeded', snapshotId: foreign }, defaultToken);
    assert.equal(r.status, 422);
    assert.match((await session('default', name)).status.error.message, /not written by this session/);
    await nextSecond();
    const next = await claimBackup('default', 'mariadb-0', defaultToken);
    const otherHost = await snapshotFor('other-db', next);
    assert.equal((await call('POST', resultPath('default', 'mariadb-0', next), { phase: 'Succeeded', snapshotId: otherHost }, defaultToken)).status, 422);
    assert.equal((await session('default', next)).status.phase, 'Failed');
  });

  it('checks a restore\'s snapshot against what the RestoreSession could restore', async () => {
    const wanted = await snapshotFor('db', 'restore-source');
    const elsewhere = await snapshotFor('other-db', 'restore-other');
    const otherNamespace = await snapshotFor('db', 'restore-shop', 'shop');
    const restore = (name: string, snapshot: string) => ({ kind: 'RestoreSession', metadata: { name, namespace: 'default' }, spec: { repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, snapshot } });
    const cases: [string, string, string, number][] = [
      ['restore-by-id-wrong', wanted.slice(0, 10), elsewhere, 422],
      ['restore-latest-other-host', 'latest', elsewhere, 422],
      ['restore-latest-other-namespace', 'latest', otherNamespace, 422],
      ['restore-latest', 'latest', wanted, 200],
      ['restore-by-id', wanted.slice(0, 10), wanted, 200],
    ];
    for (const [name, ref, reported, status] of cases) {
      assert.equal((await call('POST', '/api/v1/apply', restore(name, ref))).status, 200);
      const next = await call('GET', agentPath('default', 'mariadb-0', '/sessions/next?waitMs=0'), undefined, defaultToken);
      assert.equal(next.body.name, name);
      const r = await call('POST', resultPath('default', 'mariadb-0', name, 'RestoreSession'), { phase: 'Succeeded', snapshotId: reported }, defaultToken);
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal((await session('default', name, 'restoresessions')).status.phase, status === 200 ? 'Succeeded' : 'Failed');
    }
  });

  it('answers 503 and keeps the session alive when the repository cannot be reached to check a result', async () => {
    const docs = [
      { kind: 'Repository', metadata: { name: 'down', namespace: 'default' }, spec: { backend: { rest: { url: 'http://127.0.0.1:9/' }, storageSecretName: 'repo-secret' } } },
      { kind: 'BackupConfiguration', metadata: { name: 'offline', namespace: 'default' }, spec: { schedule: '0 3 * * *', repository: { name: 'down' }, target: { ref: { name: 'db' } } } },
    ];
    assert.equal((await call('POST', '/api/v1/apply', docs)).status, 200);
    assert.equal((await call('POST', '/api/v1/backupconfigurations/offline/trigger?namespace=default')).status, 201);
    const next = await call('GET', agentPath('default', 'mariadb-0', '/sessions/next?waitMs=0'), undefined, defaultToken);
    assert.equal(next.body.invoker, 'offline');
    const before = (await session('default', next.body.name)).status.leaseExpiresAt as string;
    await new Promise((r) => setTimeout(r, 20));
    const r = await call('POST', resultPath('default', 'mariadb-0', next.body.name), { phase: 'Succeeded', snapshotId: randomBytes(32).toString('hex') }, defaultToken);
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.retryable, true);
    const s = await session('default', next.body.name);
    assert.equal(s.status.phase, 'Running', 'the agent will send it again');
    assert.ok(Date.parse(s.status.leaseExpiresAt) > Date.parse(before), 'lease renewed');
    assert.equal((await call('POST', resultPath('default', 'mariadb-0', next.body.name), { phase: 'Failed', error: { code: 'SIDESTASH_BACKEND_IO', message: 'down' } }, defaultToken)).status, 200);
  });

  it('refuses type-confused reports with the field named, and GET of the session still works', async () => {
    await nextSecond();
    const name = await claimBackup('default', 'mariadb-0', defaultToken);
    const prog = await call('POST', agentPath('default', 'mariadb-0', `/sessions/BackupSession/default/${name}/progress`), { bytesDumped: '1', bytesStored: 1, rateBytesPerSecond: 1, etaSeconds: 'soon' }, defaultToken);
    assert.equal(prog.status, 400);
    assert.equal(prog.body.error.code, 'SIDESTASH_INVALID_ARGUMENT');
    assert.deepEqual((prog.body.error.errors as { field: string }[]).map((e) => e.field), ['bytesDumped', 'etaSeconds']);
    const res = await call('POST', resultPath('default', 'mariadb-0', name), { phase: 'Failed', bytesRead: '10', durationSeconds: 'x', retention: { kept: 1, removed: -1, pruned: 'yes' }, error: { code: 'X', message: 5 } }, defaultToken);
    assert.equal(res.status, 400);
    assert.deepEqual((res.body.error.errors as { field: string }[]).map((e) => e.field).sort(), ['bytesRead', 'durationSeconds', 'error.message', 'retention.pruned', 'retention.removed']);
    for (const body of ['[1,2]', '"Succeeded"', 'null', '{"phase":"Done"}']) assert.equal((await call('POST', resultPath('default', 'mariadb-0', name), body, defaultToken)).status, 400, body);
    const s = await session('default', name);
    assert.equal(s.status.phase, 'Running', 'nothing of a refused report is stored');
    // Unknown fields are dropped; sizes are bounded.
    assert.equal((await call('POST', resultPath('default', 'mariadb-0', name), { phase: 'Failed', padding: 'x'.repeat(100_000) }, defaultToken)).status, 413);
    const ok = await call('POST', resultPath('default', 'mariadb-0', name), { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x'.repeat(20_000) }, bytesRead: 5, surprise: { deep: true } }, defaultToken);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const done = await session('default', name);
    assert.equal(done.status.surprise, undefined);
    assert.equal(done.status.bytesRead, 5);
    assert.ok(done.status.error.message.length <= 4100);
  });

  it('strips terminal escape sequences and control characters from reported messages', async () => {
    await nextSecond();
    const name = await claimBackup('default', 'mariadb-0', defaultToken);
    const evil = '\u001b[2J\u001b[1;1Hdump \u001b[31mfailed\u001b[0m\u001b]0;pwned\u0007\r\u0008 \u009b1m!';
    const r = await call('POST', resultPath('default', 'mariadb-0', name), { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: evil }, retention: { kept: 0, removed: 0, pruned: false, error: 'prune \u001b[5mblink' } }, defaultToken);
    assert.equal(r.status, 200);
    const s = await session('default', name);
    assert.equal(s.status.error.message, 'dump failed !');
    assert.equal(s.status.retention.error, 'prune blink');
  });

  it('refuses a result for a session of another agent before looking at it', async () => {
    await nextSecond();
    const name = await claimBackup('shop', 'mariadb-0', shopToken);
    const r = await call('POST', agentPath('default', 'mariadb-0', `/sessions/BackupSession/shop/${name}/result`), { phase: 'Succeeded', snapshotId: randomBytes(32).toString('hex') }, defaultToken);
    assert.equal(r.status, 403);
    assert.equal((await session('shop', name)).status.phase, 'Running');
    assert.equal((await call('POST', resultPath('shop', 'mariadb-0', name), { phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' } }, shopToken)).status, 200);
  });

  it('an agent that registers again with its current token (a new leader, its credential re-verified) keeps its running session', async () => {
    const first = await register('shop', 'rereg-0', ['shop/db'], SHOP);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const name = await claimBackup('shop', 'rereg-0', first.body.token);
    const again = await register('shop', 'rereg-0', ['shop/db'], SHOP, { currentToken: first.body.token });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const running = await session('shop', name);
    assert.deepEqual([running.status.phase, running.status.agent], ['Running', 'shop/rereg-0'], 'the same process: its session stays its own');
    const reported = await call('POST', resultPath('shop', 'rereg-0', name), { phase: 'Succeeded', snapshotId: await snapshotFor('db', name, 'shop') }, again.body.token);
    assert.equal(reported.status, 200, JSON.stringify(reported.body));
    assert.equal((await session('shop', name)).status.phase, 'Succeeded');
  });
});
