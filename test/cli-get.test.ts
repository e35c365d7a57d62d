// kubectl habits through the real CLI process against the real controller, agent and MariaDB:
// get's tables show state (last success, next run, paused; repository backend, size, snapshots,
// last backup; a session's configuration; agents online), -o wide|yaml|json|name|jsonpath
// (an unknown -o is a usage error), -l (filtered by the controller), -A, -w, delete -f, and
// pause/resume with a trigger of a paused configuration asking for --force.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { api } from '../cli/api-client.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { applyScenario } from './helpers/scenario.ts';
import { createShop } from './helpers/shop-db.ts';
import { runCli, startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'sidestash.ts');

describe('get, pause, resume and delete -f through the CLI process', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let controller: ControllerProc;
  let agent: Proc;
  const cli = (...args: string[]) => runCli(args, controller.cliEnv);
  const rowOf = (out: string, name: string): string => {
    const row = out.split('\n').find((l) => l.split(/\s+/)[0] === name);
    assert.ok(row, `${name} in:\n${out}`);
    return row;
  };

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 2000);
    controller = await startController(dir.path);
    await applyScenario(controller.api, { db, repository: { local: { path: join(dir.path, 'repo') } } });
    agent = startAgent(dir.path, controller, ['default/shop-db']);
    const backup = await cli('backup', 'trigger', 'shop-backup', '--wait');
    assert.equal(backup.code, 0, backup.stderr + backup.stdout);
  });
  after(async () => {
    await agent?.stop();
    await controller?.stop();
    await db?.stop();
    await dir?.cleanup();
  });

  it('get backupconfigurations: last success "ago", next run "in", and "paused" once paused', async () => {
    const listed = await cli('get', 'backupconfigurations');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME +SCHEDULE +PAUSED +LAST PHASE +FAILURES +LAST SUCCESS +NEXT RUN +AGE$/m);
    assert.match(rowOf(listed.stdout, 'shop-backup'), /^shop-backup +0 0 1 1 \* +false +Succeeded +0 +(\d+s ago|now) +in \d+d +\d+s$/);

    const paused = await cli('pause', 'shop-backup');
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout, 'backupconfiguration/shop-backup paused\n');
    assert.match(rowOf((await cli('get', 'bc')).stdout, 'shop-backup'), /^shop-backup +0 0 1 1 \* +true +Succeeded +0 +(\d+s ago|now) +paused +/);
    const cfg = await api<{ spec: { paused?: boolean; repository: unknown } }>(controller.api, 'GET', '/api/v1/backupconfigurations/shop-backup');
    assert.equal(cfg.spec.paused, true);
    assert.deepEqual(cfg.spec.repository, { name: 'repo' }, 'the rest of the spec is kept');

    // A manual trigger of a paused configuration asks for --force.
    const refused = await cli('backup', 'trigger', 'shop-backup');
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /shop-backup is paused; run \\"sidestash resume shop-backup\\" first, or .*--force/);
    assert.equal((await api<{ items: unknown[] }>(controller.api, 'GET', '/api/v1/backupsessions')).items.length, 1, 'no session created');
    const forced = await cli('backup', 'trigger', 'shop-backup', '--force', '--wait');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^backupsession\/shop-backup-\S+ created\n/);
    assert.match(forced.stdout, /\nAdded to the repository: [\d.]+ (B|KiB|MiB) \([\d.]+ (B|KiB|MiB) stored\)\n$/, 'restic\'s closing line, from the snapshot\'s summary');

    assert.equal((await cli('resume', 'shop-backup')).stdout, 'backupconfiguration/shop-backup resumed\n');
    assert.equal((await cli('resume', 'shop-backup')).stdout, 'backupconfiguration/shop-backup already running on its schedule\n');
    assert.match(rowOf((await cli('get', 'bc')).stdout, 'shop-backup'), / false +Succeeded .* in \d+d /);
    assert.equal((await cli('pause')).code, 2, 'pause needs a name');
    assert.notEqual((await cli('pause', 'nosuch')).code, 0);
  });

  it('get repositories: backend, size, snapshots and last backup, kept by the controller', async () => {
    const listed = await cli('get', 'repositories');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME +INTEGRITY +BACKEND +SIZE +SNAPSHOTS +LAST BACKUP +CHECKED +AGE +MESSAGE$/m);
    const row = rowOf(listed.stdout, 'repo');
    assert.ok(row.includes(`local:${join(dir.path, 'repo')}`), row);
    assert.match(row, / \d+(\.\d)? (KiB|MiB) +[12] +\d+s ago /);
    const snaps = await cli('snapshots', 'repo');
    assert.equal(snaps.code, 0, snaps.stderr);
    assert.match(snaps.stdout, /^ID +Time +Host +Tags +Paths +Size\n-+\n[0-9a-f]{8} +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\S+ +\S*invoker=shop-backup\S* +\/\S+ +[\d.]+ (KiB|MiB)\n(.*\n)*-+\nTimestamps shown in (local time|UTC|[A-Za-z_/+-]+)\n[12] snapshots\n$/);
  });

  it('get backupsessions shows the configuration; get agents online, last seen, version and targets', async () => {
    const sessions = await cli('get', 'backupsessions');
    assert.match(sessions.stdout, /^NAME +PHASE +CONFIGURATION +SIZE/m);
    assert.match(sessions.stdout, /^shop-backup-\S+ +Succeeded +shop-backup +\d/m);
    const agents = await cli('get', 'agents');
    assert.equal(agents.code, 0, agents.stderr);
    assert.match(agents.stdout, /^NAME +STATUS +LAST SEEN +VERSION +TARGETS$/m);
    assert.match(rowOf(agents.stdout, 'agent-0'), /^agent-0 +online +(\d+s ago|now) +\S+ +default\/shop-db$/);
    assert.match((await cli('get', 'agents', '-A')).stdout, /^default +agent-0 +online /m);
    const none = await cli('get', 'agents', '-n', 'team-a');
    assert.equal(none.stdout, '', 'agents of another namespace only');
    assert.match(none.stderr, /No resources found in team-a namespace/);
  });

  it('describe: human state, the configuration\'s sessions, the serving agent and events', async () => {
    const d = await cli('describe', 'backupconfiguration', 'shop-backup');
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^Name: +shop-backup$/m);
    assert.match(d.stdout, /^Last success: +\S+Z \((\d+s ago|now)\)$/m);
    assert.match(d.stdout, /^Next run: +\S+Z \(in \d+d\)$/m);
    assert.match(d.stdout, /^Recent sessions:\n +NAME +PHASE +SIZE +DURATION +AGE\n +shop-backup-\S+ +Succeeded +\d+(\.\d)? (KiB|MiB) +\d/m);
    assert.match(d.stdout, /^Serving agent:\n +NAMESPACE .*\n +default +agent-0 +online /m);
    assert.match(d.stdout, /^ +Normal +Started +\S+( ago)? +backupsession\/shop-backup-\S+ +on agent default\/agent-0$/m);
    assert.match(d.stdout, /^ +Normal +Succeeded +.* +snapshot [0-9a-f]{8}, /m);
    const repo = await cli('describe', 'repository', 'repo');
    assert.match(repo.stdout, /^Size: +\d+(\.\d)? (KiB|MiB)$/m);
    assert.match(repo.stdout, /^Snapshots: +[12]$/m);
    assert.match(repo.stdout, /^Recent sessions:\n.*\n +shop-backup-/m);
    const secret = await cli('describe', 'secret', 'repo-secret');
    assert.match(secret.stdout, /^Keys: +RESTIC_PASSWORD$/m);
    assert.equal((await cli('describe', 'backupconfiguration')).code, 2);
  });

  it('-o wide, yaml, json, name and jsonpath; an unknown -o is a usage error', async () => {
    assert.match((await cli('get', 'bc', '-o', 'wide')).stdout, /^NAME .* AGE +REPOSITORY +TARGET +TIMEZONE +LAST SCHEDULE +LAST SESSION$/m);
    const yaml = parse((await cli('get', 'bc', '-o', 'yaml')).stdout) as { kind: string; items: { metadata: { name: string } }[] };
    assert.equal(yaml.kind, 'List');
    assert.deepEqual(yaml.items.map((i) => i.metadata.name), ['shop-backup']);
    const one = JSON.parse((await cli('get', 'bc', 'shop-backup', '-o', 'json')).stdout) as { kind: string; status: { lastSuccessTime: string } };
    assert.equal(one.kind, 'BackupConfiguration');
    assert.ok(one.status.lastSuccessTime);
    assert.equal((await cli('get', 'secrets', '-o', 'name')).stdout, 'secret/db-secret\nsecret/repo-secret\n');
    assert.equal((await cli('get', 'secrets', '-o', 'jsonpath={.items[*].metadata.name}')).stdout, 'db-secret repo-secret\n');
    assert.equal((await cli('get', 'secrets', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.data.RESTIC_PASSWORD}{"\\n"}{end}')).stdout, 'db-secret=\nrepo-secret=[REDACTED]\n\n');
    assert.equal((await cli('get', 'bc', 'shop-backup', '-o', 'jsonpath={.spec.target.ref.name}')).stdout, 'shop-db\n');
    for (const bad of ['xml', 'jsonpath={.items', 'custom-columns=NAME:.metadata.name']) {
      const r = await cli('get', 'bc', '-o', bad);
      assert.equal(r.code, 2, `-o ${bad}: ${r.stderr}`);
      assert.equal(r.stdout, '');
    }
  });

  it('-l filters by labels in the controller, -A lists every namespace', async () => {
    await api(controller.api, 'POST', '/api/v1/apply', [
      { kind: 'Secret', metadata: { name: 'team-a-key', namespace: 'team-a', labels: { team: 'a', tier: 'db' } }, spec: { stringData: { k: 'v' } } },
      { kind: 'Secret', metadata: { name: 'labelled', labels: { team: 'b', tier: 'db' } }, spec: { stringData: { k: 'v' } } },
    ]);
    const names = async (...args: string[]): Promise<string> => {
      const r = await cli('get', 'secrets', ...args, '-o', 'name');
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split('\n').join(' ');
    };
    assert.equal(await names('-l', 'tier=db'), 'secret/labelled');
    assert.equal(await names('-A', '-l', 'tier=db'), 'secret/labelled secret/team-a-key');
    assert.equal(await names('-A', '-l', 'team!=b,tier'), 'secret/team-a-key');
    assert.equal(await names('-A', '-l', 'team in (a,b)'), 'secret/labelled secret/team-a-key');
    assert.equal(await names('-n', 'team-a'), 'secret/team-a-key');
    assert.match((await cli('get', 'secrets', '-A')).stdout, /^NAMESPACE +NAME +KEYS +AGE\n(.*\n)*team-a +team-a-key +k +/m);
    const server = await api<{ items: { metadata: { name: string } }[] }>(controller.api, 'GET', '/api/v1/secrets?labelSelector=team%3Da');
    assert.deepEqual(server.items.map((i) => i.metadata.name), ['team-a-key'], 'the controller filters');
    const bad = await cli('get', 'secrets', '-l', 'tier=d b');
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /label selector/);
    await assert.rejects(api(controller.api, 'GET', '/api/v1/secrets?labelSelector=a%3D%3D%3Db'), /label selector/);
  });

  it('delete -f deletes the documents of a file; a file with a bad document deletes nothing', async () => {
    const file = join(dir.path, 'extra.yaml');
    await writeFile(file, ['kind: Secret', 'metadata: {name: extra-1}', 'spec: {stringData: {a: b}}', '---', 'kind: Secret', 'metadata: {name: extra-2, namespace: team-a}', 'spec: {stringData: {a: b}}', ''].join('\n'));
    assert.equal((await cli('apply', '-f', file)).code, 0);
    const bad = join(dir.path, 'bad.yaml');
    await writeFile(bad, ['kind: Secret', 'metadata: {name: extra-1}', '---', 'kind: Widget', 'metadata: {name: w}', '---', 'kind: Secret', 'metadata: {}', ''].join('\n'));
    const refused = await cli('delete', '-f', bad);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /bad\.yaml document 2: kind: unknown resource type.*\\n\S*bad\.yaml document 3: metadata\.name: required/);
    assert.match((await cli('get', 'secrets', '-A', '-o', 'name')).stdout, /secret\/extra-1\n/, 'nothing deleted');

    const deleted = await cli('delete', '-f', file);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'secret/extra-1 deleted\nsecret/extra-2 deleted\n');
    assert.doesNotMatch((await cli('get', 'secrets', '-A', '-o', 'name')).stdout, /extra-/);
    const again = await cli('delete', '-f', file);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /extra\.yaml document 1 \(secrets\/extra-1\): .*not found/);
    assert.equal((await cli('delete', '-f', file, '--ignore-not-found')).code, 0);
  });

  it('-w prints the table, then each row that changes, until interrupted (exit 130)', async () => {
    const child = spawn(process.execPath, [CLI, 'get', 'backupconfigurations', '-w'], { env: { ...process.env, ...controller.cliEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const until = async (what: string, test: () => boolean): Promise<void> => {
      for (let i = 0; i < 300 && !test(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(test(), `${what}; output:\n${out}`);
    };
    try {
      await until('the table', () => /^shop-backup +0 0 1 1 \* +false /m.test(out));
      assert.equal(out.match(/^NAME /gm)?.length, 1);
      await cli('pause', 'shop-backup');
      await until('the paused row', () => /^shop-backup +0 0 1 1 \* +true .* paused /m.test(out));
      assert.equal(out.match(/^NAME /gm)?.length, 1, 'the header once');
      // process.kill: Deno's ChildProcess.kill('SIGINT') does not deliver a SIGINT the child can handle.
      process.kill(child.pid!, 'SIGINT');
      assert.equal(await exited, 130);
    } finally {
      child.kill('SIGKILL');
      await cli('resume', 'shop-backup');
    }
  });

  it('--wait on a terminal: a progress bar in human sizes that ends at 100%, and what was added to the repository', async () => {
    // A pseudo-terminal (util-linux script) for the CLI, as a person runs it.
    const onTerminal = (args: string[]): Promise<string> =>
      new Promise((resolve) => {
        // Under Deno, `deno FILE` would ask for permissions on the terminal: run it as the suite does.
        const runtime = (process.versions as Record<string, string | undefined>).deno ? [process.execPath, 'run', '--allow-all', CLI] : [process.execPath, CLI];
        const command = [...runtime, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
        const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...controller.cliEnv, COLUMNS: '200' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', () => resolve(out));
      });
    const clean = (s: string): string[] => s.replace(/\u001b(\[[0-9;?]*[A-Za-z]|[78])/g, '\n').split(/[\r\n]+/).map((l) => l.trim()).filter(Boolean);
    const size = '\\d+(\\.\\d)? (B|KiB|MiB)';

    const backup = clean(await onTerminal(['backup', 'trigger', 'shop-backup', '--wait']));
    const bars = backup.filter((l) => l.includes(' | '));
    assert.ok(bars.length > 0, backup.join('\n'));
    for (const l of bars) assert.match(l, new RegExp(`^shop-backup-\\S+ (Pending|Running|Succeeded) \\[.*\\] (\\d+%|--%) \\| ${size} of (${size}|\\?) \\| ${size}/s \\| ETA (\\d+s|-)$`), l);
    assert.ok(!bars.some((l) => / of 1 B /.test(l)), 'never a total of 1');
    const last = bars.at(-1)!;
    const m = new RegExp(`Succeeded \\[.*\\] 100% \\| (${size}) of (${size}) \\|`).exec(last);
    assert.ok(m && m[1] === m[4], `ends full, at the dump's size: ${last}`);
    assert.ok(backup.some((l) => /^Added to the repository: [\d.]+ (B|KiB|MiB) \([\d.]+ (B|KiB|MiB) stored\)$/.test(l)), backup.join('\n'));

    const restore = clean(await onTerminal(['restore', '--repository', 'repo', '--target', 'shop-db', '--wait']));
    const rlast = restore.filter((l) => l.includes(' | ')).at(-1) ?? '';
    const rm = new RegExp(`^restore-shop-db-\\S+ Succeeded \\[.*\\] 100% \\| (${size}) of (${size}) \\|`).exec(rlast);
    assert.ok(rm && rm[1] === rm[4], `${restore.join('\n')}`);
  });
});
