// The connection cap with the real controller in-process: a connection stays an agent's only while
// the requests on it authenticate as the agent. One whose agent deregistered on it, or whose next
// request presents a token that no longer authenticates (the agent deregistered or revoked),
// gives way to a flood from its address like any unauthenticated connection; before, it stayed
// protected for as long as its holder kept it alive.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { agentPaths } from '../../common/agent-paths.ts';
import { BOOT, startCappedController } from '../../test/helpers/capped-controller.ts';
import type { CappedController } from '../../test/helpers/capped-controller.ts';

describe('the controller\'s connection cap and connections of agents that are gone', () => {
  let c: CappedController;
  before(async () => {
    c = await startCappedController(8, 'sidestash-conn-gone-');
  });
  after(() => c.stop());
  const open = (): Promise<Socket> => c.open();
  const request = (s: Socket, method: string, path: string, token: string, body?: unknown) => c.request(s, method, path, token, body);

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

