// Limits every listener of the controller applies (the API and the webhook): how long a new
// or idle connection may take to send a request's headers, how long the whole request may
// take, how long a keep-alive connection waits for the next request, how long a connection
// may sit silent while a request is served, and how many connections may be open at once, in
// all and per remote address. Over the cap a new connection displaces a connection that is
// serving no request (idle keep-alive, or still sending headers: a slowloris), unauthenticated
// ones first, of the address holding the most (connection-admission.ts); only when none may
// give way is the new one closed at once. So idle or half-open connections never starve
// /healthz, and a flood from one address cannot push registered agents' kept connections off.
// Keep-alive outlasts the agents' 20 s heartbeat, so that an agent's heartbeats, syncs and
// progress reports reuse its connection instead of paying a TLS handshake each time.
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { EnvReader } from '../../common/config-env.ts';
import type { Logger } from '../../common/log.ts';
import { addressKey, admitConnection } from './connection-admission.ts';

export { LISTEN_BACKLOG, listenOn } from './listen-on.ts';
import type { OpenConnection } from './connection-admission.ts';

export interface ListenerLimits {
  /**
   * Open connections per listener. Every agent holds one long-poll open on the API listener and
   * keeps one or two more for its heartbeat, binlog sync and reports (kept alive between them),
   * so this must exceed about 3x the number of agents (plus room for the admin API and probes).
   */
  maxConnections: number;
  /**
   * Open connections one remote address (an IPv6 /64) may hold before a request on them has
   * authenticated as an agent (connection-admission.ts). Agents behind one NAT address each
   * need up to 3 at once while they connect, so the default is half of maxConnections.
   */
  maxConnectionsPerAddress: number;
  /** From connecting (or the end of the previous response) to a request's complete headers. */
  headersTimeoutMs: number;
  /** To receive a request's body, counted from its complete headers. */
  requestTimeoutMs: number;
  /**
   * How long an idle keep-alive connection waits for the next request's first byte; advertised
   * to clients (`Keep-Alive: timeout=`), which reuse the connection for that long less a margin
   * (undici, Node's fetch: 2 s). Above the agents' heartbeat interval (20 s), so that they reuse it.
   */
  keepAliveTimeoutMs: number;
  /** Silence (no byte either way) allowed while a request is served; above the agents' long-poll. */
  idleTimeoutMs: number;
}

/** The agents' long-poll (GET .../sessions/next) holds a request silent for up to this long. */
export const LONG_POLL_MAX_MS = 30_000;

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  // About 3 per agent: 5,000 agents. Each open connection is a file descriptor (checked at start
  // against RLIMIT_NOFILE: fd-limit.ts) and ~40 KiB of RSS while idle (README, fleet scale).
  maxConnections: 16_384,
  maxConnectionsPerAddress: 8_192,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 90_000,
};

/** SIDESTASH_MAX_CONNECTIONS, SIDESTASH_HEADERS_TIMEOUT, ...: problems go to the reader's list. */
export function parseListenerLimits(r: EnvReader): ListenerLimits {
  const d = DEFAULT_LISTENER_LIMITS;
  const max = r.string('SIDESTASH_MAX_CONNECTIONS', String(d.maxConnections))!;
  let maxConnections = Number(max);
  if (!/^\d+$/.test(max) || maxConnections < 8 || maxConnections > 65_536) {
    r.problems.push(`SIDESTASH_MAX_CONNECTIONS: ${JSON.stringify(max)} is not a whole number from 8 to 65536`);
    maxConnections = d.maxConnections;
  }
  const perAddressDefault = String(Math.floor(maxConnections / 2));
  const perAddress = r.string('SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS', perAddressDefault)!;
  let maxConnectionsPerAddress = Number(perAddress);
  if (!/^\d+$/.test(perAddress) || maxConnectionsPerAddress < 1) {
    r.problems.push(`SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS: ${JSON.stringify(perAddress)} is not a whole number from 1 to SIDESTASH_MAX_CONNECTIONS`);
    maxConnectionsPerAddress = Number(perAddressDefault);
  }
  const secs = (ms: number): string => `${ms / 1000}s`;
  const limits: ListenerLimits = {
    maxConnections,
    maxConnectionsPerAddress,
    headersTimeoutMs: r.durationMs('SIDESTASH_HEADERS_TIMEOUT', secs(d.headersTimeoutMs)),
    requestTimeoutMs: r.durationMs('SIDESTASH_REQUEST_TIMEOUT', secs(d.requestTimeoutMs)),
    keepAliveTimeoutMs: r.durationMs('SIDESTASH_KEEP_ALIVE_TIMEOUT', secs(d.keepAliveTimeoutMs)),
    idleTimeoutMs: r.durationMs('SIDESTASH_IDLE_TIMEOUT', secs(d.idleTimeoutMs)),
  };
  r.problems.push(...listenerLimitProblems(limits));
  return limits;
}

