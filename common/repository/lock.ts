// Repository locks compatible with restic's: locks/<id> holds an encrypted JSON document
// {time, exclusive, hostname, username, pid, uid, gid}. Many shared locks or one exclusive
// lock may exist. As in restic, taking a lock never ignores another lock, stale or not:
// stale locks (lock-staleness.ts) are only removed by `unlock` (removeLocks).
// A held lock is refreshed (replaced by one with a new time) every 5 minutes. When no
// refresh has succeeded for 22.5 minutes (restic's refreshabilityTimeout: the 30-minute
// stale timeout less 1.5 refresh intervals, for clock drift), the lock is refreshed only if
// its file still exists; otherwise, or when that fails too, the lock is lost: its signal
// aborts with SIDESTASH_LOCK_LOST and the operation under it stops, because another process
// may already have removed the lock as stale and pruned.
import { userInfo } from 'node:os';
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../errors.ts';
import type { Id } from './ids.ts';
import { STALE_LOCK_MS, currentLockHost, isStaleLock, lockHostname } from './lock-staleness.ts';
import type { LockHost, LockJson } from './lock-staleness.ts';
import type { Repository } from './repository.ts';
import { formatTime } from './time.ts';

export { STALE_LOCK_MS } from './lock-staleness.ts';
export type { LockJson } from './lock-staleness.ts';

export const LOCK_REFRESH_MS = 5 * 60 * 1000;
/** A lock not refreshed for this long is refreshed only if it still exists, else lost. */
export const LOCK_REFRESHABLE_MS = STALE_LOCK_MS - (LOCK_REFRESH_MS * 3) / 2;
/** How often a held lock checks its schedule; timers pause in standby, the clock does not. */
const CHECK_EVERY_MS = 60 * 1000;

export interface LockOptions extends CallOptions {
  /** Milliseconds since the epoch; tests inject a clock. */
  now?: () => number;
  /** How often a held lock checks its refresh schedule (default 1 minute). */
  checkEveryMs?: number;
  /** Who judges staleness (removeLocks); tests inject one. */
  host?: LockHost;
}

function newLockJson(exclusive: boolean, nowMs: number): LockJson {
  const host = currentLockHost();
  let username = '';
  try {
    username = userInfo().username;
  } catch {
    // arbitrary uid without a passwd entry
  }
  const json: LockJson = { time: formatTime(new Date(nowMs)), exclusive, hostname: lockHostname(host), username, pid: process.pid };
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid !== 0) json.uid = uid;
  if (gid !== 0) json.gid = gid;
  if (host.pidNamespace !== undefined) json.pid_namespace = host.pidNamespace;
  return json;
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

function signalOnly(options: CallOptions): CallOptions {
  return options.signal ? { signal: options.signal } : {};
}

export class RepositoryLock {
  readonly #repo: Repository;
  readonly #exclusive: boolean;
  readonly #now: () => number;
  readonly #lost = new AbortController();
  #id: Id;
  /** Time written in the current lock file. */
  #timeMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #step: Promise<void> | undefined;
  #released = false;

  private constructor(repo: Repository, id: Id, exclusive: boolean, timeMs: number, now: () => number) {
    this.#repo = repo;
    this.#id = id;
    this.#exclusive = exclusive;
    this.#timeMs = timeMs;
    this.#now = now;
  }

