// The connection cap's fairness on a real HTTP server, with clients on distinct loopback
// addresses (127.0.0.2, .3, ...): a flood of connections from one address does not push
// registered agents' idle kept connections off (its own give way); an address over its share
// loses its own idle connections, or is refused when they are all busy, while others are served;
// agents behind one address are not limited by its share once authenticated, and a connection
// from their address that has not authenticated is not counted as an agent's.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import { DEFAULT_LISTENER_LIMITS, MAX_CONNECTIONS_PER_AGENT, applyListenerLimits, listenOn, markAgentConnection } from './listener-limits.ts';

const quiet = createLogger({}, { level: 'error' });
// Long timeouts: nothing here is closed by a timer.
const LONG = { headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 120_000, idleTimeoutMs: 180_000 };

describe('the connection cap is fair to agents', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  after(async () => {
    for (const s of sockets) s.destroy();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  const gates: (() => void)[] = [];
  after(() => gates.forEach((release) => release()));

  // /agent: the request authenticates as an agent's; /wait: held until the test ends; else answered.
  const start = async (maxConnections: number, maxConnectionsPerAddress: number, requestTimeoutMs = LONG.requestTimeoutMs): Promise<{ port: number; view: { open(): number; seen(): number } }> => {
    const gate = new Promise<void>((r) => gates.push(r));
    const server = createServer((req: IncomingMessage, res) => {
      // Each connection its own agent's; /agent-of/<name>: that agent's.
      if (req.url === '/agent' || req.url === '/agent-wait') markAgentConnection(req, `port-${req.socket.remotePort}`);
      if (req.url?.startsWith('/agent-of/')) markAgentConnection(req, req.url.slice('/agent-of/'.length));
      if (req.url === '/wait' || req.url === '/agent-wait') void gate.then(() => res.end('ok'));
      else res.end('ok');
    });
    servers.push(server);
    const view = applyListenerLimits(server, { ...DEFAULT_LISTENER_LIMITS, ...LONG, requestTimeoutMs, maxConnections, maxConnectionsPerAddress }, quiet, 'test');
    const { port } = await listenOn(server, { host: '127.0.0.1', port: 0 }, quiet, 'test');
    return { port, view };
  };
  /** A connection from 127.0.0.<host>, once the server has decided on it. */
  const open = async (port: number, view: { seen(): number }, host: number): Promise<Socket> => {
    const before = view.seen();
    const s = connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${host}` });
    s.on('error', () => {});
    sockets.push(s);
    await once(s, 'connect');
    while (view.seen() === before) await new Promise((r) => setTimeout(r, 5));
    return s;
  };
  // Not events.once: it rejects on 'error', and a reset (ECONNRESET) is one way the server closes.
  const closed = (s: Socket): Promise<void> => (s.destroyed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve())));
  /** One request on a kept connection: its response's text, or what came before the server closed it. */
  const get = (s: Socket, path: string): Promise<string> =>
    new Promise((resolve) => {
      if (s.destroyed) return resolve('');
      let text = '';
      const onData = (d: Buffer): void => {
        text += d.toString();
        if (text.endsWith('ok')) done();
      };
      const done = (): void => {
        s.off('data', onData);
        s.off('close', done);
        resolve(text);
      };
      s.on('data', onData);
      s.once('close', done);
      s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
  const ok = /^HTTP\/1\.1 200/;

  it('a flood from one address does not push agents\' idle kept connections off; its own connections give way, oldest first', { timeout: 60_000 }, async () => {
    const { port, view } = await start(8, 8);
    const agents: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await open(port, view, 2);
      assert.match(await get(s, '/agent'), ok);
      agents.push(s);
    }
    const flood: Socket[] = [];
    for (let i = 0; i < 20; i++) flood.push(await open(port, view, 3));
    // 3 agents + the flood's last 5 fill the cap of 8; the flood's first 15 were closed.
    for (const s of agents) assert.match(await get(s, '/'), ok, 'each agent\'s kept connection is still open');
    await Promise.all(flood.slice(0, 15).map(closed));
    for (const s of flood.slice(15)) assert.match(await get(s, '/'), ok, 'the newest of the flood are served');
    assert.equal(view.open(), 8);
  });

  it('an address over its share loses its own idle connections, and is refused when they are busy, while another address is served', { timeout: 60_000 }, async () => {
    const { port, view } = await start(16, 3);
    const other = await open(port, view, 4); // idle, and older than all of the flood's
    const flood = [await open(port, view, 3), await open(port, view, 3), await open(port, view, 3)];
    const fourth = await open(port, view, 3);
    assert.equal(view.open(), 4, 'one connection gave way');
    await closed(flood[0]!); // under the cap of 16, but over the share of 3: its own oldest gave way
    assert.match(await get(other, '/'), ok, 'the other address\'s idle connection is kept');
    const held = [flood[1]!, flood[2]!, fourth].map((s) => get(s, '/wait'));
    while (view.open() < 4) await new Promise((r) => setTimeout(r, 5));
    const refused = await open(port, view, 3);
    await closed(refused);
    assert.equal(refused.bytesRead, 0, 'closed without an answer');
    const another = await open(port, view, 5);
    assert.match(await get(another, '/'), ok, 'another address is served');
    gates.at(-1)!();
    for (const h of held) assert.match(await h, ok, 'the busy connections were kept');
  });

  it('agents behind one address keep their connections beyond its share; at the cap the biggest unauthenticated holder gives way, and a connection from the agents\' address that has not authenticated is not an agent\'s', { timeout: 60_000 }, async () => {
    const { port, view } = await start(9, 2);
    const agents: Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await open(port, view, 2); // one NAT address for all five
      assert.match(await get(s, '/agent'), ok);
      agents.push(s);
    }
    const unauthenticated = await open(port, view, 2); // the agents' address, a request, no agent's credentials
    assert.match(await get(unauthenticated, '/'), ok);
    const loner = await open(port, view, 6); // older than the flood's, alone on its address
    const flood = [await open(port, view, 5), await open(port, view, 5)];
    assert.equal(view.open(), 9);
    // At the cap: the address holding the most unauthenticated connections (.5: 2) gives way.
    await open(port, view, 7);
    // Now .2, .5, .6 and .7 each hold one: the oldest of those gives way, the agents' address's.
    await open(port, view, 8);
    for (const s of agents) assert.match(await get(s, '/'), ok, 'each agent\'s kept connection is still open');
    assert.match(await get(loner, '/'), ok, 'the lone connection is kept');
    assert.match(await get(flood[1]!, '/'), ok);
    await closed(flood[0]!);
    await closed(unauthenticated);
  });

  it('at the cap, all connections busy: an unauthenticated one open for longer than the request timeout gives way, an agent\'s long poll does not', { timeout: 60_000 }, async () => {
    const requestTimeoutMs = 300;
    const { port, view } = await start(3, 3, requestTimeoutMs);
    const agent = await open(port, view, 2);
    assert.match(await get(agent, '/agent'), ok);
    const agentPoll = get(agent, '/agent-wait');
    const slow = await open(port, view, 3);
    const slowAnswer = get(slow, '/wait'); // a request kept in progress (a large answer read slowly)
    const recent = await open(port, view, 4);
    const began = Date.now();
    while (view.open() < 3) await new Promise((r) => setTimeout(r, 5));
    // Until the slow request has been served well past the limit (it was sent before `began`).
    while (Date.now() - began <= 3 * requestTimeoutMs) await new Promise((r) => setTimeout(r, 20));
    // Opened after the slow one, whatever the machine's load: the slow one is the oldest.
    const recentAnswer = get(recent, '/wait');
    const newcomer = await open(port, view, 5);
    assert.match(await get(newcomer, '/'), ok, 'the new connection is served');
    assert.equal(await slowAnswer, '', 'the long busy unauthenticated connection gave way');
    await closed(slow);
    gates.at(-1)!();
    assert.match(await recentAnswer, ok, 'the recently busy connection was kept');
    assert.match(await agentPoll, ok, 'the agent\'s long poll was kept');
  });

  it('one agent\'s connections beyond MAX_CONNECTIONS_PER_AGENT count as unauthenticated: at the cap they give way, not another agent\'s older kept connection', { timeout: 60_000 }, async () => {
    const max = MAX_CONNECTIONS_PER_AGENT + 3;
    const { port, view } = await start(max, max);
    const honest = await open(port, view, 2); // the oldest connection: another agent's kept one
    assert.match(await get(honest, '/agent-of/honest'), ok);
    const many: Socket[] = [];
    for (let i = 0; i < MAX_CONNECTIONS_PER_AGENT + 2; i++) {
      const s = await open(port, view, 3);
      assert.match(await get(s, '/agent-of/greedy'), ok);
      many.push(s);
    }
    assert.equal(view.open(), max, 'at the cap');
    const newcomer = await open(port, view, 4);
    assert.match(await get(newcomer, '/'), ok, 'the new connection is served');
    assert.match(await get(honest, '/agent-of/honest'), ok, 'the other agent\'s kept connection is kept');
    // The greedy agent's first MAX_CONNECTIONS_PER_AGENT are its own; one past them gave way.
    await closed(many[MAX_CONNECTIONS_PER_AGENT]!);
    for (const s of many.slice(0, MAX_CONNECTIONS_PER_AGENT)) assert.match(await get(s, '/agent-of/greedy'), ok);
  });
});

