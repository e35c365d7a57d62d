// The real controller process under abuse: hundreds of silent and slowloris connections on the
// API and the webhook listener never stop /healthz from answering, and the server closes them
// after the header timeout; a port in use makes `sidestash controller` exit non-zero at once
// with a JSON-lines error, for the API and for the webhook port.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { connect, createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runControllerToExit } from './helpers/cli-process.ts';
import { startController } from './helpers/stack.ts';
import type { ControllerProc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

const SILENT = 150;
const SLOWLORIS = 100;

function webhookEnv(port: number, dir: string): Record<string, string> {
  return {
    SIDESTASH_WEBHOOK_LISTEN: `127.0.0.1:${port}`, SIDESTASH_WEBHOOK_DNS_NAMES: 'localhost', SIDESTASH_WEBHOOK_STATE_DIR: dir,
    SIDESTASH_AGENT_IMAGE: 'ghcr.io/sidestash/sidestash:0.1.0', SIDESTASH_AGENT_CONTROLLER_URL: 'https://sidestash:7480',
  };
}

/**
 * Opens `n` TCP connections that say nothing at all (on the TLS port: no handshake either), and
 * `m` that send a request's headers a line at a time, never the blank line (slowloris; on the
 * TLS port after a completed handshake).
 */
async function flood(port: number, n: number, m: number, tls: boolean): Promise<{ sockets: Socket[]; stop(): void }> {
  const silent: Socket[] = [];
  const slow: Socket[] = [];
  for (let i = 0; i < n; i++) silent.push(connect(port, '127.0.0.1'));
  for (let i = 0; i < m; i++) slow.push(tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1'));
  const sockets = [...silent, ...slow];
  for (const s of sockets) s.on('error', () => {});
  await Promise.all([...silent.map((s) => once(s, 'connect').catch(() => {})), ...slow.map((s) => once(s, tls ? 'secureConnect' : 'connect').catch(() => {}))]);
  const write = (s: Socket, text: string): void => {
    try {
      if (s.writable) s.write(text);
    } catch {
      // closed by the server meanwhile
    }
  };
  for (const s of slow) write(s, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
  const timer = setInterval(() => {
    for (const s of slow) write(s, 'X-Slow: 1\r\n');
  }, 200);
  return { sockets, stop: () => clearInterval(timer) };
}

function healthz(port: number, tls: boolean): Promise<number> {
  if (!tls) return fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status);
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 5000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('healthz timed out')));
    req.on('error', reject);
  });
}

describe('the controller under a connection flood', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let controller: ControllerProc;
  let webhookPort: number;
  before(async () => {
    dir = await tempDir();
    // Port 0: the webhook's port is read from its "webhook listening" log line.
    controller = await startController(dir.path, { env: { SIDESTASH_MAX_CONNECTIONS: '64', SIDESTASH_HEADERS_TIMEOUT: '2s', SIDESTASH_KEEP_ALIVE_TIMEOUT: '1s', ...webhookEnv(0, dir.path) } });
    for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const line = (await readFile(controller.logFile, 'utf8')).split('\n').find((l) => l.includes('"webhook listening"'));
      if (line) {
        webhookPort = (JSON.parse(line) as { port: number }).port;
        break;
      }
      assert.ok(Date.now() < deadline, `the webhook never logged its port; see ${controller.logFile}`);
    }
    assert.ok(webhookPort > 0);
  });
  after(async () => {
    await controller?.stop();
    await dir?.cleanup();
  });

  for (const listener of ['api', 'webhook'] as const) {
    it(`${listener}: /healthz answers through ${SILENT + SLOWLORIS} idle and slowloris connections, which the server closes`, { timeout: 60_000 }, async () => {
      // Both listeners serve HTTPS (the API unless SIDESTASH_INSECURE_HTTP=true).
      const tls = new URL(controller.url).protocol === 'https:' || listener === 'webhook';
      const port = listener === 'webhook' ? webhookPort : Number(new URL(controller.url).port);
      const attack = await flood(port, SILENT, SLOWLORIS, tls);
      try {
        for (let i = 0; i < 5; i++) assert.equal(await healthz(port, tls), 200);
        // Every attacking connection is closed by the server: evicted over the cap of 64, or
        // after the 2 s header timeout. None is closed by this side. (The test's timeout bounds it.)
        // (Not events.once, which rejects on 'error': a reset is one way the server closes.)
        await Promise.all(attack.sockets.map((s) => (s.destroyed ? undefined : new Promise((resolve) => s.once('close', resolve)))));
        assert.equal(await healthz(port, tls), 200);
      } finally {
        attack.stop();
        for (const s of attack.sockets) s.destroy();
      }
      assert.equal(controller.child.exitCode, null, 'the controller is still running');
      const log = await readFile(controller.logFile, 'utf8');
      assert.match(log, new RegExp(`"msg":"connection limit reached".*"listener":"${listener}"`));
    });
  }
});

