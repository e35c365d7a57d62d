// Listener limits: the configuration, and real HTTP servers (the admission decision: connection-admission.test.ts):
// a busy (long-poll-like) request outlives the header and request timeouts, an idle connection
// does not, over the cap an idle connection gives way and busy ones are kept, a port in use is
// an INVALID_CONFIG error.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { EnvReader } from '../../common/config-env.ts';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { makeTestPki } from '../../test/helpers/tls.ts';
import { DEFAULT_LISTENER_LIMITS, applyListenerLimits, listenOn, parseListenerLimits } from './listener-limits.ts';
import type { ListenerLimits } from './listener-limits.ts';

const quiet = createLogger({}, { level: 'error' });

describe('parseListenerLimits', () => {
  const parse = (env: Record<string, string>): { limits: ListenerLimits; problems: string[] } => {
    const r = new EnvReader(env);
    return { limits: parseListenerLimits(r), problems: r.problems };
  };
  it('has safe defaults', () => assert.deepEqual(parse({}), { limits: DEFAULT_LISTENER_LIMITS, problems: [] }));
  it('reads every variable', () => {
    const { limits, problems } = parse({ SIDESTASH_MAX_CONNECTIONS: '64', SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS: '9', SIDESTASH_HEADERS_TIMEOUT: '2s', SIDESTASH_REQUEST_TIMEOUT: '20s', SIDESTASH_KEEP_ALIVE_TIMEOUT: '1s', SIDESTASH_IDLE_TIMEOUT: '2m' });
    assert.deepEqual(problems, []);
    assert.deepEqual(limits, { maxConnections: 64, maxConnectionsPerAddress: 9, headersTimeoutMs: 2000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 1000, idleTimeoutMs: 120_000 });
  });
  it('the share per address defaults to half the cap, and may not exceed it', () => {
    assert.equal(parse({ SIDESTASH_MAX_CONNECTIONS: '100' }).limits.maxConnectionsPerAddress, 50);
    assert.equal(DEFAULT_LISTENER_LIMITS.maxConnectionsPerAddress, DEFAULT_LISTENER_LIMITS.maxConnections / 2);
    assert.deepEqual(parse({ SIDESTASH_MAX_CONNECTIONS: '100', SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS: '101' }).problems, ['SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS: 101 exceeds SIDESTASH_MAX_CONNECTIONS (100)']);
    for (const bad of ['0', '-1', 'many', '2.5']) assert.deepEqual(parse({ SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS: bad }).problems, [`SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS: ${JSON.stringify(bad)} is not a whole number from 1 to SIDESTASH_MAX_CONNECTIONS`]);
  });
  it('reports every problem', () => {
    const { problems } = parse({ SIDESTASH_MAX_CONNECTIONS: 'lots', SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS: 'none', SIDESTASH_HEADERS_TIMEOUT: '1m', SIDESTASH_REQUEST_TIMEOUT: '30s', SIDESTASH_IDLE_TIMEOUT: '20s', SIDESTASH_KEEP_ALIVE_TIMEOUT: '48h' });
    for (const v of ['SIDESTASH_MAX_CONNECTIONS:', 'SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS:', 'SIDESTASH_HEADERS_TIMEOUT', 'SIDESTASH_IDLE_TIMEOUT', 'SIDESTASH_KEEP_ALIVE_TIMEOUT']) assert.ok(problems.some((p) => p.startsWith(v)), `${v} in ${problems.join('; ')}`);
  });
});

