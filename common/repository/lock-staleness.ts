// When is a repository lock stale, i.e. safe to remove? restic's rule is: older than 30
// minutes, or written on this host (same hostname) by a process that no longer answers a
// signal. The second half is wrong in Kubernetes: the containers of one pod share a host name
// but not a PID namespace, so a live restic or sidestash in the database container looks
// dead from the sidecar (its PID is not visible, or is some other process). sidestash
// therefore trusts the PID check only when the lock proves it was written in this very PID
// namespace of this very boot: sidestash adds `pid_namespace` ("<boot id>/pid:[<inode>]",
// from /proc; restic ignores unknown fields) to the locks it writes. Every other lock (any
// lock restic wrote, a lock from another container, pod or machine) is stale by age only.
// A lock that cannot be judged (no parsable time) is never stale: only `unlock --remove-all`
// removes it.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseTime } from './time.ts';

/** restic's staleLockTimeout. */
export const STALE_LOCK_MS = 30 * 60 * 1000;

/** The lock document, in restic's field order (uid and gid omitted when 0, as restic does). */
export interface LockJson {
  time: string;
  exclusive: boolean;
  hostname: string;
  username: string;
  pid: number;
  uid?: number;
  gid?: number;
  /** sidestash only: `<boot id>/pid:[<inode>]` of the writer's PID namespace. */
  pid_namespace?: string;
}

/** What the staleness rule needs to know about the process that judges. */
export interface LockHost {
  hostname: string;
  /** This process's `<boot id>/pid:[<inode>]`, undefined where /proc does not say. */
  pidNamespace: string | undefined;
  processExists(pid: number): boolean;
}

/** This process's boot id and PID namespace, or undefined (not Linux, /proc not mounted...). */
export function currentPidNamespace(): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = readlinkSync('/proc/self/ns/pid');
    return /^[0-9a-f-]{16,64}$/.test(boot) && /^pid:\[\d+\]$/.test(ns) ? `${boot}/${ns}` : undefined;
  } catch {
    return undefined;
  }
}

/** Signal 0: no signal is sent, only whether the PID exists (EPERM: it does, not ours). */
export function processExists(pid: number): boolean {
  // 0 and negative numbers address process groups: never "dead".
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

let cachedHost: LockHost | undefined;

export function currentLockHost(): LockHost {
  cachedHost ??= { hostname: hostname(), pidNamespace: currentPidNamespace(), processExists };
  return cachedHost;
}

/**
 * The hostname sidestash writes into its locks: the host name and, where known, the PID
 * namespace (`mariadb-0/pid:[4026532845]`). restic judges a lock of "its own" hostname by
 * signalling the PID, which from another container of the pod (same host name, other PID
 * namespace) finds nothing and takes the live lock for stale: `restic unlock` would remove it
 * and `restic prune` ignore it. With a hostname no restic process has, restic judges
 * sidestash's locks by age only, and a held lock is refreshed long before 30 minutes.
 */
export function lockHostname(host: Pick<LockHost, 'hostname' | 'pidNamespace'>): string {
  const ns = host.pidNamespace?.split('/').at(-1);
  return ns ? `${host.hostname}/${ns}` : host.hostname;
}

/** The rule above, as a pure function of the lock, who judges, and the time. */
export function isStaleLock(lock: LockJson, host: LockHost, nowMs: number): boolean {
  const t = typeof lock.time === 'string' ? parseTime(lock.time) : undefined;
  if (!t) return false;
  if (nowMs - t.epochMs > STALE_LOCK_MS) return true;
  const sameHost = lock.hostname === host.hostname || lock.hostname === lockHostname(host);
  const sameNamespace = sameHost && host.pidNamespace !== undefined && lock.pid_namespace === host.pidNamespace;
  return sameNamespace && typeof lock.pid === 'number' && !host.processExists(lock.pid);
}
