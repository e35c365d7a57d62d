// End to end with real parts: a throwaway MariaDB, the controller and the agent as processes,
// resources applied from YAML files with the CLI, a cron-scheduled backup, restic check on the
// repository, a dropped database brought back by a RestoreSession, and equal table checksums.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { runtimeName } from '../common/runtime.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { startRestServer } from './helpers/rest-server.ts';
import { restic } from './helpers/restic.ts';
import { startS3Server } from './helpers/s3-server.ts';
import { DB_PASSWORD, checksums, createShop } from './helpers/shop-db.ts';
import { runCli, startAgent, startController, waitForFinished, waitForIdle } from './helpers/stack.ts';
import type { ControllerProc, Proc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

const EXAMPLES = join(import.meta.dirname, '..', 'examples');
const REPO_PASSWORD = 'e2e-repository-password';

/** A repository backend the scenario runs against: its example file, edits, and restic's view. */
interface BackendCase {
  name: string;
  start(dir: string): Promise<{ file: string; edits: [string, string][]; secretKeys: Record<string, string>; resticRepo: string; resticEnv: Record<string, string>; stop(): Promise<void> }>;
}

const BACKENDS: BackendCase[] = [
  {
    name: 'local',
    start: async (dir) => ({ file: 'repository.yaml', edits: [['/var/backups/sidestash/shop', join(dir, 'repo')]], secretKeys: {}, resticRepo: join(dir, 'repo'), resticEnv: {}, stop: async () => {} }),
  },
  {
    name: 's3',
    start: async () => {
      const s3 = await startS3Server();
      return {
        file: 'repository-s3.yaml',
        edits: [['https://s3.eu-central-1.amazonaws.com', s3.endpoint], ['region: eu-central-1', 'region: us-east-1']],
        secretKeys: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
        resticRepo: `s3:${s3.endpoint}/my-backups/mariadb/shop`,
        resticEnv: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
        stop: () => s3.stop(),
      };
    },
  },
  {
    name: 'rest',
    start: async () => {
      const rest = await startRestServer();
      const u = new URL(rest.url);
      return {
        file: 'repository-rest.yaml',
        edits: [['https://rest-server.backup.svc:8000', rest.url]],
        secretKeys: { REST_SERVER_USERNAME: rest.username, REST_SERVER_PASSWORD: rest.password },
        resticRepo: `rest:http://${rest.username}:${rest.password}@${u.host}/shop/`,
        resticEnv: {},
        stop: () => rest.stop(),
      };
    },
  },
];

/** The example files with this test's paths and credentials. */
async function writeExamples(dir: string, db: MariaDB, repo: { file: string; edits: [string, string][]; secretKeys: Record<string, string> }, schedule: string): Promise<string[]> {
  const extraKeys = Object.entries(repo.secretKeys).map(([k, v]) => `\n    ${k}: ${JSON.stringify(v)}`).join('');
  const edits: Record<string, [string, string][]> = {
    'secrets.yaml': [['RESTIC_PASSWORD: change-me-repository-password', `RESTIC_PASSWORD: ${REPO_PASSWORD}${extraKeys}`], ['password: change-me-db-password', `password: ${JSON.stringify(DB_PASSWORD)}`]],
    [repo.file]: repo.edits,
    'appbinding.yaml': [['/run/mysqld/mysqld.sock', db.socket]],
    'backupconfiguration.yaml': [['"*/30 * * * *"', JSON.stringify(schedule)]],
  };
  const files: string[] = [];
  for (const [name, replacements] of Object.entries(edits)) {
    let text = await readFile(join(EXAMPLES, name), 'utf8');
    for (const [from, to] of replacements) {
      assert.ok(text.includes(from), `${name} should contain ${from}`);
      text = text.replaceAll(from, to);
    }
    const path = join(dir, name);
    await writeFile(path, text);
    files.push(path);
  }
  return files;
}

for (const backendCase of BACKENDS) describe(`end to end (${backendCase.name} repository): scheduled backup and restore of a real MariaDB`, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let repo: Awaited<ReturnType<BackendCase['start']>>;
  let db: MariaDB;
  let controller: ControllerProc;
  let agent: Proc;
  before(async () => {
    dir = await tempDir();
    repo = await backendCase.start(dir.path);
    db = await startMariaDB();
    await createShop(db);
    controller = await startController(dir.path);
    agent = startAgent(dir.path, controller, ['default/shop-db']);
  });
  after(async () => {
    await agent?.stop();
    await controller?.stop();
    await db?.stop();
    await repo?.stop();
    await dir?.cleanup();
  });

  it('backs up on schedule, passes restic check, and restores a dropped database', async () => {
    const files = await writeExamples(dir.path, db, repo, '*/2 * * * * *');
    const env = controller.cliEnv;
    const applied = await runCli(['apply', ...files.flatMap((f) => ['-f', f])], env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /backupconfiguration\/shop-backup created/);

    const backup = await waitForFinished(controller.api, 'backupsessions', () => true, 60_000);
    assert.equal(backup.status?.phase, 'Succeeded', JSON.stringify(backup.status));
    assert.match(backup.status?.snapshotId ?? '', /^[0-9a-f]{64}$/);
    assert.ok((backup.status?.bytesRead ?? 0) > 1_000_000);
    // Stop the schedule before restoring.
    const pausedYaml = (await readFile(files[3]!, 'utf8')).replace('spec:\n', 'spec:\n  paused: true\n');
    await writeFile(files[3]!, pausedYaml);
    assert.equal((await runCli(['apply', '-f', files[3]!], env)).code, 0);
    // A run the schedule started before the pause may still hold the repository lock.
    await waitForIdle(controller.api, 'backupsessions', 60_000);

    const check = await restic(repo.resticRepo, REPO_PASSWORD, ['check', '--read-data'], undefined, repo.resticEnv);
    assert.equal(check.code, 0, check.stderr + check.stdout);
    const snaps = JSON.parse((await restic(repo.resticRepo, REPO_PASSWORD, ['snapshots', '--json'], undefined, repo.resticEnv)).stdout) as { id: string; hostname: string; paths: string[] }[];
    assert.ok(snaps.some((s) => s.id === backup.status?.snapshotId && s.hostname === 'shop-db' && s.paths[0] === '/dumpfile.sql'));

    const before = await checksums(db);
    await db.sql('DROP DATABASE shop; DROP DATABASE crm;');
    assert.notEqual(await checksums(db), before);
    const restore = await readFile(join(EXAMPLES, 'restoresession.yaml'), 'utf8');
    await writeFile(join(dir.path, 'restore.yaml'), restore);
    assert.equal((await runCli(['apply', '-f', join(dir.path, 'restore.yaml')], env)).code, 0);
    const restored = await waitForFinished(controller.api, 'restoresessions', (s) => s.metadata.name === 'shop-restore', 60_000);
    assert.equal(restored.status?.phase, 'Succeeded', JSON.stringify(restored.status));
    assert.equal(await checksums(db), before);

    // One database out of the --all-databases dump, leaving the others alone.
    await db.sql('DROP DATABASE shop; UPDATE crm.contacts SET phone = \'changed\' WHERE id = 1;');
    await api(controller.api, 'POST', '/api/v1/apply', { apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'shop-only' }, spec: { repository: { name: 'shop-repo' }, target: { ref: { name: 'shop-db' } }, database: 'shop', snapshot: backup.status!.snapshotId!.slice(0, 12), parallel: 3, verify: 'checksum' } });
    const one = await waitForFinished(controller.api, 'restoresessions', (s) => s.metadata.name === 'shop-only', 60_000);
    assert.equal(one.status?.phase, 'Succeeded', JSON.stringify(one.status));
    // Verified: each restored table's rows counted against the dump's, with its checksum, on the status and in describe.
    const tables = (one.status as { tables?: { database: string; table: string; expectedRows: number; restoredRows: number; checksum?: string }[] }).tables;
    assert.deepEqual(tables?.map((t) => [t.database, t.table, t.expectedRows === t.restoredRows && t.restoredRows > 0, /^\d+$/.test(t.checksum ?? '')]), [['shop', 'customers', true, true], ['shop', 'orders', true, true]]);
    const described = await runCli(['describe', 'restoresession', 'shop-only'], env);
    assert.match(described.stdout, /Tables:\n\s+TABLE.*\n\s+shop\.customers\s+\d+\s+\d+\s+ok/);
    assert.equal((await db.sql('SELECT phone FROM crm.contacts WHERE id = 1')).trim(), 'changed');
    await db.sql('UPDATE crm.contacts SET phone = \'+49 30 1234\' WHERE id = 1;');
    assert.equal(await checksums(db), before);

    // The CLI shows the same state.
    const listed = await runCli(['snapshots', 'shop-repo'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(backup.status!.snapshotId!.slice(0, 8)));
    const sessions = await runCli(['get', 'backupsessions'], env);
    assert.equal(sessions.code, 0, sessions.stderr);
    // The row of the session we checked, not just any "Succeeded" on the screen.
    const row = sessions.stdout.split('\n').find((l) => l.split(/\s+/)[0] === backup.metadata.name);
    assert.ok(row, `${backup.metadata.name} listed in:\n${sessions.stdout}`);
    assert.match(row, /\bSucceeded\b/);
    assert.doesNotMatch(sessions.stdout, /\bFailed\b/, 'no session failed');
    const secrets = await runCli(['get', 'secrets', 'shop-db-auth', '-o', 'json'], env);
    assert.ok(!secrets.stdout.includes(DB_PASSWORD) && secrets.stdout.includes('[REDACTED]'));
    const agentLog = await readFile(agent.logFile, 'utf8');
    // The agent runs on the runtime that runs the tests (node, or deno under scripts/test.sh).
    assert.ok(agentLog.includes(`"runtime":"${runtimeName()}"`), `agent runtime ${runtimeName()}`);
    assert.ok(!agentLog.includes(DB_PASSWORD) && !agentLog.includes(REPO_PASSWORD), 'secrets must not be logged');
  });
});
