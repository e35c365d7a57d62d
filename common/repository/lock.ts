// Repository locks compatible with restic's: locks/<id> holds an encrypted JSON document
// {time, exclusive, hostname, username, pid, uid, gid}. Many shared locks or one exclusive
// lock may exist. A lock is stale when it is older than 30 minutes or belongs to a process
// on this host that no longer runs; stale locks are ignored (and removed by unlockStale).
// Held locks are refreshed every 5 minutes, as restic does.
import { hostname, userInfo } from 'node:os';
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError, isSidestashError } from '../errors.ts';
import type { Id } from './ids.ts';
import type { Repository } from './repository.ts';
import { formatTime, parseTime } from './time.ts';

export interface LockJson {
  time: string;
  exclusive: boolean;
  hostname: string;
  username: string;
  pid: number;
  uid: number;
  gid: number;
}

export const STALE_LOCK_MS = 30 * 60 * 1000;
export const LOCK_REFRESH_MS = 5 * 60 * 1000;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function isStale(lock: LockJson, nowMs = Date.now()): boolean {
  const t = parseTime(lock.time);
  if (!t || nowMs - t.epochMs > STALE_LOCK_MS) return true;
  return lock.hostname === hostname() && !processExists(lock.pid);
}

function newLockJson(exclusive: boolean): LockJson {
  let username = '';
  try {
    username = userInfo().username;
  } catch {
    // arbitrary uid without a passwd entry
  }
  return {
    time: formatTime(new Date()),
    exclusive,
    hostname: hostname(),
    username,
    pid: process.pid,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
  };
}

async function loadLocks(repo: Repository, options: CallOptions): Promise<{ id: Id; lock: LockJson }[]> {
  const out: { id: Id; lock: LockJson }[] = [];
  for (const id of await repo.listIds('locks', options)) {
    try {
      out.push({ id, lock: (await repo.loadJson('locks', id, options)) as LockJson });
    } catch (err) {
      // a lock removed meanwhile is no conflict
      if (!isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND)) throw err;
    }
  }
  return out;
}

export class RepositoryLock {
  readonly #repo: Repository;
  readonly #exclusive: boolean;
  #id: Id;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> = Promise.resolve();

  private constructor(repo: Repository, id: Id, exclusive: boolean) {
    this.#repo = repo;
    this.#id = id;
    this.#exclusive = exclusive;
  }

  /** Takes a lock; REPOSITORY_LOCKED (retryable) when a live conflicting lock exists. */
  static async acquire(repo: Repository, exclusive: boolean, options: CallOptions = {}): Promise<RepositoryLock> {
    const id = await repo.saveJson('locks', newLockJson(exclusive), options);
    try {
      for (const other of await loadLocks(repo, options)) {
        if (other.id === id || isStale(other.lock)) continue;
        if (exclusive || other.lock.exclusive) {
          throw new SidestashError(
            ErrorCodes.REPOSITORY_LOCKED,
            `repository is already locked${other.lock.exclusive ? ' exclusively' : ''} by PID ${other.lock.pid} on ${other.lock.hostname} by ${other.lock.username} (since ${other.lock.time}, lock ${other.id.slice(0, 8)})`,
            { retryable: true, details: { lockId: other.id } },
          );
        }
      }
    } catch (err) {
      await repo.backend.remove({ type: 'locks', name: id });
      throw err;
    }
    const lock = new RepositoryLock(repo, id, exclusive);
    lock.#timer = setInterval(() => {
      lock.#refreshing = lock.refresh().catch(() => {});
    }, LOCK_REFRESH_MS);
    lock.#timer.unref();
    return lock;
  }

  get id(): Id {
    return this.#id;
  }

  /** Replaces the lock file with a fresh one (new time), as restic's refresh does. */
  async refresh(): Promise<void> {
    const old = this.#id;
    this.#id = await this.#repo.saveJson('locks', newLockJson(this.#exclusive));
    await this.#repo.backend.remove({ type: 'locks', name: old });
  }

  async release(): Promise<void> {
    clearInterval(this.#timer);
    await this.#refreshing;
    await this.#repo.backend.remove({ type: 'locks', name: this.#id });
  }
}

/** Removes stale locks (restic unlock); with `all`, every lock. Returns how many were removed. */
export async function removeLocks(repo: Repository, all = false, options: CallOptions = {}): Promise<number> {
  let n = 0;
  for (const { id, lock } of await loadLocks(repo, options)) {
    if (all || isStale(lock)) {
      await repo.backend.remove({ type: 'locks', name: id }, options);
      n++;
    }
  }
  return n;
}

/** Runs fn under a lock, releasing it however fn ends. */
export async function withLock<T>(repo: Repository, exclusive: boolean, options: CallOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await RepositoryLock.acquire(repo, exclusive, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
