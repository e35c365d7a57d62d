// Edge autonomy with real processes: a long poll the agent sent while its link was failing
// comes back with work once the link is back, while the agent runs a scheduled backup offline
// (which holds the one-session-at-a-time lock for as long as the backup takes). The claimed
// session waits for that backup; the controller must not declare it lost meanwhile (its lease
// runs out without the agent's progress), and the agent must not run a session the controller
// already failed. Here the offline backup is held at a gate in front of mariadb-dump until the
// controller has had a lease's worth of time, and the claimed session is a manual backup.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { api } from '../cli/api-client.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { restic } from './helpers/restic.ts';
import { REPO_PASSWORD, applyScenario, waitFor } from './helpers/scenario.ts';
import { createShop } from './helpers/shop-db.ts';
import { startAgent, startController } from './helpers/stack.ts';
import type { ControllerProc, Proc, SessionView } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

/**
 * An HTTP relay to the controller that a test can cut: open requests are dropped, new ones are
 * refused, except the agent's long polls, which are held unanswered until release() forwards them.
 */
interface LinkRelay {
  url: string;
  cut(): void;
  release(): void;
  readonly heldPolls: number;
  /** Requests cut on the agent's side whose long poll the controller still holds (it may claim work for no one). */
  readonly orphans: number;
  /** Progress reports seen for a session name. */
  progressFor(session: string): number;
  stop(): Promise<void>;
}

async function startRelay(upstream: string): Promise<LinkRelay> {
  const target = new URL(upstream);
  let cut = false;
  // Forwarded requests; a cut drops the agent's side and lets the controller's side run out.
  const open = new Map<IncomingMessage, { orphan: boolean }>();
  const held: { req: IncomingMessage; res: ServerResponse; body: Buffer }[] = [];
  const progress = new Map<string, number>();
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const entry = { orphan: false };
    open.set(req, entry);
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      answer.on('end', () => open.delete(req));
      if (entry.orphan) return void answer.resume();
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => {
      open.delete(req);
      req.socket.destroy();
    });
    up.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const m = /\/sessions\/BackupSession\/[^/]+\/([^/]+)\/progress$/.exec(req.url ?? '');
      if (m && !cut) progress.set(m[1]!, (progress.get(m[1]!) ?? 0) + 1);
      if (!cut) return forward(req, res, body);
      if (req.method === 'GET' && /\/next(\?|$)/.test(req.url ?? '')) {
        const h = { req, res, body };
        held.push(h);
        // A poll the agent gave up on is not forwarded (its answer would reach no one).
        res.on('close', () => held.includes(h) && held.splice(held.indexOf(h), 1));
      } else req.socket.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      cut = true;
      for (const [req, entry] of open) {
        entry.orphan = true;
        req.socket.destroy();
      }
    },
    release() {
      cut = false;
      for (const h of held.splice(0)) forward(h.req, h.res, h.body);
    },
    get heldPolls() {
      return held.length;
    },
    get orphans() {
      return [...open.values()].filter((e) => e.orphan).length;
    },
    progressFor: (s) => progress.get(s) ?? 0,
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

interface LogLine { msg: string; session?: string; kind?: string }
const logLines = (file: string): LogLine[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);

let dir: { path: string; cleanup: () => Promise<void> };
let db: MariaDB;
let controller: ControllerProc;
let relay: LinkRelay;
let agent: Proc;

before(async () => {
  dir = await tempDir();
  db = await startMariaDB();
  await createShop(db, 200);
  // A short lease, so that a claim the agent leaves without progress is lost quickly.
  controller = await startController(dir.path, { env: { SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_SESSION_LEASE: '3s', SIDESTASH_SCHEDULE_JITTER: '1s' } });
  await applyScenario(controller.api, { db, repository: { local: { path: join(dir.path, 'repo') } }, schedule: '*/5 * * * * *' });
  await api(controller.api, 'POST', '/api/v1/apply', [{ kind: 'BackupConfiguration', metadata: { name: 'manual-backup' }, spec: { schedule: '0 0 1 1 *', repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } } } }]);
  relay = await startRelay(controller.url);
  // mariadb-dump behind a gate: while the gate file exists, a dump waits (and says so).
  const dump = join(dir.path, 'gated-dump.sh');
  await writeFile(dump, ['#!/bin/sh', `while [ -e '${dir.path}/gate' ]; do touch '${dir.path}/blocked'; kill -0 $PPID 2>/dev/null || exit 1; sleep 0.1; done`, 'exec mariadb-dump "$@"', ''].join('\n'));
  await chmod(dump, 0o755);
  agent = startAgent(dir.path, { ...controller, url: relay.url }, ['default/shop-db'], { SIDESTASH_STATE_DIR: join(dir.path, 'state'), SIDESTASH_OFFLINE_AFTER: '1s', SIDESTASH_MARIADB_DUMP: dump });
});
after(async () => {
  await agent?.stop();
  await relay?.stop();
  await controller?.stop();
  await db?.stop();
  if (process.env.KEEP) console.log(dir.path); else await dir?.cleanup();
});

