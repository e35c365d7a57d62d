// The main job on embedded defaults (`npm start`): a throwaway MariaDB with a sample shop
// database, the controller (sqlite state in .sidestash/) and the agent as real processes,
// resources applied from examples/, a backup with a progress bar, restic's own check of the
// repository, then the database dropped and brought back by a RestoreSession, and verified.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { localRepositoryPathProblem } from '../common/backend/local/repository-path.ts';
import { startMariaDB } from '../test/helpers/mariadb.ts';
import { restic } from '../test/helpers/restic.ts';
import { DB_PASSWORD, checksums, createShop } from '../test/helpers/shop-db.ts';
import { runCli, startAgent, startController } from '../test/helpers/stack.ts';

const root = resolve(import.meta.dirname, '..');
const state = join(root, '.sidestash');
// Not inside .sidestash/: the controller refuses repository paths with hidden (dot) segments.
// Beside the checkout, or in the temporary directory when the checkout's own path has one.
const repoPath = [join(root, 'sidestash-demo-repository'), join(tmpdir(), `sidestash-demo-repository-${userInfo().uid}`)].find((p) => localRepositoryPathProblem(p) === undefined);
if (!repoPath) throw new Error(`no usable place for the demo repository: ${localRepositoryPathProblem(join(tmpdir(), 'sidestash-demo-repository'))}`);
const say = (s: string): void => void process.stdout.write(`\n==> ${s}\n`);

await mkdir(state, { recursive: true, mode: 0o700 });
const passwordFile = join(state, 'repository-password');
const repoPassword = await readFile(passwordFile, 'utf8').catch(async () => {
  const pw = randomBytes(18).toString('base64url');
  await writeFile(passwordFile, pw, { mode: 0o600 });
  return pw;
});

say('starting a throwaway MariaDB with a sample "shop" database');
const db = await startMariaDB();
const procs: { stop(): Promise<void> }[] = [];
try {
  await createShop(db, 100_000);
  say(`starting the controller (state: ${join(state, 'controller.db')}) and the agent`);
  const controller = await startController(state);
  procs.push(controller);
  procs.push(startAgent(state, controller, ['default/shop-db']));
  const env = controller.cliEnv;
  const cli = async (args: string[]): Promise<string> => {
    const r = await runCli(args, env);
    if (r.code !== 0) throw new Error(`sidestash ${args.join(' ')} failed: ${r.stderr}`);
    process.stdout.write(r.stdout);
    return r.stdout;
  };

  say('applying examples/*.yaml (with this machine\'s socket and repository path)');
  const files: string[] = [];
  for (const [name, edits] of Object.entries({
    'secrets.yaml': [['change-me-repository-password', repoPassword], ['password: change-me-db-password', `password: ${JSON.stringify(DB_PASSWORD)}`]],
    'repository.yaml': [['/var/backups/sidestash/shop', repoPath]],
    'appbinding.yaml': [['/run/mysqld/mysqld.sock', db.socket]],
    'backupconfiguration.yaml': [],
  } as Record<string, [string, string][]>)) {
    let text = await readFile(join(root, 'examples', name), 'utf8');
    for (const [from, to] of edits) text = text.replaceAll(from, to);
    const path = join(state, name);
    await writeFile(path, text, { mode: 0o600 });
    files.push(path);
  }
  await cli(['apply', ...files.flatMap((f) => ['-f', f])]);

  say('backing up now (the schedule in examples/backupconfiguration.yaml runs every 30 minutes)');
  const { spawnSync } = await import('node:child_process');
  const trig = spawnSync(process.execPath, [join(root, 'bin', 'sidestash.ts'), 'backup', 'trigger', 'shop-backup', '--wait'], { env: { ...process.env, ...env }, stdio: 'inherit' });
  if (trig.status !== 0) throw new Error('backup failed');
  await cli(['get', 'backupsessions']);
  // The agent is default/agent-0, enrolled with SIDESTASH_AGENT_BOOTSTRAP_TOKEN (scoped to namespace "default").
  await cli(['get', 'agents']);
  await cli(['snapshots', 'shop-repo']);

  say(`restic check --read-data on ${repoPath} (the real restic CLI)`);
  const chk = await restic(repoPath, repoPassword, ['check', '--read-data']);
  process.stdout.write(chk.stdout);
  if (chk.code !== 0) throw new Error(`restic check failed: ${chk.stderr}`);

  const before = await checksums(db);
  say('dropping the shop database, then restoring it with a RestoreSession');
  await db.sql('DROP DATABASE shop');
  const restore = spawnSync(process.execPath, [join(root, 'bin', 'sidestash.ts'), 'restore', '--repository', 'shop-repo', '--target', 'shop-db', '--wait'], { env: { ...process.env, ...env }, stdio: 'inherit' });
  if (restore.status !== 0) throw new Error('restore failed');
  const after = await checksums(db);
  if (after !== before) throw new Error(`checksums differ after restore:\n${before}\n${after}`);
  process.stdout.write(after);
  say('restored: every table checksum matches the original');
  process.stdout.write(`\nThe controller's state stays in ${state}, the repository in ${repoPath}; it served HTTPS with the CA it generated there (${controller.caFile}). Try:\n  RESTIC_PASSWORD_FILE=${passwordFile} restic -r ${repoPath} snapshots\n  RESTIC_PASSWORD_FILE=${passwordFile} npx sidestash repo dump latest --repo ${repoPath} | head\n`);
} finally {
  for (const p of procs.reverse()) await p.stop();
  await db.stop();
}