/** What is inconsistent in a set of limits (empty when they are usable). */
export function listenerLimitProblems(l: ListenerLimits): string[] {
  const out: string[] = [];
  const day = 24 * 3_600_000; // timers overflow past 2^31 ms; nothing here needs a day
  for (const [name, ms] of [['SIDESTASH_HEADERS_TIMEOUT', l.headersTimeoutMs], ['SIDESTASH_REQUEST_TIMEOUT', l.requestTimeoutMs], ['SIDESTASH_KEEP_ALIVE_TIMEOUT', l.keepAliveTimeoutMs], ['SIDESTASH_IDLE_TIMEOUT', l.idleTimeoutMs]] as const) {
    if (ms > day) out.push(`${name}: at most 24h`);
  }
  if (l.maxConnectionsPerAddress > l.maxConnections) out.push(`SIDESTASH_MAX_CONNECTIONS_PER_ADDRESS: ${l.maxConnectionsPerAddress} exceeds SIDESTASH_MAX_CONNECTIONS (${l.maxConnections})`);
  if (l.headersTimeoutMs > l.requestTimeoutMs) out.push('SIDESTASH_HEADERS_TIMEOUT: must not exceed SIDESTASH_REQUEST_TIMEOUT');
  if (l.idleTimeoutMs <= LONG_POLL_MAX_MS) out.push(`SIDESTASH_IDLE_TIMEOUT: must exceed the agents' ${LONG_POLL_MAX_MS / 1000}s long-poll`);
  if (l.idleTimeoutMs <= l.keepAliveTimeoutMs) out.push('SIDESTASH_IDLE_TIMEOUT: must exceed SIDESTASH_KEEP_ALIVE_TIMEOUT (an idle keep-alive connection is closed by the keep-alive timeout)');
  return out;
}

/** How often Node checks its header and request timeouts: a quarter of the header timeout, 250 ms to 30 s. */
export function checkingIntervalMs(l: Pick<ListenerLimits, 'headersTimeoutMs'>): number {
  return Math.min(30_000, Math.max(250, Math.floor(l.headersTimeoutMs / 4)));
}

interface Tracked extends OpenConnection<Socket> {
  /** peer(): address and port. */
  key: string;
  timer: NodeJS.Timeout | undefined;
  /** The agent ("namespace/name") whose connection it is, while it counts as one. */
  agentName?: string;
  markAgent(agent: string): void;
  unmarkAgent(): void;
}

/**
 * Connections one agent may have counted as its own at once; more count as unauthenticated (its
 * long poll, its heartbeat and sync, a progress report, the offline plan: about 4 at most). Without
 * a bound one agent's token (a compromised site's) made any number of connections agents', kept
 * at the cap while the oldest idle ones, other agents' kept connections, gave way to them.
 */
export const MAX_CONNECTIONS_PER_AGENT = 8;

/** The connection a request came on (its socket, the TLS one on https), while it is open. */
const trackedBySocket = new WeakMap<object, Tracked>();
/** Requests that authenticated as an agent's (markAgentConnection). */
const agentRequests = new WeakSet<IncomingMessage>();

/**
 * Counts the connection `req` came on as an agent's: call it only once the request authenticated
 * with an agent's credentials (connection-admission.ts: agents' connections do not count against
 * the address's share and give way last). It stays an agent's while the requests on it do: one
 * that ends without authenticating as an agent (a revoked or deregistered agent's token, another
 * client's request on the kept connection) makes it unauthenticated again.
 */
export function markAgentConnection(req: IncomingMessage, agent: string): void {
  agentRequests.add(req);
  trackedBySocket.get(req.socket)?.markAgent(agent);
}