it('a session claimed while an offline backup holds the agent runs after it, without being lost meanwhile, and only once', async () => {
  type Session = SessionView & { spec: { invoker: { name: string }; trigger?: string } };
  const sessions = async (): Promise<Session[]> => (await api<{ items: Session[] }>(controller.api, 'GET', '/api/v1/backupsessions')).items;
  await waitFor('a scheduled backup through the controller', 60_000, async () => (await sessions()).find((s) => s.status?.phase === 'Succeeded'));
  assert.ok(existsSync(join(dir.path, 'state', 'agent-state.enc')), 'the agent keeps its plan');

  // The link fails; the agent's next long poll is held in flight.
  relay.cut();
  await api(controller.api, 'POST', '/api/v1/apply', [{ kind: 'BackupConfiguration', metadata: { name: 'shop-backup' }, spec: { schedule: '*/5 * * * * *', repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, paused: true } }]);
  await waitFor('a long poll held in flight', 60_000, async () => (relay.heldPolls > 0 ? true : undefined));
  // The controller's side of the polls cut off runs out first (at most a poll's wait): a session
  // created before then could be claimed by one of them, for an agent no longer listening.
  await waitFor('the cut polls run out at the controller', 60_000, async () => (relay.orphans === 0 ? true : undefined));
  // From now on the agent is in that poll; the next offline backup waits at the gate, holding the agent.
  writeFileSync(join(dir.path, 'gate'), '');
  rmSync(join(dir.path, 'blocked'), { force: true });
  await waitFor('an offline backup held at the gate', 60_000, async () => (existsSync(join(dir.path, 'blocked')) ? true : undefined));

  // Work for the agent, and the link back: the held poll claims it.
  const manual = (await api<Session>(controller.api, 'POST', '/api/v1/backupconfigurations/manual-backup/trigger')).metadata.name;
  for (const s of await sessions()) {
    if (s.status?.phase === 'Pending' && s.spec.invoker.name === 'shop-backup') await api(controller.api, 'POST', `/api/v1/backupsessions/${s.metadata.name}/cancel`).catch(() => {});
  }
  relay.release();
  await waitFor(`${manual} claimed`, 60_000, async () => ((await sessions()).find((s) => s.metadata.name === manual)?.status?.phase !== 'Pending' ? true : undefined));
  // Several leases' worth: the claim has been lost by now, unless the agent keeps it.
  await waitFor(`${manual} lost, or kept by the agent's progress`, 60_000, async () => {
    const s = (await sessions()).find((x) => x.metadata.name === manual);
    return s?.status?.phase === 'Failed' || relay.progressFor(manual) >= 4 ? true : undefined;
  });
  rmSync(join(dir.path, 'gate'));
  await waitFor(`the agent done with ${manual}`, 120_000, async () => (logLines(agent.logFile).some((l) => l.session === `default/${manual}` && ['session finished', 'could not report the session result', 'session failed', 'the controller no longer assigns this session to this agent; not started'].includes(l.msg)) ? true : undefined));
  const s = (await sessions()).find((x) => x.metadata.name === manual)!;
  const snaps = JSON.parse((await restic(join(dir.path, 'repo'), REPO_PASSWORD, ['snapshots', '--json'])).stdout) as { tags?: string[] }[];
  const ofManual = snaps.filter((x) => x.tags?.includes(`session=${manual}`)).length;
  assert.equal(s.status?.phase, 'Succeeded', `${manual}: ${JSON.stringify(s.status?.error)}`);
  assert.equal(ofManual, 1, 'one snapshot for the session');
});
