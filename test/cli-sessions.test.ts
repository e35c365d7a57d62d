// Session commands as a person runs them, through the CLI against the real controller, agent
// and MariaDB: a restore of a database the snapshot does not contain fails and names those it
// does; restores started in the same second get distinct names; --name names a session (a taken
// one is refused); Ctrl-C on --wait leaves the session running, says how to follow or cancel it,
// and exits 130; a Pending session says why it waits.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { applyScenario, waitFor } from './helpers/scenario.ts';
import { checksums, createShop } from './helpers/shop-db.ts';
import { runCli, startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc, SessionView } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'sidestash.ts');

describe('session commands (CLI, controller, agent, MariaDB)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let controller: ControllerProc;
  let agent: Proc;
  let env: Record<string, string>;
  const session = (plural: string, name: string) => api<SessionView & { metadata: { creationTimestamp: string } }>(controller.api, 'GET', `/api/v1/${plural}/${name}`);
  const createdName = (stdout: string, kind: string): string => {
    const m = new RegExp(`^${kind}/(\\S+) created$`, 'm').exec(stdout);
    assert.ok(m, stdout);
    return m[1]!;
  };

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 2000);
    controller = await startController(dir.path);
    env = controller.cliEnv;
    await applyScenario(controller.api, { db, repository: { local: { path: join(dir.path, 'repo') } } });
    // A target no agent serves: its sessions stay Pending.
    await api(controller.api, 'POST', '/api/v1/apply', [
      { kind: 'AppBinding', metadata: { name: 'idle-db' }, spec: { clientConfig: { socket: db.socket }, secret: { name: 'db-secret' } } },
      { kind: 'BackupConfiguration', metadata: { name: 'idle-backup' }, spec: { schedule: '0 0 1 1 *', repository: { name: 'repo' }, target: { ref: { name: 'idle-db' } } } },
    ]);
    agent = startAgent(dir.path, controller, ['default/shop-db']);
    const backup = await runCli(['backup', 'trigger', 'shop-backup', '--wait'], env);
    assert.equal(backup.code, 0, backup.stderr + backup.stdout);
    assert.match(createdName(backup.stdout, 'backupsession'), /^shop-backup-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
  after(async () => {
    await agent?.stop();
    await controller?.stop();
    await db?.stop();
    await dir?.cleanup();
  });

  it('restore --database of a database the snapshot does not contain fails, names the ones it does, and changes nothing', async () => {
    const before = await checksums(db);
    const r = await runCli(['restore', '--repository', 'repo', '--target', 'shop-db', '--database', 'nosuchdb', '--wait'], env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const name = createdName(r.stdout, 'restoresession');
    assert.match(r.stdout, new RegExp(`restoresession/${name} Failed in [0-9.]+s: SIDESTASH_NOT_IN_SNAPSHOT: snapshot [0-9a-f]{8}: database nosuchdb is not in the snapshot; it contains databases .*crm.*shop`));
    assert.match(r.stdout, /\(nothing was restored\)/);
    assert.equal((await session('restoresessions', name)).status?.error?.code, 'SIDESTASH_NOT_IN_SNAPSHOT');
    assert.doesNotMatch(await db.sql('SHOW DATABASES'), /nosuchdb/);
    assert.equal(await checksums(db), before);
    // The same restore of a database it has succeeds.
    const ok = await runCli(['restore', '--repository', 'repo', '--target', 'shop-db', '--database', 'crm', '--wait'], env);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, / Succeeded snapshot /);
  });

  it('restores started in the same second get distinct names and both run', async () => {
    // Pairs of restores started together until one pair shares a second (the old names were restore-TARGET-<unix seconds>).
    for (let attempt = 1; ; attempt++) {
      const pair = await Promise.all([0, 1].map(() => runCli(['restore', '--repository', 'repo', '--target', 'shop-db', '--database', 'crm'], env)));
      for (const r of pair) assert.equal(r.code, 0, r.stdout + r.stderr);
      const names = pair.map((r) => createdName(r.stdout, 'restoresession'));
      assert.notEqual(names[0], names[1]);
      for (const n of names) assert.match(n, /^restore-shop-db-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      const ended = await Promise.all(names.map((n) => waitFor(`${n} to end`, 120_000, async () => {
        const s = await session('restoresessions', n);
        return s.status?.phase === 'Succeeded' || s.status?.phase === 'Failed' ? s : undefined;
      })));
      for (const s of ended) assert.equal(s.status?.phase, 'Succeeded', JSON.stringify(s.status));
      const seconds = ended.map((s) => s.metadata.creationTimestamp.slice(0, 19));
      if (seconds[0] === seconds[1]) break;
      assert.ok(attempt < 10, 'ten pairs of restores started together never shared a second');
    }
  });

  it('--name names a restore or a backup; a name already taken is refused and creates nothing', async () => {
    const r = await runCli(['restore', '--repository', 'repo', '--target', 'shop-db', '--database', 'crm', '--name', 'my-restore', '--wait'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(createdName(r.stdout, 'restoresession'), 'my-restore');
    const count = async () => (await api<{ items: unknown[] }>(controller.api, 'GET', '/api/v1/restoresessions')).items.length;
    const before = await count();
    // The same spec too: apply would call it unchanged.
    const again = await runCli(['restore', '--repository', 'repo', '--target', 'shop-db', '--database', 'crm', '--name', 'my-restore'], env);
    assert.equal(again.code, 1, again.stdout + again.stderr);
    assert.match(again.stderr, /SIDESTASH_CONFLICT/);
    assert.match(again.stderr, /RestoreSession default\/my-restore already exists/);
    assert.doesNotMatch(again.stdout, /created/);
    assert.equal(await count(), before);

    const b = await runCli(['backup', 'trigger', 'shop-backup', '--name', 'my-backup', '--wait'], env);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.equal(createdName(b.stdout, 'backupsession'), 'my-backup');
    const taken = await runCli(['backup', 'trigger', 'shop-backup', '--name', 'my-backup'], env);
    assert.equal(taken.code, 1, taken.stdout + taken.stderr);
    assert.match(taken.stderr, /SIDESTASH_CONFLICT/);
    assert.match(taken.stderr, /BackupSession default\/my-backup already exists/);
    const bad = await runCli(['backup', 'trigger', 'shop-backup', '--name', 'Not_A_Name'], env);
    assert.equal(bad.code, 2, 'a usage error');
    assert.match(bad.stderr, /not a valid resource name/);
  });

  for (const [what, args, kind] of [
    ['restore --wait', ['restore', '--repository', 'repo', '--target', 'idle-db', '--wait'], 'restoresession'],
    ['wait', [], 'restoresession'],
    ['backup trigger --wait', ['backup', 'trigger', 'idle-backup', '--wait'], 'backupsession'],
  ] as const) {
    it(`Ctrl-C on ${what} leaves the session running, says how to follow and cancel it, and exits 130`, async () => {
      let argv: string[] = [...args];
      let name: string | undefined;
      if (argv.length === 0) {
        const created = await runCli(['restore', '--repository', 'repo', '--target', 'idle-db'], env);
        name = createdName(created.stdout, 'restoresession');
        argv = ['wait', 'restoresession', name];
      }
      const child = spawn(process.execPath, [CLI, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // Interrupted once it is waiting: its first progress line is out.
      await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/"phase":"Pending"/.test(stderr)) resolve();
      }));
      name ??= createdName(stdout, kind);
      // As a terminal's Ctrl-C does (process.kill: Deno's child.kill would report the exit as the signal's, not the code).
      process.kill(child.pid!, 'SIGINT');
      assert.equal(await exited, 130, stdout + stderr);
      assert.match(stderr, new RegExp(`stopped waiting; ${kind}/${name} keeps running\\n  follow it:  sidestash wait ${kind} ${name}\\n  cancel it:  sidestash cancel ${kind} ${name}\\n`));
      const pending = await session(`${kind}s`, name);
      assert.equal(pending.status?.phase, 'Pending', 'the session goes on');
      // ...and says why it waits: in its status, in `get`, and on the --wait progress lines.
      assert.equal((pending.status as { reason?: string }).reason, 'NoAgent');
      assert.match(stderr, /"phase":"Pending",.*"reason":"NoAgent","message":"no agent serves default\/idle-db/);
      const listed = await runCli(['get', `${kind}s`], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^NAME +PHASE .* MESSAGE$/m);
      assert.match(listed.stdout, new RegExp(`^${name} +Pending .* no agent serves default/idle-db \\(none has it in SIDESTASH_AGENT_TARGETS\\)$`, 'm'));
      // The commands printed work as printed.
      const cancel = await runCli(['cancel', kind, name], env);
      assert.equal(cancel.code, 0, cancel.stderr);
      const waited = await runCli(['wait', kind, name], env);
      assert.equal(waited.code, 1);
      assert.match(waited.stdout, new RegExp(`^${kind}/${name} Cancelled: SIDESTASH_SESSION_CANCELLED: cancelled before it started$`, 'm'));
    });
  }
});
