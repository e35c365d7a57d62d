// The connection cap with the real controller in-process: a connection counts as an agent's once
// it registered or a request on it authenticated with the agent's token (agent-routes.ts marks
// it), never before: a flood of connections from the agents' own (NAT) address, at the cap,
// closes its own connections and the one that failed to authenticate, not the agents'.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { agentPaths } from '../../common/agent-paths.ts';
import { BOOT, startCappedController } from '../../test/helpers/capped-controller.ts';
import type { CappedController } from '../../test/helpers/capped-controller.ts';

describe('the controller\'s connection cap and agents\' connections', () => {
  let c: CappedController;
  before(async () => {
    c = await startCappedController(8, 'sidestash-conn-cap-');
  });
  after(() => c.stop());
  const open = (): Promise<Socket> => c.open();
  const request = (s: Socket, method: string, path: string, token: string, body?: unknown) => c.request(s, method, path, token, body);

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