describe('unauthenticated request bodies', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let controller: ControllerProc;
  before(async () => {
    dir = await tempDir();
    controller = await startController(dir.path, { env: { SIDESTASH_MAX_CONNECTIONS: '16' } });
  });
  after(async () => {
    await controller?.stop();
    await dir?.cleanup();
  });

  it('a registration without a token is refused before its body is read, so trickled bodies cannot hold the connection cap', { timeout: 60_000 }, async () => {
    const port = Number(new URL(controller.url).port);
    // Twice the cap of connections, each announcing a 60 KB registration body and sending one byte a second.
    const sockets: Socket[] = [];
    for (let i = 0; i < 32; i++) sockets.push(tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }));
    for (const s of sockets) s.on('error', () => {});
    await Promise.all(sockets.map((s) => once(s, 'secureConnect').catch(() => {})));
    const answers = sockets.map((s) => {
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      return () => text;
    });
    for (const s of sockets) s.write('POST /api/v1/agents/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{');
    const timer = setInterval(() => {
      for (const s of sockets) if (s.writable) s.write(' ');
    }, 1000);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      for (let i = 0; i < 5; i++) assert.equal(await healthz(port, true), 200);
      assert.ok(answers.some((a) => /^HTTP\/1\.1 401/.test(a())), 'refused at once, without waiting for the body');
    } finally {
      clearInterval(timer);
      for (const s of sockets) s.destroy();
    }
  });
});

const runController = runControllerToExit;

describe('a port in use', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let squatter: Server;
  let taken: number;
  before(async () => {
    dir = await tempDir();
    squatter = createServer();
    squatter.listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    taken = (squatter.address() as { port: number }).port;
  });
  after(async () => {
    squatter?.close();
    await dir?.cleanup();
  });
  const base = (apiPort: number): Record<string, string> => ({
    SIDESTASH_LISTEN: `127.0.0.1:${apiPort}`, SIDESTASH_DB: join(dir.path, 'c.db'), SIDESTASH_ADMIN_TOKEN: 'admin-token-0123456789', SIDESTASH_AGENT_BOOTSTRAP_TOKEN: 'boot-token-0123456789',
  });

  it('the API port: the controller exits non-zero with a JSON-lines error', { timeout: 30_000 }, async () => {
    const { code, stderr } = await runController(base(taken));
    assert.equal(code, 1, stderr);
    const line = stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; code?: string }).find((l) => l.level === 'error');
    assert.equal(line?.code, 'SIDESTASH_INVALID_CONFIG');
    assert.match(line!.msg, new RegExp(`api cannot listen on 127\\.0\\.0\\.1:${taken}: the address is already in use`));
  });

  it('the webhook port: the controller exits non-zero with a JSON-lines error', { timeout: 30_000 }, async () => {
    const { code, stderr } = await runController({ ...base(0), ...webhookEnv(taken, dir.path) });
    assert.equal(code, 1, stderr);
    const line = stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; code?: string }).find((l) => l.level === 'error');
    assert.equal(line?.code, 'SIDESTASH_INVALID_CONFIG');
    assert.match(line!.msg, new RegExp(`webhook cannot listen on 127\\.0\\.0\\.1:${taken}: the address is already in use`));
  });
});
