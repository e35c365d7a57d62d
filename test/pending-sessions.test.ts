// Sessions never hang, through the real controller process: a scheduled BackupSession whose
// target no agent serves fails with SIDESTASH_NO_AGENT after SIDESTASH_PENDING_TIMEOUT and the
// schedule creates the next one; deleting a BackupConfiguration ends its Pending session (Cancelled) at
// once (its target served by an online agent, so only the deletion can end it), and `get` says why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import { api } from '../cli/api-client.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { waitFor } from './helpers/scenario.ts';
import { runCli, startController } from './helpers/stack.ts';
import type { ControllerProc, SessionView } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

describe('pending sessions end (controller process)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let controller: ControllerProc;
  const sessions = async (): Promise<(SessionView & { spec: { invoker: { name: string }; trigger?: string }; metadata: { creationTimestamp: string } })[]> =>
    (await api<{ items: never[] }>(controller.api, 'GET', '/api/v1/backupsessions')).items;
  const apply = (docs: unknown[]): Promise<unknown> => api(controller.api, 'POST', '/api/v1/apply', docs);
  const configuration = (name: string, target: string, spec: Record<string, unknown> = {}) => ({ kind: 'BackupConfiguration', metadata: { name }, spec: { schedule: '0 0 1 1 *', repository: { name: 'repo' }, target: { ref: { name: target } }, ...spec } });

  before(async () => {
    dir = await tempDir();
    controller = await startController(dir.path, { env: { SIDESTASH_PENDING_TIMEOUT: '1s', SIDESTASH_SWEEP_INTERVAL: '200ms' } });
    await apply([
      { kind: 'Secret', metadata: { name: 'repo-secret' }, spec: { stringData: { RESTIC_PASSWORD: 'pw' } } },
      { kind: 'Secret', metadata: { name: 'db-secret' }, spec: { stringData: { username: 'u', password: 'p' } } },
      { kind: 'Repository', metadata: { name: 'repo' }, spec: { backend: { local: { path: `${dir.path}/repo` }, storageSecretName: 'repo-secret' } } },
      { kind: 'AppBinding', metadata: { name: 'lonely-db' }, spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } },
      { kind: 'AppBinding', metadata: { name: 'served-db' }, spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } },
    ]);
  });
  after(async () => {
    await controller?.stop();
    await dir?.cleanup();
  });

  it('a scheduled session no agent serves fails SIDESTASH_NO_AGENT, and the schedule runs again', async () => {
    await apply([configuration('lonely', 'lonely-db', { schedule: '*/2 * * * * *' })]);
    const failed = await waitFor('a lonely session to fail', 30_000, async () => (await sessions()).find((s) => s.spec.invoker.name === 'lonely' && s.status?.phase === 'Failed'));
    assert.equal(failed.status?.error?.code, ErrorCodes.NO_AGENT);
    assert.match(failed.status?.error?.message ?? '', /no agent serves target default\/lonely-db/);
    assert.equal(failed.spec.trigger, 'schedule');
    // No longer blocked: a later run of the schedule creates the next session.
    const next = await waitFor('the next scheduled session', 30_000, async () =>
      (await sessions()).find((s) => s.spec.invoker.name === 'lonely' && s.spec.trigger === 'schedule' && Date.parse(s.metadata.creationTimestamp) > Date.parse(failed.metadata.creationTimestamp)));
    assert.notEqual(next.metadata.name, failed.metadata.name);
    await apply([configuration('lonely', 'lonely-db', { schedule: '*/2 * * * * *', paused: true })]);
    await waitFor('no lonely session left Pending', 30_000, async () => ((await sessions()).some((s) => s.spec.invoker.name === 'lonely' && s.status?.phase === 'Pending') ? undefined : true));

    const listed = await runCli(['get', 'backupsessions'], controller.cliEnv);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${failed.metadata.name} +Failed .*no agent serves target default/lonely-db`));
    const configs = await runCli(['get', 'backupconfigurations'], controller.cliEnv);
    assert.equal(configs.code, 0, configs.stderr);
    assert.match(configs.stdout, /LAST PHASE +FAILURES +LAST SUCCESS/);
    assert.match(configs.stdout, /^lonely +\*\/2 \* \* \* \* \* +true +Failed +[1-9]\d* +- /m, 'the failure shows, and there never was a success');
    const metrics = await (await undiciFetch(`${controller.url}/metrics`, { dispatcher: new UndiciAgent({ connect: { ca: controller.api.ca! } }) })).text();
    assert.match(metrics, /sidestash_backup_last_phase\{namespace="default",configuration="lonely",target="lonely-db",phase="Failed"\} 1/);
    assert.match(metrics, /sidestash_backup_consecutive_failures\{namespace="default",configuration="lonely",target="lonely-db"\} [1-9]/);
    assert.match(metrics, /sidestash_backup_paused\{namespace="default",configuration="lonely",target="lonely-db"\} 1/);
  });

  it('deleting a BackupConfiguration ends its Pending session Cancelled at once, and `get` shows why', async () => {
    // An online agent serves the target but never polls: the session waits, and no timeout ends it.
    const reg = await api<{ token: string }>({ ...controller.api, token: controller.bootstrapToken }, 'POST', '/api/v1/agents/register', { name: 'quiet', namespace: 'default', targets: ['default/served-db'], version: 't' });
    assert.ok(reg.token);
    await apply([configuration('doomed', 'served-db')]);
    const { metadata: { name } } = await api<{ metadata: { name: string } }>(controller.api, 'POST', '/api/v1/backupconfigurations/doomed/trigger');
    await assert.rejects(api(controller.api, 'POST', '/api/v1/backupconfigurations/doomed/trigger'), (err) => isSidestashError(err, ErrorCodes.CONFLICT), 'Pending, and so blocking its configuration');
    assert.equal((await api<SessionView>(controller.api, 'GET', `/api/v1/backupsessions/${name}`)).status?.phase, 'Pending');
    await api(controller.api, 'DELETE', '/api/v1/backupconfigurations/doomed');
    const ended = await api<SessionView>(controller.api, 'GET', `/api/v1/backupsessions/${name}`);
    assert.equal(ended.status?.phase, 'Cancelled', 'ended by the deletion itself, not by a later sweep');
    assert.equal(ended.status?.error?.code, ErrorCodes.SESSION_CANCELLED);
    assert.match(ended.status?.error?.message ?? '', /its BackupConfiguration was deleted/);
    const listed = await runCli(['get', 'backupsessions', name], controller.cliEnv);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /Cancelled .*its BackupConfiguration was deleted/);
  });
});
