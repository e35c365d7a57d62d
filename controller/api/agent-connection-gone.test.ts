// The connection cap with the real controller in-process: a connection stays an agent's only while
// the requests on it authenticate as the agent. One whose agent deregistered on it, or whose next
// request presents a token that no longer authenticates (the agent deregistered or revoked),
// gives way to a flood from its address like any unauthenticated connection; before, it stayed
// protected for as long as its holder kept it alive.
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

describe('the controller\'s connection cap and connections of agents that are gone', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let c: Controller;
  let port: number;
  const sockets: Socket[] = [];
  before(async () => {
    dir = await tempDir('sidestash-conn-gone-');
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
        if (head >= 0 && ((length && text.length - head - 4 >= Number(length[1])) || /^HTTP\/1\.1 204/.test(text))) finish();
      };
      const onClose = (): void => finish();
      s.on('data', onData);
      s.once('close', onClose);
      const payload = body === undefined ? '' : JSON.stringify(body);
      s.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
    });

  it('a connection whose agent deregistered, or whose next request did not authenticate, is no longer protected', { timeout: 60_000 }, async () => {
    const register = async (s: Socket, name: string): Promise<string> => {
      const reg = await request(s, 'POST', agentPaths.register(), BOOT, { name, namespace: 'default', targets: ['default/db'], version: 't' });
      assert.equal(reg.status, 200, reg.body);
      return (JSON.parse(reg.body) as { token: string }).token;
    };
    const gone = { namespace: 'default', name: 'edge-gone' };
    const kept = { namespace: 'default', name: 'edge-kept' };
    // The agent that goes: one connection it registered on and deregisters on, one it heartbeat on.
    const deregistering = await open();
    const goneToken = await register(deregistering, gone.name);
    const heartbeating = await open();
    assert.equal((await request(heartbeating, 'POST', agentPaths.heartbeat(gone), goneToken)).status, 200);
    assert.equal((await request(deregistering, 'POST', agentPaths.deregister(gone), goneToken)).status, 200);
    // Its kept connection is used again with the token that no longer authenticates.
    assert.equal((await request(heartbeating, 'POST', agentPaths.heartbeat(gone), goneToken)).status, 401);
    // An agent that stays, from the same address.
    const staying = await open();
    const keptToken = await register(staying, kept.name);
    // 3 open; the flood fills the cap of 8 and goes on: 12 more from the same address.
    const flood: Socket[] = [];
    for (let i = 0; i < 12; i++) flood.push(await open());
    assert.equal((await request(flood.at(-1)!, 'GET', '/healthz', '')).status, 200);
    assert.equal((await request(staying, 'POST', agentPaths.heartbeat(kept), keptToken)).status, 200, 'the live agent\'s connection is kept');
    assert.equal(deregistering.destroyed || (await request(deregistering, 'GET', '/healthz', '')).status === 0, true, 'the connection the agent deregistered on gave way');
    assert.equal(heartbeating.destroyed || (await request(heartbeating, 'GET', '/healthz', '')).status === 0, true, 'the connection whose token no longer authenticates gave way');
  });

  it('a second long poll of the same agent ends the first at once (204), so that one token cannot hold many connections busy', { timeout: 25_000 }, async () => {
    // Fails on a controller without the rule by the test's timeout: the first poll would wait its 30 s.
    const registering = await open();
    const token = await (async () => {
      const reg = await request(registering, 'POST', agentPaths.register(), BOOT, { name: 'edge-poll', namespace: 'default', targets: ['default/db'], version: 't' });
      assert.equal(reg.status, 200, reg.body);
      return (JSON.parse(reg.body) as { token: string }).token;
    })();
    const id = { namespace: 'default', name: 'edge-poll' };
    const [a, b, c, other] = [await open(), await open(), await open(), await open()];
    const first = request(a, 'GET', agentPaths.next(id, 30_000), token);
    const second = request(b, 'GET', agentPaths.next(id, 30_000), token);
    // Whichever the controller took first is ended by the other, at once, with no session.
    const ended = await Promise.race([first.then((r) => ({ r, waiting: second })), second.then((r) => ({ r, waiting: first }))]);
    assert.equal(ended.r.status, 204, 'the older poll ended with no session');
    // Another agent's poll is not the same agent's: it is not ended by this one's.
    const otherReg = await request(other, 'POST', agentPaths.register(), BOOT, { name: 'edge-other', namespace: 'default', targets: ['default/db'], version: 't' });
    const otherToken = (JSON.parse(otherReg.body) as { token: string }).token;
    const otherPoll = request(other, 'GET', agentPaths.next({ namespace: 'default', name: 'edge-other' }, 30_000), otherToken);
    let otherEnded = false;
    void otherPoll.then(() => (otherEnded = true));
    const third = request(c, 'GET', agentPaths.next(id, 30_000), token);
    assert.equal((await ended.waiting).status, 204, 'the poll still waiting ended when a third came');
    c.destroy();
    await third;
    assert.equal(otherEnded, false, 'the other agent\'s poll goes on');
    other.destroy();
  });
});