describe('applyListenerLimits on a real server', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  let pkiDir: string | undefined;
  after(async () => {
    if (pkiDir) await rm(pkiDir, { recursive: true, force: true });
  });
  const start = async (limits: Partial<ListenerLimits>, handler: (url: string) => Promise<void> | void = () => {}, tls?: { cert: string; key: string }, readBody = false): Promise<{ port: number; view: { open(): number } }> => {
    const respond = async (req: AsyncIterable<unknown> & { url?: string | undefined }, res: { end(text: string): void }): Promise<void> => {
      try {
        if (readBody) for await (const _ of req);
      } catch {
        return; // the connection was closed mid-body
      }
      await handler(req.url ?? '/');
      res.end('ok');
    };
    const server = (tls ? createHttpsServer(tls, (req, res) => void respond(req, res)) : createServer((req, res) => void respond(req, res))) as Server;
    servers.push(server);
    const view = applyListenerLimits(server, { ...DEFAULT_LISTENER_LIMITS, ...limits }, quiet, 'test');
    const { port } = await listenOn(server, { host: '127.0.0.1', port: 0 }, quiet, 'test');
    return { port, view };
  };
  const open = async (port: number): Promise<Socket> => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    await once(s, 'connect');
    return s;
  };
  // Not events.once: it rejects on 'error', and a reset (ECONNRESET) is one way the server closes.
  const closed = (s: Socket): Promise<void> => (s.destroyed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve())));
  const get = (s: Socket, path: string): Promise<string> => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    return new Promise((resolve) => {
      const check = (): void => {
        if (text.endsWith('ok')) resolve(text);
      };
      s.on('data', check);
      s.on('close', () => resolve(text));
    });
  };

  // Idle between requests for longer than the header timeout, and the connection is still used
  // for the next request (agents reuse theirs between heartbeats); then the keep-alive closes it.
  const keptAliveThenClosed = async (s: Socket): Promise<void> => {
    assert.match(await get(s, '/slow'), /^HTTP\/1.1 200/, 'the slow request is answered');
    await new Promise((r) => setTimeout(r, 900)); // 3x the header timeout, idle
    assert.equal(s.destroyed, false, 'an idle keep-alive connection outlives the header timeout');
    assert.match(await get(s, '/'), /^HTTP\/1.1 200[\s\S]*Keep-Alive: timeout=2/, 'the next request on it is answered, the keep-alive advertised');
    await closed(s); // after the keep-alive (2 s)
  };

  it('serves a request longer than the header and request timeouts, keeps the idle connection for the keep-alive, then closes it', async () => {
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 300, keepAliveTimeoutMs: 2_000, idleTimeoutMs: 10_000 }, (url) => (url === '/slow' ? new Promise((r) => setTimeout(r, 1200)) : undefined));
    await keptAliveThenClosed(await open(port));
  });

  it('over TLS too: a slow request is served, the idle connection kept alive, then closed', async () => {
    pkiDir = await mkdtemp(join(tmpdir(), 'sidestash-limits-'));
    const pki = await makeTestPki(pkiDir);
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 300, keepAliveTimeoutMs: 2_000, idleTimeoutMs: 10_000 }, (url) => (url === '/slow' ? new Promise((r) => setTimeout(r, 1200)) : undefined), pki);
    const s = tlsConnect({ port, host: '127.0.0.1', ca: pki.caCert, servername: 'localhost' });
    s.on('error', () => {});
    await once(s, 'secureConnect');
    await keptAliveThenClosed(s as unknown as Socket);
  });

  it('closes a kept-alive connection whose next request trickles its headers (a 408 from the header timeout)', { timeout: 30_000 }, async () => {
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 300, keepAliveTimeoutMs: 60_000, idleTimeoutMs: 20_000 });
    const s = await open(port);
    assert.match(await get(s, '/'), /^HTTP\/1.1 200/);
    let text = '';
    s.on('data', (d: string) => (text += d));
    s.write('GET / HTTP/1.1\r\n');
    const timer = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 50);
    await closed(s);
    clearInterval(timer);
    assert.match(text, /HTTP\/1.1 408/, 'closed by the header timeout, not by the keep-alive (60 s) or the idle timeout (20 s)');
  });

  // Node's keep-alive sets the socket's timeout after a response and clears it (setTimeout(0)) when
  // the next request arrives: the idle timeout, set once per connection, was gone from the second
  // request on, so a request that went silent (a reader that stopped reading, a peer gone) held a
  // busy connection, which eviction never takes, for ever.
  it('the idle timeout still closes a silent request on a kept-alive connection (its second request)', { timeout: 30_000 }, async () => {
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 300, keepAliveTimeoutMs: 5_000, idleTimeoutMs: 1_000 }, (url) => (url === '/hang' ? new Promise<void>(() => {}) : undefined));
    const s = await open(port);
    assert.match(await get(s, '/'), /^HTTP\/1.1 200/);
    s.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed(s); // without the fix: open until the test's timeout
  });

  it('over TLS too: the idle timeout closes a silent second request on a kept-alive connection', { timeout: 30_000 }, async () => {
    pkiDir ??= await mkdtemp(join(tmpdir(), 'sidestash-limits-'));
    const pki = await makeTestPki(pkiDir);
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 300, keepAliveTimeoutMs: 5_000, idleTimeoutMs: 1_000 }, (url) => (url === '/hang' ? new Promise<void>(() => {}) : undefined), pki);
    const s = tlsConnect({ port, host: '127.0.0.1', ca: pki.caCert, servername: 'localhost' });
    s.on('error', () => {});
    await once(s, 'secureConnect');
    assert.match(await get(s as unknown as Socket, '/'), /^HTTP\/1.1 200/);
    s.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed(s as unknown as Socket);
  });

  it('closes a connection that never completes its headers', { timeout: 30_000 }, async () => {
    const { port } = await start({ headersTimeoutMs: 300, requestTimeoutMs: 300 });
    const silent = await open(port);
    const trickle = await open(port);
    trickle.write('GET / HTTP/1.1\r\n');
    const timer = setInterval(() => {
      try {
        if (trickle.writable) trickle.write('X-Slow: 1\r\n');
      } catch {
        // closed meanwhile
      }
    }, 50);
    try {
      await Promise.all([closed(silent), closed(trickle)]);
    } finally {
      clearInterval(timer);
    }
  });

  it('closes a connection whose body trickles in, and keeps one whose handler is slow after the body', { timeout: 30_000 }, async () => {
    const { port } = await start({ headersTimeoutMs: 5_000, requestTimeoutMs: 400, idleTimeoutMs: 10_000 }, (url) => (url === '/slow' ? new Promise((r) => setTimeout(r, 1200)) : undefined), undefined, true);
    const trickle = await open(port);
    trickle.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
    const timer = setInterval(() => {
      try {
        if (trickle.writable) trickle.write('x');
      } catch {
        // closed meanwhile
      }
    }, 50);
    try {
      await closed(trickle);
    } finally {
      clearInterval(timer);
    }
    assert.equal(trickle.bytesRead, 0, 'closed without an answer');
    // The whole body at once, then a handler slower than the request timeout: answered.
    const s = await open(port);
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.write('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    while (!text.endsWith('ok') && !s.destroyed) await new Promise((r) => setTimeout(r, 50));
    assert.match(text, /^HTTP\/1.1 200/);
    s.destroy();
  });

  it('over the cap, an idle connection gives way to a new one; when all are busy the new one is closed', { timeout: 30_000 }, async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { port, view } = await start({ maxConnections: 8, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 }, (url) => (url === '/wait' ? gate : undefined));
    const idle = await open(port);
    const busy = await Promise.all(Array.from({ length: 7 }, () => open(port)));
    const answers = busy.map((s) => get(s, '/wait'));
    while (view.open() < 8) await new Promise((r) => setTimeout(r, 20));
    // 8 open, 7 busy: a new connection is served in place of the idle one.
    const fresh = await open(port);
    await closed(idle);
    assert.match(await get(fresh, '/'), /^HTTP\/1.1 200/);
    const busy8 = await open(port);
    const busy8Answer = get(busy8, '/wait');
    while (view.open() < 8) await new Promise((r) => setTimeout(r, 20));
    // fresh is idle again (keep-alive): it gives way to the next one, which is then busy too.
    await closed(fresh);
    const refused = await open(port);
    await closed(refused);
    assert.equal(refused.bytesRead, 0, 'closed without an answer');
    release();
    for (const a of [...answers, busy8Answer]) assert.match(await a, /^HTTP\/1.1 200/, 'busy connections were kept');
    for (const s of [...busy, busy8]) s.destroy();
  });

  it('a port in use is INVALID_CONFIG naming the listener', async () => {
    const { port } = await start({});
    const other = createServer();
    await assert.rejects(listenOn(other, { host: '127.0.0.1', port }, quiet, 'api'), (err: unknown) => isSidestashError(err, ErrorCodes.INVALID_CONFIG) && /api cannot listen on 127\.0\.0\.1:\d+: the address is already in use/.test(err.message));
  });
});
