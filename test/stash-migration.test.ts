// Migration from Stash, with real processes: a repository filled the way Stash's MariaDB addon
// fills it (mariadb-dump --all-databases | restic 0.14 backup --stdin --stdin-filename
// dumpfile.sql --host host-0, no tags) in an S3 bucket under Stash's prefix, restored through the
// real controller and agent with a RestoreSession naming the Stash host, then backed up on by
// sidestash into the same repository.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { RESTIC_0_19, restic, runRestic } from './helpers/restic.ts';
import { startS3Server } from './helpers/s3-server.ts';
import type { S3Server } from './helpers/s3-server.ts';
import { REPO_PASSWORD, applyScenario, triggerBackup, waitForSessionEnd } from './helpers/scenario.ts';
import { checksums, createShop } from './helpers/shop-db.ts';
import { runCli, startAgent, startController, waitForFinished } from './helpers/stack.ts';
import type { ControllerProc, Proc, SessionView } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

interface ResticSnapshot {
  id: string;
  hostname: string;
  paths: string[];
  tags?: string[];
}

/** What Stash's backup-mariadb runs: the dump piped into restic (`bin`) under host `host`. */
async function stashBackup(db: MariaDB, repo: string, env: Record<string, string>, host: string, bin = 'restic'): Promise<string> {
  const dump = spawn('mariadb-dump', ['--no-defaults', '-uroot', `--socket=${db.socket}`, '--all-databases'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const dumped = new Promise<number>((resolve) => dump.on('close', (code) => resolve(code ?? -1)));
  const r = await runRestic(bin, repo, REPO_PASSWORD, ['backup', '--stdin', '--stdin-filename', 'dumpfile.sql', '--host', host, '--quiet', '--json'], dump.stdout, env);
  assert.equal(await dumped, 0, 'mariadb-dump');
  assert.equal(r.code, 0, r.stderr);
  // restic 0.14's summary gives the short id, 0.19's the full one.
  const short = (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { snapshot_id: string }).snapshot_id;
  const listed = JSON.parse((await restic(repo, REPO_PASSWORD, ['snapshots', '--json'], undefined, env)).stdout) as ResticSnapshot[];
  return listed.find((s) => s.id.startsWith(short))!.id;
}

describe('migration from Stash: restore a Stash-written repository, then back up on', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let controller: ControllerProc;
  let agent: Proc;
  let s3: S3Server;
  let repo: string;
  let env: Record<string, string>;
  before(async () => {
    dir = await tempDir();
    s3 = await startS3Server();
    // Stash's Repository: spec.backend.s3 {endpoint, bucket: stash-testing, prefix: /demo/mariadb/sample-mariadb};
    // its restic URL is s3:<endpoint>/<bucket joined with prefix>.
    repo = `s3:${s3.endpoint}/stash-testing/demo/mariadb/sample-mariadb`;
    env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
    db = await startMariaDB();
    await createShop(db, 4_000);
    controller = await startController(dir.path);
    agent = startAgent(dir.path, controller, ['default/shop-db']);
  });
  after(async () => {
    await agent?.stop();
    await controller?.stop();
    await db?.stop();
    await s3?.stop();
    await dir?.cleanup();
  });

  const restoreSession = async (name: string, spec: Record<string, unknown>): Promise<SessionView> => {
    await api(controller.api, 'POST', '/api/v1/apply', { kind: 'RestoreSession', metadata: { name }, spec: { repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, ...spec } });
    return waitForFinished(controller.api, 'restoresessions', (s) => s.metadata.name === name, 60_000);
  };

  it('restores the newest Stash snapshot of host-0, refuses to guess without sourceHost, and backs up on into the same repository', async () => {
    // Stash's repository, years old: created by an older restic (format version 1), two backups of
    // host-0 (the newer after a change, by the restic 0.18 of today's Stash images, here 0.19.1),
    // and one of an alias.
    const init = await restic(repo, REPO_PASSWORD, ['init', '--repository-version', '1'], undefined, env);
    assert.equal(init.code, 0, init.stderr);
    const stashOld = await stashBackup(db, repo, env, 'host-0');
    const atStashOld = await checksums(db);
    await db.sql("UPDATE crm.contacts SET phone = 'second backup' WHERE id = 2; DELETE FROM shop.orders WHERE id % 7 = 0;");
    const stashNew = await stashBackup(db, repo, env, 'host-0', RESTIC_0_19);
    const atStashNew = await checksums(db);
    await db.sql("UPDATE crm.contacts SET phone = 'alias backup' WHERE id = 2;");
    const aliasSnap = await stashBackup(db, repo, env, 'sample-mariadb-alias');
    const stashSnaps = JSON.parse((await restic(repo, REPO_PASSWORD, ['snapshots', '--json'], undefined, env)).stdout) as ResticSnapshot[];
    assert.deepEqual(stashSnaps.map((s) => [s.hostname, s.paths, s.tags ?? []]), [['host-0', ['/dumpfile.sql'], []], ['host-0', ['/dumpfile.sql'], []], ['sample-mariadb-alias', ['/dumpfile.sql'], []]], 'what Stash writes');

    // Point a Repository at the old bucket: Stash's bucket and prefix as they were, and its storage
    // Secret's keys (RESTIC_PASSWORD, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
    await applyScenario(controller.api, { db, repository: { s3: { endpoint: s3.endpoint, bucket: 'stash-testing', prefix: '/demo/mariadb/sample-mariadb', region: 'us-east-1' } }, repoSecret: env });
    await db.sql("UPDATE crm.contacts SET phone = 'after the last backup' WHERE id = 2;");
    const live = await checksums(db);

    // latest alone: the repository has no snapshot of default/shop-db; the hosts are named, nothing is restored.
    const refused = await restoreSession('no-source-host', { snapshot: 'latest' });
    assert.equal(refused.status?.phase, 'Failed', JSON.stringify(refused.status));
    assert.equal(refused.status?.error?.code, 'SIDESTASH_SNAPSHOT_NOT_FOUND');
    const message = refused.status?.error?.message ?? '';
    assert.match(message, /no snapshot of default\/shop-db/);
    assert.match(message, /"sample-mariadb-alias" \(1, newest [0-9a-f]{8}/);
    assert.match(message, new RegExp(`"host-0" \\(2, newest ${stashNew.slice(0, 8)}`));
    assert.match(message, /set spec\.sourceHost \(the CLI: restore --source-host HOST\) to the host/);
    assert.equal(await checksums(db), live, 'a refused restore changes nothing');

    // sourceHost goes with latest only: refused on apply.
    await assert.rejects(api(controller.api, 'POST', '/api/v1/apply', { kind: 'RestoreSession', metadata: { name: 'bad' }, spec: { repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, snapshot: stashOld.slice(0, 8), sourceHost: 'host-0' } }), /spec\.sourceHost/);
    // A host with no such snapshot fails and names the hosts there are.
    const none = await restoreSession('unknown-host', { sourceHost: 'host-1' });
    assert.equal(none.status?.error?.code, 'SIDESTASH_SNAPSHOT_NOT_FOUND', JSON.stringify(none.status));
    assert.match(none.status?.error?.message ?? '', /"host-1".*"sample-mariadb-alias", "host-0"/);

    // Restore: the newest snapshot of host-0 (not the alias's, which is newer still).
    await db.sql('DROP DATABASE shop; DROP DATABASE crm;');
    const restored = await restoreSession('from-stash', { snapshot: 'latest', sourceHost: 'host-0' });
    assert.equal(restored.status?.phase, 'Succeeded', JSON.stringify(restored.status));
    assert.equal(restored.status?.snapshotId, stashNew);
    assert.equal(await checksums(db), atStashNew);

    // Back up on, into the same repository.
    await db.sql("UPDATE crm.contacts SET phone = 'sidestash backup' WHERE id = 1;");
    const atSidestash = await checksums(db);
    const session = await triggerBackup(controller.api);
    const backup = await waitForSessionEnd(controller.api, session, 60_000);
    assert.equal(backup.status?.phase, 'Succeeded', JSON.stringify(backup.status));
    for (const bin of ['restic', RESTIC_0_19]) {
      const check = await runRestic(bin, repo, REPO_PASSWORD, ['check', '--read-data'], undefined, env);
      assert.equal(check.code, 0, `${bin}: ${check.stderr}${check.stdout}`);
    }
    const config = await runRestic(RESTIC_0_19, repo, REPO_PASSWORD, ['cat', 'config'], undefined, env);
    assert.equal((JSON.parse(config.stdout) as { version: number }).version, 1, 'still format version 1');
    const all = JSON.parse((await restic(repo, REPO_PASSWORD, ['snapshots', '--json'], undefined, env)).stdout) as ResticSnapshot[];
    assert.deepEqual(all.map((s) => s.id).sort(), [stashOld, stashNew, aliasSnap, backup.status!.snapshotId!].sort(), "restic 0.14 sees Stash's and sidestash's snapshots");
    const mine = all.find((s) => s.id === backup.status?.snapshotId)!;
    assert.equal(mine.hostname, 'shop-db');
    assert.ok(mine.tags?.includes('target=default/shop-db'), JSON.stringify(mine.tags));

    // From now on latest is sidestash's own; sourceHost still selects Stash's, never sidestash's newer one.
    await db.sql('DROP DATABASE crm;');
    const own = await restoreSession('own-latest', {});
    assert.equal(own.status?.phase, 'Succeeded', JSON.stringify(own.status));
    assert.equal(own.status?.snapshotId, backup.status?.snapshotId);
    assert.equal(await checksums(db), atSidestash);
    // (through the CLI this time)
    const cli = await runCli(['restore', '--repository', 'repo', '--target', 'shop-db', '--source-host', 'host-0', '--wait'], controller.cliEnv);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    const again = await waitForFinished(controller.api, 'restoresessions', (s) => s.metadata.name.startsWith('restore-shop-db-'), 10_000);
    assert.equal(again.spec.sourceHost, 'host-0');
    assert.equal(again.status?.snapshotId, stashNew, JSON.stringify(again.status));
    assert.equal(await checksums(db), atStashNew);

    // Stash's spelling, end to end (controller/resources/stash-spelling.ts): the AppBinding's address
    // as KubeDB's url, the RestoreSession's snapshot as Stash's rules, with its Task (ignored).
    await api(controller.api, 'POST', '/api/v1/apply', { kind: 'AppBinding', metadata: { name: 'shop-db' }, spec: { clientConfig: { url: `tcp(127.0.0.1:${db.port})/` }, secret: { name: 'db-secret' }, type: 'kubedb.com/mariadb', version: '10.5.8' } });
    const stashRule = (name: string, rule: Record<string, unknown>): Promise<SessionView> => restoreSession(name, { task: { name: 'mariadb-restore-10.5.8' }, target: { ref: { apiVersion: 'appcatalog.appscode.com/v1alpha1', kind: 'AppBinding', name: 'shop-db' }, rules: [rule] } });
    await db.sql('DROP DATABASE crm;');
    const byHost = await stashRule('stash-rule-host', { sourceHost: 'host-0', snapshots: ['latest'] });
    assert.equal(byHost.status?.phase, 'Succeeded', JSON.stringify(byHost.status));
    assert.equal(byHost.status?.snapshotId, stashNew, "the newest of Stash's host-0");
    assert.equal(await checksums(db), atStashNew);
    const byId = await stashRule('stash-rule-id', { snapshots: [stashOld.slice(0, 8)] });
    assert.equal(byId.status?.phase, 'Succeeded', JSON.stringify(byId.status));
    assert.equal(byId.status?.snapshotId, stashOld);
    assert.equal(await checksums(db), atStashOld);
    const ownByRule = await stashRule('stash-rule-latest', { snapshots: ['latest'] });
    assert.equal(ownByRule.status?.snapshotId, backup.status?.snapshotId, "latest without sourceHost: the target's own newest, as spec.snapshot latest");
    assert.equal(await checksums(db), atSidestash);
  });
});
