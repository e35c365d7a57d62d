// How many connections one idle agent holds to the controller: the real agent (in-process) and
// the real controller (in-process, its listener as deployed) through a TCP relay that counts the
// agent's open connections. The long poll holds one; the binlog-archive sync and the heartbeat,
// made every heartbeat interval, go one after the other on one more (agent/serial-beat.ts): at
// most 2 at any time. (Made at the same instant they needed a third at every heartbeat.) A backup
// session, its progress and result, and the poll after it use those two: 2 opened in all (with
// the first sync and poll made at once after the registration's call, 3: the test catches it).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SidecarAgent } from '../agent/agent.ts';
import { createLogger } from '../common/log.ts';
import { parseControllerConfig } from '../controller/config.ts';
import { Controller } from '../controller/controller.ts';
import { api } from '../cli/api-client.ts';
import { testAgentConfig } from './helpers/agent-config.ts';
import { startMariaDB } from './helpers/mariadb.ts';
import type { MariaDB } from './helpers/mariadb.ts';
import { applyScenario, waitFor } from './helpers/scenario.ts';
import { createShop } from './helpers/shop-db.ts';
import type { SessionView } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

const quiet = createLogger({}, { level: 'error' });
const BOOT = 'boot-token-0123456789abcdef';

/** A TCP relay to `port` that counts the connections open through it and the request lines sent. */
async function countingRelay(port: number): Promise<{ url: string; maxOpen(): number; opened(): number; requests(re: RegExp): number; close(): Promise<void> }> {
  let open = 0;
  let opened = 0;
  let maxOpen = 0;
  let sent = '';
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    open++;
    opened++;
    maxOpen = Math.max(maxOpen, open);
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => (sent += d.toString('latin1')));
    client.pipe(upstream).pipe(client);
    let counted = true;
    const closed = (): void => {
      if (counted) open--;
      counted = false;
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', closed);
      s.on('close', closed);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    maxOpen: () => maxOpen,
    opened: () => opened,
    // Request lines anywhere: on a kept connection one follows the previous body without a line break.
    requests: (re) => sent.match(new RegExp(re.source, 'g'))?.length ?? 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('an idle agent\'s connections to the controller', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let c: Controller;
  let relay: Awaited<ReturnType<typeof countingRelay>>;
  let port: number;
  const ADMIN = 'admin-token-0123456789abcdef';
  before(async () => {
    dir = await tempDir('sidestash-agent-conns-');
    // A 3 s lease: the agents' heartbeat interval is a third of it (1 s), so that beats come quickly.
    const config = parseControllerConfig({
      SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir.path, 'c.db'), SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: BOOT,
      SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_SESSION_LEASE: '3s',
    });
    c = new Controller(config, quiet);
    port = (await c.start()).port;
    relay = await countingRelay(port);
  });
  after(async () => {
    await relay?.close();
    await c?.stop();
    await dir?.cleanup();
  });

  it('the long poll, then the archive sync and the heartbeat one after the other: at most 2 at once', { timeout: 120_000 }, async () => {
    const agent = new SidecarAgent(testAgentConfig(join(dir.path, 'tmp'), { controllerUrl: relay.url, bootstrapToken: BOOT, name: 'edge-0', namespace: 'default', targets: ['default/db'] }), quiet);
    const stop = new AbortController();
    const running = agent.run(stop.signal);
    try {
      // Five beats after the first: each a sync and a heartbeat while the long poll waits.
      while (relay.requests(/POST \/api\/v1\/agents\/default\/edge-0\/heartbeat /) < 5) await new Promise((r) => setTimeout(r, 100));
      assert.ok(relay.requests(/POST \/api\/v1\/agents\/default\/edge-0\/binlog-archives /) >= 5, 'the archive sync went with each heartbeat');
      assert.ok(relay.requests(/GET \/api\/v1\/agents\/default\/edge-0\/sessions\/next/) >= 1, 'the agent long-polls');
    } finally {
      stop.abort();
      await running;
    }
    assert.ok(relay.maxOpen() <= 2, `at most 2 connections at once, saw ${relay.maxOpen()}`);
  });

  it('a backup session and the poll after its result use the connections the agent has: 2 opened in all', { timeout: 120_000 }, async () => {
    const db: MariaDB = await startMariaDB();
    const own = await countingRelay(port);
    const adminApi = { url: `http://127.0.0.1:${port}`, token: ADMIN };
    const stop = new AbortController();
    let running: Promise<void> | undefined;
    try {
      await createShop(db, 200);
      await applyScenario(adminApi, { db, repository: { local: { path: join(dir.path, 'repo') } } });
      await mkdir(join(dir.path, 'tmp-s'));
      const agent = new SidecarAgent(testAgentConfig(join(dir.path, 'tmp-s'), { controllerUrl: own.url, bootstrapToken: BOOT, name: 'edge-1', namespace: 'default', targets: ['default/shop-db'] }), quiet);
      running = agent.run(stop.signal);
      const polls = () => own.requests(/GET \/api\/v1\/agents\/default\/edge-1\/sessions\/next/);
      await waitFor('the first long poll', 30_000, async () => (polls() >= 1 ? true : undefined));
      const { metadata } = await api<SessionView>(adminApi, 'POST', '/api/v1/backupconfigurations/shop-backup/trigger?namespace=default');
      const ended = await waitFor('the backup to end', 60_000, async () => {
        const st = (await api<SessionView>(adminApi, 'GET', `/api/v1/backupsessions/${metadata.name}?namespace=default`)).status;
        return st?.phase === 'Succeeded' || st?.phase === 'Failed' ? st : undefined;
      });
      assert.equal(ended.phase, 'Succeeded', JSON.stringify(ended));
      const after = polls();
      // The long poll after the result, and a beat after it.
      await waitFor('the poll after the result', 30_000, async () => (polls() > after ? true : undefined));
      const beats = own.requests(/POST \/api\/v1\/agents\/default\/edge-1\/heartbeat /);
      await waitFor('a heartbeat after it', 30_000, async () => (own.requests(/POST \/api\/v1\/agents\/default\/edge-1\/heartbeat /) > beats ? true : undefined));
      assert.ok(own.requests(/POST \/api\/v1\/agents\/default\/edge-1\/sessions\/[^ ]*\/result /) >= 1, 'the result went through the relay');
      assert.equal(own.opened(), 2, `connections opened: ${own.opened()}`);
    } finally {
      stop.abort();
      await running;
      await own.close();
      await db.stop();
    }
  });
});
