// A backup that ends while the controller is down is recorded as it ended once the controller is
// back: the agent keeps the result it could not send (agent/result-delivery.ts) and sends it before
// it asks for more work, and the restarted controller gives the Running session's agent a whole
// lease to report before it would fail it AGENT_LOST (controller/sessions/session-sweeps.ts).
// The controller is a real process, restarted on its port; the agent runs in this process so that
// its result is tried only once before it is kept (the default tries for ~7 s).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { parseAgentConfig } from '../agent/config.ts';
import { SidecarAgent } from '../agent/agent.ts';
import { createLogger } from '../common/log.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { applyScenario, slowDump, waitFor } from './helpers/scenario.ts';
import { createShop } from './helpers/shop-db.ts';
import { startController } from './helpers/stack.ts';
import type { ControllerProc, SessionView } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

describe('a session result while the controller is down (controller process, agent, MariaDB)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let db: MariaDB;
  let controller: ControllerProc;
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  const lines: string[] = [];

  before(async () => {
    dir = await tempDir();
    db = await startMariaDB();
    await createShop(db, 200);
    controller = await startController(dir.path, { env: { SIDESTASH_SESSION_LEASE: '20s' } });
    await applyScenario(controller.api, { db, repository: { local: { path: join(dir.path, 'repo') } } });
  });
  after(async () => {
    ac.abort();
    await running;
    await controller?.stop();
    await db?.stop();
    await dir?.cleanup();
  });

  it('is kept by the agent and recorded as it ended when the controller is back', async () => {
    const config = parseAgentConfig({
      SIDESTASH_CONTROLLER_URL: controller.url, SIDESTASH_CONTROLLER_CA_FILE: controller.caFile!, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: controller.bootstrapToken,
      SIDESTASH_AGENT_NAME: 'agent-0', SIDESTASH_AGENT_NAMESPACE: 'default', SIDESTASH_AGENT_TARGETS: 'default/shop-db', SIDESTASH_TMPDIR: dir.path,
      SIDESTASH_MARIADB_DUMP: await slowDump(dir.path, 4), SIDESTASH_PROGRESS_INTERVAL: '500ms', PATH: process.env.PATH,
    });
    const log = createLogger({}, { level: 'info', write: (line: string) => lines.push(line) });
    running = new SidecarAgent(config, log, { resultAttempts: 1 }).run(ac.signal);
    const port = Number(new URL(controller.url).port);
    const { metadata } = await api<SessionView>(controller.api, 'POST', '/api/v1/backupconfigurations/shop-backup/trigger?namespace=default');
    await waitFor('the backup to run', 30_000, async () => ((await api<SessionView>(controller.api, 'GET', `/api/v1/backupsessions/${metadata.name}?namespace=default`)).status?.phase === 'Running' ? true : undefined));
    await controller.stop();
    await waitFor('the agent to keep the result', 60_000, async () => (lines.some((l) => l.includes('session result now; it is kept')) ? true : undefined)).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${lines.slice(-30).join('\n')}`);
    });
    // Down for longer than the session's lease.
    await new Promise((r) => setTimeout(r, 22_000));
    controller = await startController(dir.path, { port, env: { SIDESTASH_SESSION_LEASE: '20s' } });
    const done = await waitFor('the session to end', 60_000, async () => {
      const s = await api<SessionView>(controller.api, 'GET', `/api/v1/backupsessions/${metadata.name}?namespace=default`);
      return s.status?.phase === 'Running' ? undefined : s;
    });
    assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status));
    assert.match(done.status?.snapshotId ?? '', /^[0-9a-f]{64}$/);
    assert.ok(lines.some((l) => l.includes('kept session result delivered')), lines.join('\n'));
  });
});
