// References between resources through the real controller process, the API and the CLI:
// objects may arrive in any order (a missing Repository, AppBinding or Secret is a warning at
// apply, in the body and as a Kubernetes-style `Warning: 299` header, and stays in
// status.missingReferences until it appears), a session that runs without it fails naming it,
// and a Secret or Repository still in use is not deleted unless forced.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import { waitFor } from './helpers/scenario.ts';
import { runCli, startController } from './helpers/stack.ts';
import type { ControllerProc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

interface Answer {
  status: number;
  warning: string | null;
  body: any;
}

describe('references between resources (controller process, API and CLI)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let controller: ControllerProc;
  let dispatcher: UndiciAgent;
  const call = async (method: string, path: string, body?: unknown, token = controller.api.token): Promise<Answer> => {
    const res = await undiciFetch(`${controller.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      dispatcher,
    });
    const text = await res.text();
    return { status: res.status, warning: res.headers.get('warning'), body: text ? JSON.parse(text) : undefined };
  };
  const missing = async (plural: string, name: string): Promise<unknown> => {
    const r = await call('GET', `/api/v1/${plural}/${name}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.status?.missingReferences;
  };
  const secret = (name: string, stringData: Record<string, string>) => ({ kind: 'Secret', metadata: { name }, spec: { stringData } });
  const repository = (name: string, secretName: string) => ({ kind: 'Repository', metadata: { name }, spec: { backend: { local: { path: join(dir.path, name) }, storageSecretName: secretName } } });
  const appBinding = (name: string, secretName: string) => ({ kind: 'AppBinding', metadata: { name }, spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: secretName } } });
  const configuration = (name: string, repo: string, target: string) => ({ kind: 'BackupConfiguration', metadata: { name }, spec: { schedule: '0 0 1 1 *', repository: { name: repo }, target: { ref: { name: target } } } });
  const restore = (name: string, repo: string, target: string) => ({ kind: 'RestoreSession', metadata: { name }, spec: { repository: { name: repo }, target: { ref: { name: target } }, snapshot: 'latest' } });

  before(async () => {
    dir = await tempDir();
    controller = await startController(dir.path);
    dispatcher = new UndiciAgent({ connect: { ca: controller.api.ca! } });
  });
  after(async () => {
    await dispatcher?.close();
    await controller?.stop();
    await dir?.cleanup();
  });

  it('apply with a missing Repository and AppBinding succeeds with warnings, and the status follows them as they arrive', async () => {
    const r = await call('POST', '/api/v1/apply', [configuration('early', 'late-repo', 'late-db')]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.results.map((x: { outcome: string }) => x.outcome), ['created']);
    assert.deepEqual(r.body.warnings, [
      'BackupConfiguration default/early refers to Repository default/late-repo (spec.repository.name), which does not exist; sessions fail until it is created',
      'BackupConfiguration default/early refers to AppBinding default/late-db (spec.target.ref.name), which does not exist; sessions fail until it is created',
    ]);
    // One header line per warning, as Kubernetes sends them (fetch joins repeated headers with ", ").
    assert.equal(r.warning, r.body.warnings.map((w: string) => `299 - "${w}"`).join(', '));
    assert.deepEqual(await missing('backupconfigurations', 'early'), [
      { kind: 'Repository', name: 'late-repo', field: 'spec.repository.name' },
      { kind: 'AppBinding', name: 'late-db', field: 'spec.target.ref.name' },
    ]);

    // The Repository before its Secret in one request: the order within a request does not matter.
    const both = await call('POST', '/api/v1/apply', [repository('late-repo', 'late-repo-secret'), secret('late-repo-secret', { RESTIC_PASSWORD: 'pw' })]);
    assert.equal(both.status, 200, JSON.stringify(both.body));
    assert.equal(both.body.warnings, undefined);
    assert.equal(both.warning, null);
    assert.deepEqual(await missing('backupconfigurations', 'early'), [{ kind: 'AppBinding', name: 'late-db', field: 'spec.target.ref.name' }]);
    assert.equal(await missing('repositories', 'late-repo'), undefined);

    // An AppBinding without its Secret: the configuration shows what it lacks through it.
    const ab = await call('POST', '/api/v1/apply', appBinding('late-db', 'late-db-secret'));
    assert.deepEqual(ab.body.warnings, ['AppBinding default/late-db refers to Secret default/late-db-secret (spec.secret.name), which does not exist; sessions fail until it is created']);
    assert.deepEqual(await missing('backupconfigurations', 'early'), [{ kind: 'Secret', name: 'late-db-secret', field: 'spec.secret.name', via: 'AppBinding late-db' }]);
    assert.deepEqual(await missing('appbindings', 'late-db'), [{ kind: 'Secret', name: 'late-db-secret', field: 'spec.secret.name' }]);
    await call('POST', '/api/v1/apply', secret('late-db-secret', { username: 'u', password: 'p' }));
    assert.equal(await missing('backupconfigurations', 'early'), undefined);
    assert.equal(await missing('appbindings', 'late-db'), undefined);
    // Re-applying the unchanged configuration warns of nothing.
    const again = await call('POST', '/api/v1/apply', configuration('early', 'late-repo', 'late-db'));
    assert.deepEqual([again.body.results[0].outcome, again.body.warnings, again.warning], ['unchanged', undefined, null]);
  });

  it('the CLI prints the warnings on stderr and exits 0', async () => {
    const file = join(dir.path, 'restore.yaml');
    await writeFile(file, 'kind: RestoreSession\nmetadata:\n  name: restore-nowhere\nspec:\n  repository:\n    name: nowhere\n  target:\n    ref:\n      name: late-db\n  snapshot: latest\n');
    const res = await runCli(['apply', '-f', file], controller.cliEnv);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), 'restoresession/restore-nowhere created');
    assert.equal(res.stderr.trim(), 'Warning: RestoreSession default/restore-nowhere refers to Repository default/nowhere (spec.repository.name), which does not exist; sessions fail until it is created');
    assert.deepEqual(await missing('restoresessions', 'restore-nowhere'), [{ kind: 'Repository', name: 'nowhere', field: 'spec.repository.name' }]);
  });

  it('a session that runs with the reference still missing fails naming it', async () => {
    const reg = await call('POST', '/api/v1/agents/register', { name: 'refs-agent', namespace: 'default', targets: ['default/late-db'], version: 't' }, controller.bootstrapToken);
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const next = await call('GET', '/api/v1/agents/default/refs-agent/sessions/next?waitMs=0', undefined, reg.body.token);
    assert.equal(next.status, 204, JSON.stringify(next.body));
    const failed = await waitFor('the restore to fail', 20_000, async () => {
      const s = (await call('GET', '/api/v1/restoresessions/restore-nowhere')).body;
      return s.status?.phase === 'Failed' ? s : undefined;
    });
    assert.equal(failed.status.error.code, 'SIDESTASH_INVALID_CONFIG');
    assert.match(failed.status.error.message, /refers to Repository default\/nowhere, which does not exist/);
  });

  it('a Secret or Repository in use is not deleted; the CONFLICT lists its users', async () => {
    await call('POST', '/api/v1/apply', [restore('restore-pending', 'late-repo', 'other-db')]);
    const s = await call('DELETE', '/api/v1/secrets/late-repo-secret');
    assert.equal(s.status, 409, JSON.stringify(s.body));
    assert.equal(s.body.error.code, 'SIDESTASH_CONFLICT');
    assert.equal(s.body.error.message, 'Secret default/late-repo-secret is in use by Repository default/late-repo (spec.backend.storageSecretName); delete or change those first, or force the delete (--force; API: ?force=true)');
    assert.deepEqual(s.body.error.users, [{ kind: 'Repository', namespace: 'default', name: 'late-repo', field: 'spec.backend.storageSecretName' }]);
    const r = await call('DELETE', '/api/v1/repositories/late-repo');
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.deepEqual(r.body.error.users.map((u: { kind: string; name: string }) => `${u.kind}/${u.name}`), ['BackupConfiguration/early', 'RestoreSession/restore-pending']);
    const cli = await runCli(['delete', 'secret', 'late-db-secret'], controller.cliEnv);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /Secret default\/late-db-secret is in use by AppBinding default\/late-db \(spec\.secret\.name\)/);
    assert.equal(cli.stdout, '');
    for (const [plural, name] of [['secrets', 'late-repo-secret'], ['secrets', 'late-db-secret'], ['repositories', 'late-repo']]) {
      assert.equal((await call('GET', `/api/v1/${plural}/${name}`)).status, 200, `${plural}/${name} is still there`);
    }
    assert.equal((await call('DELETE', '/api/v1/secrets/late-db-secret?force=maybe')).status, 400);
  });

  it('a finished session does not hold its Repository; unused objects delete as before', async () => {
    // restore-nowhere failed above: it names Repository "nowhere", which may now come and go.
    await call('POST', '/api/v1/apply', [secret('nowhere-secret', { RESTIC_PASSWORD: 'pw' }), repository('nowhere', 'nowhere-secret')]);
    const r = await call('DELETE', '/api/v1/repositories/nowhere');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.warning, null);
    assert.equal((await call('DELETE', '/api/v1/secrets/nowhere-secret')).status, 200);
  });

  it('--force (CLI) and ?force=true (API) delete what is in use, warn, and the users show it missing', async () => {
    const cli = await runCli(['delete', 'repository', 'late-repo', '--force'], controller.cliEnv);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.trim(), 'repository/late-repo deleted');
    assert.equal(cli.stderr.trim(), 'Warning: Repository default/late-repo was in use by BackupConfiguration default/early (spec.repository.name), RestoreSession default/restore-pending (spec.repository.name); their sessions fail until it is created again');
    assert.deepEqual(await missing('backupconfigurations', 'early'), [{ kind: 'Repository', name: 'late-repo', field: 'spec.repository.name' }]);
    assert.deepEqual(await missing('restoresessions', 'restore-pending'), [{ kind: 'Repository', name: 'late-repo', field: 'spec.repository.name' }, { kind: 'AppBinding', name: 'other-db', field: 'spec.target.ref.name' }]);
    const api = await call('DELETE', '/api/v1/secrets/late-db-secret?force=true');
    assert.equal(api.status, 200, JSON.stringify(api.body));
    assert.deepEqual(api.body.warnings, ['Secret default/late-db-secret was in use by AppBinding default/late-db (spec.secret.name); their sessions fail until it is created again']);
    assert.equal(api.warning, `299 - "${api.body.warnings[0]}"`);
    assert.deepEqual(await missing('appbindings', 'late-db'), [{ kind: 'Secret', name: 'late-db-secret', field: 'spec.secret.name' }]);
    // The configuration lacks its Repository; its AppBinding's Secret shows through the AppBinding.
    assert.deepEqual(await missing('backupconfigurations', 'early'), [
      { kind: 'Repository', name: 'late-repo', field: 'spec.repository.name' },
      { kind: 'Secret', name: 'late-db-secret', field: 'spec.secret.name', via: 'AppBinding late-db' },
    ]);
  });
});
