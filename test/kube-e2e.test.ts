// Kubernetes mode end to end, driven only by kubectl: a real API server with the chart installed
// by `helm install` in Kubernetes mode (its CRDs, ServiceAccount and RBAC), TWO controller
// processes in Kubernetes mode (a kubeconfig with a token of the chart's ServiceAccount, so they
// run with exactly the chart's permissions; leader election on the chart's Lease in the release
// namespace) behind a TCP proxy standing in for their Service, a real agent beside a real MariaDB that authenticates
// with its pod's projected ServiceAccount token (kubectl create token --bound-object-kind Pod).
// The user's YAML is examples/kubernetes/ (adjusted here to this MariaDB's socket, its
// credentials and a repository directory; examples/ stays as users see it):
// - an instant BackupSession backs up (kubectl get backupsessions shows the progress while it
//   runs, then Succeeded), a RestoreSession restores (checksums equal), kubectl describe shows
//   the session's Events;
// - kill -9 of the leader mid-session: the session still succeeds (the agent reaches the new
//   leader through the proxy and registers again);
// - a scheduled run due while no replica leads (the leader killed just before it) happens once:
//   the new leader catches it up under its deterministic name, and no replica runs it again;
// - the API server refused neither controller anything (a permission the chart lacks fails here).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { api } from '../cli/api-client.ts';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { scheduledSessionName } from '../common/scheduled-name.ts';
import { startKubeApiServer } from './helpers/kube-apiserver.ts';
import { toolPath } from './helpers/kube-validate.ts';
import type { KubeApiServer } from './helpers/kube-apiserver.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { deniedLines, serviceAccountKubeconfig } from './helpers/service-account-kubeconfig.ts';
import { startServiceProxy } from './helpers/service-proxy.ts';
import type { ServiceProxy } from './helpers/service-proxy.ts';
import { DB_PASSWORD, DB_USER, checksums, createShop } from './helpers/shop-db.ts';
import { runCli, startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc } from './helpers/stack.ts';
import { makeTestPki } from './helpers/tls.ts';
import { tempDir } from './helpers/tmp.ts';
import { until as untilValue } from './helpers/until.ts';

const ROOT = join(import.meta.dirname, '..');
const NS = 'shop';
/** The Helm release and its namespace: the chart's ServiceAccount `sidestash` and its Lease live there. */
const RELEASE_NS = 'sidestash';
type Doc = Record<string, any>;

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000): Promise<T> => untilValue(what, probe, timeoutMs);