  /** Takes a lock; REPOSITORY_LOCKED (retryable) when a conflicting lock exists, stale or not. */
  static async acquire(repo: Repository, exclusive: boolean, options: LockOptions = {}): Promise<RepositoryLock> {
    const now = options.now ?? Date.now;
    const timeMs = now();
    const id = await repo.saveJson('locks', newLockJson(exclusive, timeMs), signalOnly(options));
    try {
      for (const other of await loadLocks(repo, signalOnly(options))) {
        if (other.id === id) continue;
        if (exclusive || other.lock.exclusive) {
          const stale = isStaleLock(other.lock, options.host ?? currentLockHost(), now());
          throw new SidestashError(
            ErrorCodes.REPOSITORY_LOCKED,
            `repository is already locked${other.lock.exclusive ? ' exclusively' : ''} by PID ${other.lock.pid} on ${other.lock.hostname} by ${other.lock.username} (since ${other.lock.time}, lock ${other.id.slice(0, 8)})` +
              (stale ? '; the lock is stale: `sidestash repo unlock` removes it' : ''),
            { retryable: true, details: { lockId: other.id, stale } },
          );
        }
      }
    } catch (err) {
      await repo.backend.remove({ type: 'locks', name: id }).catch(() => {});
      throw err;
    }
    const lock = new RepositoryLock(repo, id, exclusive, timeMs, now);
    lock.#timer = setInterval(() => void lock.tick(), options.checkEveryMs ?? CHECK_EVERY_MS);
    (lock.#timer as { unref?: () => void }).unref?.();
    return lock;
  }

  get id(): Id {
    return this.#id;
  }

  /** Aborts with SIDESTASH_LOCK_LOST when the lock is lost; the operation must stop. */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /** One step of the refresh schedule (the timer calls it; tests call it with their clock). */
  tick(): Promise<void> {
    this.#step ??= this.#scheduleStep().finally(() => {
      this.#step = undefined;
    });
    return this.#step;
  }

  async #scheduleStep(): Promise<void> {
    if (this.#released || this.#lost.signal.aborted) return;
    const ageMs = this.#now() - this.#timeMs;
    if (ageMs < LOCK_REFRESH_MS) return;
    if (ageMs <= LOCK_REFRESHABLE_MS) {
      // A failed refresh is retried on the next tick, until the lock becomes too old.
      await this.refresh().catch(() => {});
      return;
    }
    try {
      await this.#refreshIfStillThere();
    } catch (err) {
      clearInterval(this.#timer);
      this.#lost.abort(
        new SidestashError(
          ErrorCodes.LOCK_LOST,
          `repository lock ${this.#id.slice(0, 8)} lost: not refreshed for ${Math.round(ageMs / 1000)} s (${errorMessage(err)}); another process may remove it as stale, so the operation stops`,
          { retryable: true, cause: err, details: { lockId: this.#id } },
        ),
      );
    }
  }

  /** restic's refreshStaleLock: the old lock must exist before and after the new one is written. */
  async #refreshIfStillThere(): Promise<void> {
    const old = this.#id;
    if (!(await this.#exists(old))) throw new Error('the lock file was removed meanwhile');
    const timeMs = this.#now();
    const id = await this.#repo.saveJson('locks', newLockJson(this.#exclusive, timeMs));
    let there = false;
    try {
      there = await this.#exists(old);
    } finally {
      if (!there) await this.#repo.backend.remove({ type: 'locks', name: id }).catch(() => {});
    }
    if (!there) throw new Error('the lock file was removed meanwhile');
    this.#id = id;
    this.#timeMs = timeMs;
    await this.#repo.backend.remove({ type: 'locks', name: old });
  }

  async #exists(id: Id): Promise<boolean> {
    return (await this.#repo.listIds('locks')).includes(id);
  }

  /** Replaces the lock file with a fresh one (new time), as restic's refresh does. */
  async refresh(): Promise<void> {
    const timeMs = this.#now();
    const id = await this.#repo.saveJson('locks', newLockJson(this.#exclusive, timeMs));
    const old = this.#id;
    this.#id = id;
    this.#timeMs = timeMs;
    await this.#repo.backend.remove({ type: 'locks', name: old });
  }

  /** Stops refreshing and removes the lock file (options.signal: give up then; a lock left behind goes stale). */
  async release(options: CallOptions = {}): Promise<void> {
    this.#released = true;
    clearInterval(this.#timer);
    await this.#step;
    await this.#repo.backend.remove({ type: 'locks', name: this.#id }, options.signal ? { signal: options.signal } : {});
  }
}

export interface RemoveLocksOptions extends CallOptions {
  now?: () => number;
  host?: LockHost;
}

/** Removes stale locks (restic unlock); with `all`, every lock. Returns how many were removed. */
export async function removeLocks(repo: Repository, all = false, options: RemoveLocksOptions = {}): Promise<number> {
  const host = options.host ?? currentLockHost();
  const nowMs = (options.now ?? Date.now)();
  const ids = all ? (await repo.listIds('locks', signalOnly(options))) : (await loadLocks(repo, signalOnly(options))).filter(({ lock }) => isStaleLock(lock, host, nowMs)).map(({ id }) => id);
  for (const id of ids) await repo.backend.remove({ type: 'locks', name: id }, signalOnly(options));
  return ids.length;
}

/**
 * Runs fn under a lock, releasing it however fn ends. fn gets a signal that aborts when the
 * caller's does or the lock is lost; a lost lock makes withLock reject with LOCK_LOST.
 */
export async function withLock<T>(repo: Repository, exclusive: boolean, options: LockOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const lock = await RepositoryLock.acquire(repo, exclusive, options);
  const signal = options.signal ? AbortSignal.any([options.signal, lock.signal]) : lock.signal;
  let result: T;
  try {
    result = await fn(signal);
  } catch (err) {
    await lock.release().catch(() => {});
    throw lock.signal.aborted ? lock.signal.reason : err;
  }
  await lock.release().catch((err: unknown) => {
    if (!lock.signal.aborted) throw err;
  });
  if (lock.signal.aborted) throw lock.signal.reason;
  return result;
}