/** Applies `limits` to a server before it listens; returns a counter view for tests and logs. */
export function applyListenerLimits(server: HttpServer | HttpsServer, limits: ListenerLimits, log: Logger, listener: string): { open(): number; seen(): number } {
  // Node's own timers, as a second line (they are checked only every connectionsCheckingInterval).
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  const open = new Map<Socket, Tracked>();
  // An https request's socket is the TLS socket over the accepted one: both have the peer's address.
  const byPeer = new Map<string, Tracked>();
  const peer = (s: Socket): string => `${s.remoteAddress}|${s.remotePort}`;
  const unauthenticated = new Map<string, number>();
  const counted = (address: string, by: number): void => {
    const n = (unauthenticated.get(address) ?? 0) + by;
    if (n > 0) unauthenticated.set(address, n);
    else unauthenticated.delete(address);
  };
  // Connections counted as each agent's (MAX_CONNECTIONS_PER_AGENT).
  const byAgent = new Map<string, number>();
  const agentCounted = (agent: string, by: number): void => {
    const n = (byAgent.get(agent) ?? 0) + by;
    if (n > 0) byAgent.set(agent, n);
    else byAgent.delete(agent);
  };
  const forget = (t: Tracked): void => {
    clearTimeout(t.timer);
    if (open.delete(t.conn)) {
      if (!t.agent) counted(t.address, -1);
      else if (t.agentName !== undefined) agentCounted(t.agentName, -1);
    }
    if (byPeer.get(t.key) === t) byPeer.delete(t.key);
  };
  const stats = { evictedIdle: 0, evictedAgentIdle: 0, refused: 0, overAddressShare: 0 };
  let lastReport = 0;
  const report = (): void => {
    const now = Date.now();
    if (now - lastReport < 10_000) return;
    lastReport = now;
    log.warn('connection limit reached', { listener, maxConnections: limits.maxConnections, maxConnectionsPerAddress: limits.maxConnectionsPerAddress, ...stats });
  };
  // Node checks its headers and request timeouts every connectionsCheckingInterval (30 s by
  // default): often enough here that a keep-alive connection that starts a request and then
  // trickles its headers is closed about headersTimeoutMs after its first byte (a 408).
  (server as HttpServer & { connectionsCheckingInterval: number }).connectionsCheckingInterval = checkingIntervalMs(limits);
  const arm = (t: Tracked, socket: Socket, afterResponse: boolean): void => {
    clearTimeout(t.timer);
    // A new connection: no complete request headers in time is a silent or trickling (slowloris)
    // connection. After a response: Node's keep-alive timer closes the idle connection and its
    // header check a trickled next request; this is the backstop for both.
    t.timer = setTimeout(() => socket.destroy(), afterResponse ? limits.keepAliveTimeoutMs + limits.headersTimeoutMs : limits.headersTimeoutMs);
    t.timer.unref();
  };

  // A busy unauthenticated connection open for longer than a whole request may take (a large
  // answer read a byte at a time, or request after request) may give way (connection-admission.ts).
  const admission = { maxConnections: limits.maxConnections, maxConnectionsPerAddress: limits.maxConnectionsPerAddress, busyGivesWayAfterMs: limits.requestTimeoutMs };
  // Iterated more than once per decision (an iterator from open.values() would be spent after the first pass).
  const openConnections: Iterable<Tracked> = { [Symbol.iterator]: () => open.values() };
  let seen = 0;
  server.on('connection', (socket: Socket) => {
    seen++;
    const address = addressKey(socket.remoteAddress);
    const verdict = admitConnection(openConnections, { total: open.size, unauthenticated }, address, admission, Date.now());
    if (verdict.why === 'address-share') stats.overAddressShare++;
    if (!verdict.accept) {
      stats.refused++;
      report();
      socket.destroy();
      return;
    }
    if (verdict.evict) {
      const victim = open.get(verdict.evict);
      if (victim?.agent) stats.evictedAgentIdle++;
      else stats.evictedIdle++;
      report();
      // Forgotten now: its 'close' comes later, and the next connection's decision must not count it.
      if (victim) forget(victim);
      verdict.evict.destroy();
    }
    const key = peer(socket);
    const t: Tracked = {
      conn: socket,
      key,
      address,
      busy: 0,
      agent: false,
      openedAtMs: Date.now(),
      timer: undefined,
      markAgent: (agent: string) => {
        if (!open.has(socket) || (t.agent && t.agentName === agent)) return;
        t.unmarkAgent(); // another agent's request on the kept connection
        if ((byAgent.get(agent) ?? 0) >= MAX_CONNECTIONS_PER_AGENT) return;
        t.agent = true;
        t.agentName = agent;
        agentCounted(agent, 1);
        counted(address, -1);
      },
      unmarkAgent: () => {
        if (!t.agent || !open.has(socket)) return;
        t.agent = false;
        if (t.agentName !== undefined) agentCounted(t.agentName, -1);
        delete t.agentName;
        counted(address, 1);
      },
    };
    open.set(socket, t);
    counted(address, 1);
    byPeer.set(key, t);
    arm(t, socket, false);
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    socket.once('close', () => forget(t));
  });

  // First in line, before the application's handler, so that a response ended at once is seen.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const t = byPeer.get(peer(req.socket));
    if (!t) return;
    trackedBySocket.set(req.socket, t);
    t.busy++;
    clearTimeout(t.timer);
    t.timer = undefined;
    // Node's keep-alive clears the socket's timeout (setTimeout(0)) when the next request on a
    // kept connection arrives: set the idle timeout again for each request (Node's own timeout
    // handler destroys the socket when nothing else handles it).
    req.socket.setTimeout(limits.idleTimeoutMs);
    // A body trickled in too slowly (Node's requestTimeout is only checked every 30 s).
    const body = setTimeout(() => req.complete || req.socket.destroy(), limits.requestTimeoutMs);
    body.unref();
    res.once('close', () => {
      clearTimeout(body);
      // The connection is an agent's while the requests on it authenticate as one.
      if (!agentRequests.has(req)) t.unmarkAgent();
      t.busy--;
      if (t.busy === 0 && !t.conn.destroyed) arm(t, t.conn, true);
    });
  });

  return { open: () => open.size, seen: () => seen };
}