describe('Kubernetes mode end to end: kubectl only, two controllers, failover', () => {
  let kube: KubeApiServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let db: MariaDB;
  let proxy: ServiceProxy;
  let agent: Proc;
  let caFile: string;
  /** The chart's ServiceAccount's kubeconfig: every replica runs with the chart's RBAC. */
  let controllerKubeconfig: string;
  /** Every replica started, killed ones included (their logs are checked at the end). */
  const logFiles: string[] = [];
  const controllers = new Map<string, ControllerProc>();
  let before0 = '';

  const controllerEnv = (pod: string): Record<string, string> => ({
    SIDESTASH_STORE: 'kubernetes', SIDESTASH_KUBECONFIG: controllerKubeconfig, POD_NAME: pod, SIDESTASH_LEADER_ELECTION_NAMESPACE: RELEASE_NS, SIDESTASH_WATCH_NAMESPACES: NS,
    SIDESTASH_LEADER_ELECTION_LEASE: '4s', SIDESTASH_LEADER_ELECTION_RENEW_DEADLINE: '3s', SIDESTASH_LEADER_ELECTION_RETRY_PERIOD: '500ms',
    SIDESTASH_TLS_CERT_FILE: join(dir.path, 'pki', 'server.crt'), SIDESTASH_TLS_KEY_FILE: join(dir.path, 'pki', 'server.key'),
  });
  /** A replica; a restarted one listens on its old port again (the proxy's upstream). */
  const startReplica = async (pod: string, port?: number): Promise<ControllerProc> => {
    await mkdir(join(dir.path, pod), { recursive: true });
    const c = await startController(join(dir.path, pod), { env: controllerEnv(pod), caFile, ...(port ? { port } : {}) });
    controllers.set(pod, c);
    logFiles.push(c.logFile);
    return c;
  };
  const kubectl = (...args: string[]): Promise<string> => kube.kubectlOk(args);
  const getJson = async (resource: string, name: string): Promise<Doc> => JSON.parse(await kubectl('-n', NS, 'get', resource, name, '-o', 'json')) as Doc;
  const leaderPod = async (): Promise<string> => {
    const lease = JSON.parse(await kubectl('-n', RELEASE_NS, 'get', 'lease', 'sidestash-controller', '-o', 'json')) as Doc;
    return String(lease.spec?.holderIdentity ?? '').replace(/_[0-9a-f]+$/, '');
  };
  /** Applies a copy of examples/kubernetes/<file> after `adjust` (the user's YAML, with this test's paths). */
  const applyExample = async (file: string, adjust: (d: Doc) => void = () => {}, from = join(ROOT, 'examples', 'kubernetes')): Promise<void> => {
    const docs = parseAllDocuments(await readFile(join(from, file), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean);
    for (const d of docs) adjust(d);
    const out = join(dir.path, `applied-${file}`);
    await writeFile(out, docs.map((d) => stringify(d)).join('---\n'));
    await kubectl('apply', '-n', NS, '-f', out);
  };
  const applyDoc = async (d: Doc): Promise<void> => {
    const out = join(dir.path, `applied-${d.kind}-${d.metadata.name}.yaml`);
    await writeFile(out, stringify(d));
    await kubectl('apply', '-n', NS, '-f', out);
  };
  const instantBackup = (name: string): Doc => ({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name }, spec: { invoker: { apiGroup: 'sidestash.io', kind: 'BackupConfiguration', name: 'shop-backup' } } });
  const phaseOf = async (resource: string, name: string): Promise<string | undefined> => (await getJson(resource, name).catch(() => ({}) as Doc)).status?.phase;
  const finished = (resource: string, name: string): Promise<Doc> => until(`${resource} ${name} to finish`, async () => {
    const s = await getJson(resource, name).catch(() => undefined);
    return ['Succeeded', 'Failed', 'Cancelled'].includes(s?.status?.phase) ? s : undefined;
  });

  before(async () => {
    dir = await tempDir('sidestash-kube-e2e-');
    [kube, db] = await Promise.all([startKubeApiServer(), startMariaDB()]);
    await createShop(db, 50_000);
    before0 = await checksums(db);
    // The chart as a user installs it (no --wait: no kubelet here, its pods never run): its CRDs,
    // its ServiceAccount and least-privilege RBAC for the namespace it serves.
    await kubectl('create', 'namespace', NS);
    const helm = await new Promise<{ err: Error | null; stdout: string; stderr: string }>((resolve) => {
      execFile(toolPath('helm'), ['install', 'sidestash', 'charts/sidestash', '-n', RELEASE_NS, '--create-namespace', '--set', 'mode=kubernetes', '--set', `agent.namespaces={${NS}}`, '--kubeconfig', kube.kubeconfig],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ err, stdout: String(stdout), stderr: String(stderr) }));
    });
    assert.equal(helm.err, null, `helm install: ${helm.stderr}`);
    await until('the chart\'s CRDs', async () => ((await kube.kubectl(['get', 'crd', '-l', 'app.kubernetes.io/component=crd', '-o', 'name'])).stdout.trim() ? true : undefined), 60_000);
    await kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/component=crd');
    controllerKubeconfig = await serviceAccountKubeconfig(kube, RELEASE_NS, 'sidestash', dir.path);
    const pkiDir = join(dir.path, 'pki');
    await mkdir(pkiDir);
    await makeTestPki(pkiDir);
    caFile = join(pkiDir, 'ca.crt');
    for (const pod of ['controller-a', 'controller-b']) await startReplica(pod);
    proxy = await startServiceProxy([...controllers.values()].map((c) => c.url));
    // The database pod as the API server knows it: its ServiceAccount and the target annotation
    // (the webhook would inject the agent into it; here the agent runs on the host).
    await kube.kubectlOk(['apply', '-n', NS, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'shop-db' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'shop-db-0', annotations: { 'sidestash.io/target': 'shop-db' } }, spec: { serviceAccountName: 'shop-db', containers: [{ name: 'mariadb', image: 'mariadb:11' }] } },
    ] }) });
    // mariadb-dump, its output passed on in 8 parts over about 2.4 s: every session is still
    // running, and reporting progress, when the test looks at it or kills the leader, however fast
    // this machine dumps. The bytes and the exit status are mariadb-dump's.
    const slowDump = join(dir.path, 'slow-mariadb-dump');
    await writeFile(slowDump, [
      '#!/bin/sh',
      'out=$(mktemp)',
      'mariadb-dump "$@" > "$out"',
      'rc=$?',
      'chunk=$(( $(wc -c < "$out") / 8 + 1 ))',
      'for i in 0 1 2 3 4 5 6 7; do dd if="$out" bs=$chunk skip=$i count=1 2>/dev/null; sleep 0.3; done',
      'rm -f "$out"',
      'exit $rc',
      '',
    ].join('\n'), { mode: 0o755 });
    const tokenFile = join(dir.path, 'sa-token');
    await writeFile(tokenFile, await kubectl('create', 'token', 'shop-db', '-n', NS, '--audience', 'sidestash', '--bound-object-kind', 'Pod', '--bound-object-name', 'shop-db-0', '--duration', '1h'));
    agent = startAgent(dir.path, controllers.get('controller-a')!, [`${NS}/shop-db`], {
      SIDESTASH_CONTROLLER_URL: proxy.url, SIDESTASH_CONTROLLER_CA_FILE: caFile, SIDESTASH_AGENT_TOKEN_FILE: tokenFile, SIDESTASH_AGENT_NAME: 'shop-db-0', SIDESTASH_MARIADB_DUMP: slowDump,
    });
    // The user's resources, from examples/kubernetes/.
    await applyExample('secrets.yaml', (d) => {
      if (d.metadata.name === 'shop-db-auth') d.stringData = { username: DB_USER, password: DB_PASSWORD };
    });
    await applyExample('repository.yaml', (d) => (d.spec.backend.local.path = join(dir.path, 'repo')));
    await applyExample('appbinding.yaml', (d) => (d.spec.clientConfig.socket = db.socket));
    // Not scheduled until the last test sets a time (Stash's instant backups run meanwhile).
    await applyExample('backupconfiguration.yaml', (d) => (d.spec.paused = true));
  });
  after(async () => {
    await agent?.stop();
    for (const c of controllers.values()) await c.stop().catch(() => {});
    await proxy?.stop();
    await db?.stop();
    await kube?.stop();
    // SIDESTASH_TEST_KEEP=1 keeps the logs and applied YAML for a failing run.
    if (process.env.SIDESTASH_TEST_KEEP === '1') console.log(`kept ${dir?.path}`);
    else await dir?.cleanup();
  });

  it('backs up (kubectl get shows the progress, then Succeeded) and restores, with Events in kubectl describe', async () => {
    await applyDoc(instantBackup('instant-1'));
    // The progress column while it runs: NAME INVOKER PHASE PROGRESS ...
    const rows: string[] = [];
    const runningRow = await until('a Running row with progress', async () => {
      const row = (await kubectl('-n', NS, 'get', 'backupsessions', 'instant-1', '--no-headers')).trim();
      rows.push(row);
      return /^instant-1\s+shop-backup\s+Running\s+\d+\s/.test(row) ? row : undefined;
    }, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; rows seen: ${[...new Set(rows)].join(' | ')}`);
    });
    assert.ok(runningRow);
    const done = await finished('backupsessions', 'instant-1');
    assert.equal(done.status.phase, 'Succeeded', JSON.stringify(done.status));
    assert.match(done.status.snapshotId, /^[0-9a-f]{64}$/);
    const table = await kubectl('-n', NS, 'get', 'backupsessions');
    assert.match(table, /PHASE\s+PROGRESS\s+SIZE\s+SNAPSHOT/);
    assert.match(table, /instant-1\s+shop-backup\s+Succeeded\s+100\s/);

    const described = await kubectl('-n', NS, 'describe', 'backupsession', 'instant-1');
    assert.match(described, /Normal\s+Started\s.*backup started by agent shop\/shop-db-0/);
    assert.match(described, /Normal\s+Succeeded\s.*backed up, snapshot/);
    assert.match(await kubectl('-n', NS, 'describe', 'backupconfiguration', 'shop-backup'), /SessionSucceeded/);

    await db.sql('DELETE FROM shop.orders WHERE id % 3 = 0; UPDATE crm.contacts SET phone = NULL');
    assert.notEqual(await checksums(db), before0);
    await applyExample('restoresession.yaml', () => {}, join(ROOT, 'examples'));
    const restored = await finished('restoresessions', 'shop-restore');
    assert.equal(restored.status.phase, 'Succeeded', JSON.stringify(restored.status));
    assert.equal(await checksums(db), before0, 'the restored tables equal the backed-up ones');
  });

  it('kill -9 of the leader mid-session: the session finishes through the new leader', async () => {
    await applyDoc(instantBackup('instant-2'));
    await until('instant-2 running with progress', async () => {
      const st = (await getJson('backupsessions', 'instant-2').catch(() => undefined))?.status;
      return st?.phase === 'Running' && st.progress?.bytesDumped > 0 ? true : undefined;
    });
    const killed = await leaderPod();
    assert.ok(controllers.has(killed), `the Lease names ${killed}`);
    const port = Number(new URL(controllers.get(killed)!.url).port);
    await controllers.get(killed)!.kill();
    controllers.delete(killed);
    assert.equal(await phaseOf('backupsessions', 'instant-2'), 'Running', 'killed mid-session');
    const done = await finished('backupsessions', 'instant-2');
    assert.equal(done.status.phase, 'Succeeded', JSON.stringify(done.status));
    assert.equal(done.status.agent, `${NS}/shop-db-0`);
    const survivor = [...controllers.keys()][0]!;
    assert.equal(await leaderPod(), survivor);
    // Back to two replicas (the killed pod restarted).
    await startReplica(killed, port);
  });

  it('a scheduled run due while no replica leads happens exactly once', async () => {
    const leader = await leaderPod();
    const port = Number(new URL(controllers.get(leader)!.url).port);
    // The run is due 2 s from now (a seconds field), before the 4 s Lease of the killed leader can expire.
    const dueMs = Math.ceil((Date.now() + 2000) / 1000) * 1000;
    const due = new Date(dueMs);
    await applyExample('backupconfiguration.yaml', (d) => {
      d.spec.schedule = `${due.getUTCSeconds()} ${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
    });
    await controllers.get(leader)!.kill();
    controllers.delete(leader);
    const name = scheduledSessionName('shop-backup', dueMs);
    const done = await finished('backupsessions', name);
    assert.equal(done.status.phase, 'Succeeded', JSON.stringify(done.status));
    assert.equal(done.spec.trigger, 'schedule');
    const survivor = controllers.values().next().value!;
    // The new leader ran it: caught up (its start had passed), or taken over while it still waited
    // out its jitter (controller/scheduler.ts); either way once.
    assert.match(await readFile(survivor.logFile, 'utf8'), /catching up a scheduled run missed while no controller led|taking over a scheduled run that was waiting out its jitter/);
    // A second replica again; neither runs it a second time.
    await startReplica(leader, port);
    const list = JSON.parse(await kubectl('-n', NS, 'get', 'backupsessions', '-o', 'json')) as { items: Doc[] };
    const scheduled = list.items.filter((s) => s.spec.trigger === 'schedule');
    assert.deepEqual(scheduled.map((s) => s.metadata.name), [name], 'exactly one scheduled session');
    const cfg = await getJson('backupconfigurations', 'shop-backup');
    assert.equal(cfg.status.lastSessionName, name, JSON.stringify(cfg.status));
    assert.equal(cfg.status.skippedOverlaps ?? 0, 0);
    assert.equal(await phaseOf('backupsessions', 'instant-2'), 'Succeeded');
  });

  it('a configuration applied with kubectl naming objects not there yet shows them in status.missingReferences until they come', async () => {
    await applyDoc({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'early' }, spec: { schedule: '0 3 * * *', repository: { name: 'later-repo' }, target: { ref: { name: 'shop-db' } } } });
    const missing = await until('the leader to record the missing Repository', async () => {
      const m = (await getJson('backupconfigurations', 'early')).status?.missingReferences as { kind: string; name: string }[] | undefined;
      return m && m.length > 0 ? m : undefined;
    }, 30_000);
    assert.deepEqual(missing.map((m) => `${m.kind}/${m.name}`), ['Repository/later-repo']);
    await applyDoc({ apiVersion: 'sidestash.io/v1', kind: 'Repository', metadata: { name: 'later-repo' }, spec: { backend: { local: { path: join(dir.path, 'later-repo') }, storageSecretName: 'shop-repo-secret' } } });
    await until('the reference to resolve', async () => (((await getJson('backupconfigurations', 'early')).status?.missingReferences ?? []).length === 0 ? true : undefined), 30_000);
    await kubectl('-n', NS, 'delete', 'backupconfiguration', 'early');
    await kubectl('-n', NS, 'delete', 'repository', 'later-repo');
  });

  it('the sidestash CLI works in Kubernetes mode through any replica: get shows what kubectl created, apply writes a CRD object, trigger reaches the leader', async () => {
    for (const replica of controllers.values()) {
      const got = await runCli(['get', 'backupsessions', '-n', NS, '-o', 'name'], replica.cliEnv);
      assert.equal(got.code, 0, got.stderr);
      assert.match(got.stdout, /^backupsession\/instant-2$/m, 'created with kubectl, listed by the CLI');
    }
    const replica = controllers.values().next().value!;
    const file = join(dir.path, 'cli-config.yaml');
    await writeFile(file, stringify({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'from-cli', namespace: NS }, spec: { schedule: '0 4 * * *', paused: true, repository: { name: 'shop-repo' }, target: { ref: { name: 'shop-db' } } } }));
    const applied = await runCli(['apply', '-f', file], replica.cliEnv);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal((await getJson('backupconfigurations', 'from-cli')).spec.schedule, '0 4 * * *', 'stored as a custom resource, readable with kubectl');
    const trig = await runCli(['backup', 'trigger', 'from-cli', '-n', NS, '--force'], replica.cliEnv);
    assert.equal(trig.code, 0, trig.stderr);
    const name = /^backupsession\/(\S+) created$/m.exec(trig.stdout)?.[1];
    assert.ok(name, trig.stdout);
    assert.equal((await finished('backupsessions', name)).status.phase, 'Succeeded');
    await kubectl('-n', NS, 'delete', 'backupconfiguration', 'from-cli');
  });

  it('the API server refused no replica anything: the chart\'s RBAC is enough for all of the above', async () => {
    assert.equal(logFiles.length, 4, 'two replicas, each killed once and started again');
    for (const f of logFiles) assert.deepEqual(deniedLines(await readFile(f, 'utf8')), [], f);
  });

  // After the check above: this refusal is the one the test provokes.
  it('a Secret written through the sidestash API is refused by the API server (kubernetes.secretWrites is false): SIDESTASH_KUBE_DENIED says what to do', async () => {
    const secret = { apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 'written-by-cli', namespace: NS }, spec: { stringData: { RESTIC_PASSWORD: 'not-stored-0123456789' } } };
    const file = join(dir.path, 'new-secret.yaml');
    await writeFile(file, stringify(secret));
    const replica = controllers.values().next().value!;
    const r = await runCli(['apply', '-f', file], replica.cliEnv);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /SIDESTASH_KUBE_DENIED/);
    assert.match(r.stderr, /create the Secret with kubectl.*kubernetes\.secretWrites: true/);
    // The same request as the CLI sends it: HTTP 502 (the controller was refused, not the caller).
    const refused = await api(replica.api, 'POST', '/api/v1/apply', [secret]).then(() => undefined, (err: unknown) => err);
    assert.ok(isSidestashError(refused, ErrorCodes.KUBE_DENIED), String(refused));
    assert.equal(refused.details.status, 502);
    assert.equal((await kube.kubectl(['-n', NS, 'get', 'secret', 'written-by-cli'])).code, 1, 'no Secret was written');
    // The refusal is the API server's 403 to the chart's ServiceAccount.
    assert.match(r.stderr, /HTTP 403 Forbidden: .*system:serviceaccount:sidestash:sidestash/);
  });
});
