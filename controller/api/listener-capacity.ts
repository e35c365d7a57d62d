// Whether the API listener, as configured, can hold a fleet of agents: checked once at start and
// logged as warnings (the controller still starts: a small deployment needs neither).
// - File descriptors: every open connection is one. Node raises its soft RLIMIT_NOFILE to the
//   hard limit at start; when that is still below SIDESTASH_MAX_CONNECTIONS plus what the
//   controller needs besides (sqlite, the webhook, the repository backends), accept() fails with
//   EMFILE before the connection cap is reached and new agents cannot connect at all.
// - Keep-alive: agents reuse a connection only if it is kept longer than their heartbeat interval
//   (plus the client's 2 s margin); else every heartbeat, sync and report pays a TLS handshake.
import { readFile } from 'node:fs/promises';

/** Descriptors the controller uses besides its API connections (sqlite, webhook, backends, logs). */
export const OTHER_DESCRIPTORS = 256;
/** undici (Node's fetch, the agent's client) stops reusing a connection this long before the server's advertised keep-alive ends. */
export const CLIENT_KEEP_ALIVE_MARGIN_MS = 2_000;

/** The soft "Max open files" of a /proc/<pid>/limits text; undefined when absent or unlimited. */
export function parseOpenFileLimit(limitsText: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limitsText);
  if (!m || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/** This process's soft RLIMIT_NOFILE, where the platform shows it (Linux); undefined elsewhere. */
export async function openFileLimit(): Promise<number | undefined> {
  try {
    return parseOpenFileLimit(await readFile('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/** The warning for a descriptor limit too low for maxConnections, or undefined when it fits (or is unknown). */
export function openFileLimitProblem(softLimit: number | undefined, maxConnections: number): string | undefined {
  if (softLimit === undefined) return undefined;
  const needed = maxConnections + OTHER_DESCRIPTORS;
  if (softLimit >= needed) return undefined;
  return `RLIMIT_NOFILE (open files) is ${softLimit}, too low for SIDESTASH_MAX_CONNECTIONS=${maxConnections}: about ${needed} are needed, and at ${softLimit} new connections fail (EMFILE) and agents cannot connect; raise it (ulimit -n, systemd LimitNOFILE=, the container runtime's nofile ulimit) or lower SIDESTASH_MAX_CONNECTIONS to about ${Math.max(8, softLimit - OTHER_DESCRIPTORS)} (agents: about a third of that)`;
}

/** The warning for a keep-alive too short for the agents to reuse their connections between heartbeats. */
export function keepAliveProblem(keepAliveTimeoutMs: number, heartbeatMs: number): string | undefined {
  if (keepAliveTimeoutMs - CLIENT_KEEP_ALIVE_MARGIN_MS > heartbeatMs) return undefined;
  const s = (ms: number): string => `${ms / 1000}s`;
  return `SIDESTASH_KEEP_ALIVE_TIMEOUT (${s(keepAliveTimeoutMs)}) is not longer than the agents' heartbeat interval (${s(heartbeatMs)}, a third of SIDESTASH_SESSION_LEASE) plus ${s(CLIENT_KEEP_ALIVE_MARGIN_MS)}: agents open a new TLS connection for most calls; set it above ${s(heartbeatMs + CLIENT_KEEP_ALIVE_MARGIN_MS)}`;
}
