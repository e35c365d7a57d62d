// The connection cap with the real controller in-process: a connection counts as an agent's once
// it registered or a request on it authenticated with the agent's token (agent-routes.ts marks
// it), never before: a flood of connections from the agents' own (NAT) address, at the cap,
// closes its own connections and the one that failed to authenticate, not the agents'.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { agentPaths } from '../../common/agent-paths.ts';
import { createLogger } from '../../common/log.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { parseControllerConfig } from '../config.ts';
import { Controller } from '../controller.ts';

const quiet = createLogger({}, { level: 'error' });
const ADMIN = 'admin-token-0123456789abcdef';
const BOOT = 'boot-token-0123456789abcdef';
const NAT = '127.0.0.2';

describe('the controller\'s connection cap and agents\' connections', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let c: Controller;
  let port: number;
  const sockets: Socket[] = [];
  before(async () => {
    dir = await tempDir('sidestash-conn-cap-');
    const config = parseControllerConfig({
      SIDESTASH_LISTEN: '127.0.0.1:0', SIDESTASH_DB: join(dir.path, 'c.db'), SIDESTASH_ADMIN_TOKEN: ADMIN, SIDESTASH_AGENT_BOOTSTRAP_TOKEN: BOOT,
      SIDESTASH_INSECURE_HTTP: 'true', SIDESTASH_MAX_CONNECTIONS: '8', SIDESTASH_HEADERS_TIMEOUT: '60s',
    });
    c = new Controller(config, quiet);
    port = (await c.start()).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await c.stop();
    await dir.cleanup();
  });

  const open = async (): Promise<Socket> => {
    const s = connect({ port, host: '127.0.0.1', localAddress: NAT });
    s.on('error', () => {});
    sockets.push(s);
    await once(s, 'connect');
    return s;
  };
  /** One request on a kept connection: status and body, or status 0 when the server closed it. */
  const request = (s: Socket, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: string }> =>
    new Promise((resolve) => {
      if (s.destroyed) return resolve({ status: 0, body: '' });
      let text = '';
      const finish = (): void => {
        s.off('data', onData);
        s.off('close', onClose);
        const m = /^HTTP\/1\.1 (\d+)[\s\S]*?\r\n\r\n([\s\S]*)$/.exec(text);
        resolve({ status: m ? Number(m[1]) : 0, body: m?.[2] ?? '' });
      };
      const onData = (d: Buffer): void => {
        text += d.toString();
        const head = text.indexOf('\r\n\r\n');
        const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, head));
        if (head >= 0 && length && text.length - head - 4 >= Number(length[1])) finish();
      };
      const onClose = (): void => finish();
      s.on('data', onData);
      s.once('close', onClose);
      const payload = body === undefined ? '' : JSON.stringify(body);
      s.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
    });

  it('a flood from the agents\' address at the cap closes its own connections and an unauthenticated one, never the agents\'', { timeout: 60_000 }, async () => {
    const registering = await open();
    const reg = await request(registering, 'POST', agentPaths.register(), BOOT, { name: 'edge-0', namespace: 'default', targets: ['default/db'], version: 't' });
    assert.equal(reg.status, 200, reg.body);
    const { token } = JSON.parse(reg.body) as { token: string };
    const id = { namespace: 'default', name: 'edge-0' };
    const heartbeating = await open();
    assert.equal((await request(heartbeating, 'POST', agentPaths.heartbeat(id), token)).status, 200);
    const wrongToken = await open();
    assert.equal((await request(wrongToken, 'POST', agentPaths.heartbeat(id), 'not-the-token-0123456789')).status, 401);
    // 3 open; the flood fills the cap of 8 and goes on: 12 more from the same address.
    const flood: Socket[] = [];
    for (let i = 0; i < 12; i++) flood.push(await open());
    // The server has seen every connection of the flood once the last one is answered.
    assert.equal((await request(flood.at(-1)!, 'GET', '/healthz', '')).status, 200);
    assert.equal((await request(registering, 'POST', agentPaths.heartbeat(id), token)).status, 200, 'the connection that registered is kept');
    assert.equal((await request(heartbeating, 'POST', agentPaths.heartbeat(id), token)).status, 200, 'the connection that authenticated is kept');
    assert.equal(wrongToken.destroyed || (await request(wrongToken, 'GET', '/healthz', '')).status === 0, true, 'the connection that failed to authenticate gave way');
  });
});
