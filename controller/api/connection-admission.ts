// Which open connection gives way to a new one when a listener is full, or whether the new one is
// closed at once: a pure decision (listener-limits.ts applies it to a server's sockets).
// - A connection counts as an agent's only once a request on it authenticated with an agent's
//   token (or registered one), and only while the requests on it do (listener-limits.ts: one that
//   ends unauthenticated, or a deregistration, makes it unauthenticated again); until then it is
//   unauthenticated, whatever address it comes from.
// - Each remote address (an IPv6 address by its /64, which one subscriber holds) may hold at most
//   maxConnectionsPerAddress unauthenticated connections; a new one over that share takes the
//   place of the same address's oldest idle unauthenticated one, else it is closed. Agents'
//   connections do not count against it, so a site's agents behind one NAT address keep theirs.
// - At the cap, the new connection takes the place of the oldest idle unauthenticated connection
//   of the address holding the most unauthenticated connections. An agent's idle kept connection
//   gives way only when no unauthenticated connection is open at all (the cap is full of agents:
//   a fleet larger than the cap was sized for), so that a flood from one address (or many) cannot
//   push registered agents off. Busy connections (a request being served) do not give way, except
//   an unauthenticated one open for longer than busyGivesWayAfterMs (the whole-request timeout):
//   after the idle ones, the oldest first. Without that, clients that keep their requests in
//   progress (a large answer read a byte at a time, /metrics at fleet scale, or one request after
//   another) held their connections for ever, and from two addresses (two IPv6 /64s) filled the
//   cap so that every new connection was refused: restarted agents, probes, the CLI. The age of
//   the connection, not of its request, so that a new request at once does not start it afresh.
//   An agent's busy connection (its long poll) never gives way.

export interface OpenConnection<T> {
  conn: T;
  /** addressKey() of the peer. */
  address: string;
  /** Requests being served on it. */
  busy: number;
  /** A request on it authenticated as an agent. */
  agent: boolean;
  /** When it opened (ms): an unauthenticated connection busy and open for longer than busyGivesWayAfterMs may give way. */
  openedAtMs?: number;
}

export interface OpenCounts {
  total: number;
  /** Unauthenticated open connections by address; no entry for an address holding none. */
  unauthenticated: ReadonlyMap<string, number>;
}

export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** An unauthenticated connection busy, and open for longer than this, may give way (default: never). */
  busyGivesWayAfterMs?: number;
}

export type Admission<T> = { accept: true; evict?: T; why?: 'address-share' | 'cap' } | { accept: false; why: 'address-share' | 'cap' };

/** The counts of `open` (tests; the listener keeps them as connections open and close). */
export function countOpen<T>(open: Iterable<OpenConnection<T>>): OpenCounts {
  const unauthenticated = new Map<string, number>();
  let total = 0;
  for (const c of open) {
    total++;
    if (!c.agent) unauthenticated.set(c.address, (unauthenticated.get(c.address) ?? 0) + 1);
  }
  return { total, unauthenticated };
}

/**
 * Whether a new connection from `address` may open when `open` (oldest first, counted in `counts`;
 * an iterable that may be iterated more than once) are open at `nowMs`.
 */
export function admitConnection<T>(open: Iterable<OpenConnection<T>>, counts: OpenCounts, address: string, limits: AdmissionLimits, nowMs = 0): Admission<T> {
  // The oldest busy unauthenticated connection (of `from`, or any) open for longer than the limit.
  const longestBusy = (from?: string): OpenConnection<T> | undefined => {
    if (limits.busyGivesWayAfterMs === undefined) return undefined;
    let longest: OpenConnection<T> | undefined;
    for (const c of open) {
      if (c.agent || c.busy === 0 || c.openedAtMs === undefined || (from !== undefined && c.address !== from)) continue;
      if (nowMs - c.openedAtMs > limits.busyGivesWayAfterMs && (!longest || c.openedAtMs < longest.openedAtMs!)) longest = c;
    }
    return longest;
  };
  if ((counts.unauthenticated.get(address) ?? 0) >= limits.maxConnectionsPerAddress) {
    for (const c of open) if (!c.agent && c.busy === 0 && c.address === address) return { accept: true, evict: c.conn, why: 'address-share' };
    const busy = longestBusy(address);
    if (busy) return { accept: true, evict: busy.conn, why: 'address-share' };
    return { accept: false, why: 'address-share' };
  }
  if (counts.total < limits.maxConnections) return { accept: true };
  // The oldest idle unauthenticated connection of each address; the biggest holder's gives way.
  let victim: OpenConnection<T> | undefined;
  let victimHeld = 0;
  const seen = new Set<string>();
  let oldestAgentIdle: OpenConnection<T> | undefined;
  for (const c of open) {
    if (c.busy > 0) continue;
    if (c.agent) {
      oldestAgentIdle ??= c;
      continue;
    }
    if (seen.has(c.address)) continue;
    seen.add(c.address);
    const held = counts.unauthenticated.get(c.address) ?? 0;
    if (held > victimHeld) {
      victim = c;
      victimHeld = held;
    }
  }
  if (victim) return { accept: true, evict: victim.conn, why: 'cap' };
  const busy = longestBusy();
  if (busy) return { accept: true, evict: busy.conn, why: 'cap' };
  if (counts.unauthenticated.size === 0 && oldestAgentIdle) return { accept: true, evict: oldestAgentIdle.conn, why: 'cap' };
  return { accept: false, why: 'cap' };
}

/**
 * The address a connection's share is counted by: IPv4 as is (an IPv4-mapped IPv6 address as
 * its IPv4), IPv6 by its /64 prefix ("2001:db8:0:1::/64"): one host or subscriber is given a whole
 * /64 and can connect from any of its 2^64 addresses.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1]!;
  if (!remoteAddress.includes(':')) return remoteAddress;
  const groups = ipv6Groups(remoteAddress.replace(/%.*$/, ''));
  if (!groups) return remoteAddress;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/** The 8 hex groups of an IPv6 address text (an embedded IPv4 tail as two); undefined when malformed. */
function ipv6Groups(text: string): string[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parts = (s: string): string[] | undefined => {
    if (s === '') return [];
    const out: string[] = [];
    for (const p of s.split(':')) {
      const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(p);
      if (v4) {
        const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
        out.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
      } else if (/^[0-9a-f]{1,4}$/i.test(p)) out.push(p);
      else return undefined;
    }
    return out;
  };
  const head = parts(halves[0]!);
  const tail = halves.length === 2 ? parts(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...Array<string>(missing).fill('0'), ...tail];
}
