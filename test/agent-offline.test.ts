// Edge autonomy with real processes (issue 15): the controller is stopped for longer than the
// agent's SIDESTASH_OFFLINE_AFTER while a schedule keeps firing; the agent runs the scheduled
// backups itself from its encrypted plan, and once the controller is back each one appears as
// a BackupSession with trigger offline. No scheduled time runs twice: every snapshot in the
// repository belongs to a different session, and every session has at most one.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { REPO_PASSWORD, applyScenario, waitFor } from './helpers/scenario.ts';
import { createShop } from './helpers/shop-db.ts';
import { runCli, startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc, SessionView } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

type Session = SessionView & { spec: { trigger?: string } };

/** The sessions the agent's log says it ran offline and finished (name -> phase). */
function offlineRuns(logFile: string): Map<string, string> {
  const runs = new Map<string, string>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const l = JSON.parse(line) as { msg: string; session?: string; phase?: string };
    if (l.msg === 'offline backup finished' && l.session) runs.set(l.session.split('/')[1]!, l.phase ?? '');
  }
  return runs;
}

describe('edge autonomy: scheduled backups go on while the controller is down (controller, agent, MariaDB processes)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let controller: ControllerProc;
  let agent: Proc;
  const sessions = async (): Promise<Session[]> => (await api<{ items: Session[] }>(controller.api, 'GET', '/api/v1/backupsessions')).items;

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 200);
    controller = await startController(dir.path);
    await applyScenario(controller.api, { db, repository: { local: { path: join(dir.path, 'repo') } }, schedule: '*/8 * * * * *' });
    agent = startAgent(dir.path, controller, ['default/shop-db'], { SIDESTASH_STATE_DIR: join(dir.path, 'state'), SIDESTASH_OFFLINE_AFTER: '3s' });
  });
  after(async () => {
    await agent?.stop();
    await controller?.stop();
    await db?.stop();
    await dir?.cleanup();
  });

  it('runs the schedule offline, reports every run once the controller is back, and never runs a scheduled time twice', async () => {
    const online = await waitFor('a scheduled backup run through the controller', 60_000, async () => (await sessions()).find((s) => s.spec.trigger === 'schedule' && s.status?.phase === 'Succeeded'));
    assert.ok(existsSync(join(dir.path, 'state', 'agent-state.enc')), 'the agent keeps its plan');
    assert.ok(!readFileSync(join(dir.path, 'state', 'agent-state.enc'), 'utf8').includes(REPO_PASSWORD), 'no repository password in clear');
    // Stopped right after a run (the next is 8 s away), for longer than the threshold and two runs.
    const port = Number(new URL(controller.url).port);
    await controller.stop();
    await waitFor('two scheduled backups run offline', 90_000, async () => ([...offlineRuns(agent.logFile).values()].filter((p) => p === 'Succeeded').length >= 2 ? true : undefined));
    controller = await startController(dir.path, { port });
    const ran = offlineRuns(agent.logFile);
    const recorded = await waitFor('the offline runs recorded as BackupSessions', 60_000, async () => {
      const all = await sessions();
      return [...ran.keys()].every((name) => all.some((s) => s.metadata.name === name && s.spec.trigger === 'offline' && s.status?.phase === ran.get(name))) ? all : undefined;
    });
    assert.ok(recorded.some((s) => s.metadata.name === online.metadata.name && s.spec.trigger === 'schedule'));
    // As an operator sees them.
    const get = await runCli(['get', 'backupsessions', '-o', 'wide'], controller.cliEnv);
    assert.equal(get.code, 0, get.stderr);
    for (const name of ran.keys()) assert.match(get.stdout, new RegExp(`^${name}\\s+Succeeded\\s.*\\soffline\\s`, 'm'), get.stdout);
    // Back online: the controller's schedule again.
    await waitFor('a scheduled backup through the controller again', 60_000, async () => (await sessions()).find((s) => s.spec.trigger === 'schedule' && s.status?.phase === 'Succeeded' && s.metadata.name > [...ran.keys()].sort().at(-1)!));
    await agent.stop();
    await waitFor('no session left Running', 30_000, async () => ((await sessions()).some((s) => s.status?.phase === 'Running') ? undefined : true));

    // One snapshot per session, one session per scheduled time (the names are the times).
    const snaps = JSON.parse((await restic(join(dir.path, 'repo'), REPO_PASSWORD, ['snapshots', '--json'])).stdout) as { id: string; tags?: string[] }[];
    const bySession = new Map<string, number>();
    for (const s of snaps) {
      const tag = s.tags?.find((t) => t.startsWith('session='));
      assert.ok(tag, `snapshot ${s.id} has a session tag`);
      bySession.set(tag, (bySession.get(tag) ?? 0) + 1);
    }
    assert.deepEqual([...bySession.entries()].filter(([, n]) => n > 1), [], 'a scheduled time ran twice');
    const succeeded = (await sessions()).filter((s) => s.status?.phase === 'Succeeded');
    for (const s of succeeded) assert.equal(bySession.get(`session=${s.metadata.name}`), 1, `session ${s.metadata.name} has its snapshot`);
    for (const name of ran.keys()) assert.ok(bySession.has(`session=${name}`), `offline run ${name} stored its snapshot`);
    const check = await restic(join(dir.path, 'repo'), REPO_PASSWORD, ['check']);
    assert.equal(check.code, 0, check.stderr);
  });
});
