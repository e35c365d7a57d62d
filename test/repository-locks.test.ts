// Locks as safe as restic's, in process: staleness across PID namespaces by age only, lost
// locks stop the operation, dump and restore hold a shared lock. Clocks are injected.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Backend } from '../common/backend/backend.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, SidestashError, isSidestashError, throwIfAborted } from '../common/errors.ts';
import { RepositoryLock, removeLocks, withLock } from '../common/repository/lock.ts';
import { currentPidNamespace } from '../common/repository/lock-staleness.ts';
import { prune } from '../common/repository/prune.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { openSnapshotFileStream } from '../common/repository/snapshot-reader.ts';
import { SnapshotWriteStream, writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { blockStream, plan } from './helpers/data.ts';
import { sha256Of } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'pw-locks';
const MiB = 1024 * 1024;
const MINUTE = 60_000;
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };
const DEAD_PID = 2 ** 22 + 1; // above Linux's pid_max

/** A local backend whose saves fail once `failing` is set (a storage outage). */
function flakyBackend(path: string): { backend: Backend; fail(on: boolean): void } {
  const local = new LocalBackend(path);
  let failing = false;
  const backend = new Proxy(local, {
    get(target, prop) {
      if (prop === 'save' && failing) return async () => Promise.reject(new SidestashError(ErrorCodes.BACKEND_IO, 'storage unavailable', { retryable: true }));
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Backend;
  return { backend, fail: (on) => (failing = on) };
}

/** Runs fn with the event loop kept alive: a held lock's timer does not (it is unref'd), and Deno ends a test whose loop is empty. */
async function keepingAlive<T>(fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

async function lockFiles(path: string): Promise<string[]> {
  return readdir(join(path, 'locks'));
}

describe('repository locks', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.cleanup());

  it('unlock and the agent\'s cleanup keep a fresh lock of this host whose PID is not visible here, and remove it once 31 minutes old', async () => {
    const path = join(dir.path, 'stale');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const now = Date.now();
    // What a restic or sidestash in another container of the pod writes: same host name, a PID we cannot see.
    await repo.saveJson('locks', { time: new Date(now).toISOString(), exclusive: false, hostname: hostname(), username: 'mysql', pid: DEAD_PID });
    assert.equal(await removeLocks(repo, false, { now: () => now }), 0);
    assert.equal((await lockFiles(path)).length, 1);
    assert.equal(await removeLocks(repo, false, { now: () => now + 29 * MINUTE }), 0);
    assert.equal(await removeLocks(repo, false, { now: () => now + 31 * MINUTE }), 1);
    assert.deepEqual(await lockFiles(path), []);
  });

  it('a lock written in this very PID namespace by a process that is gone is stale at once', { skip: currentPidNamespace() === undefined }, async () => {
    const path = join(dir.path, 'same-ns');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    await repo.saveJson('locks', { time: new Date().toISOString(), exclusive: true, hostname: hostname(), username: 'x', pid: DEAD_PID, pid_namespace: currentPidNamespace() });
    await repo.saveJson('locks', { time: new Date().toISOString(), exclusive: true, hostname: hostname(), username: 'x', pid: process.pid, pid_namespace: currentPidNamespace() });
    assert.equal(await removeLocks(repo), 1);
    assert.equal((await lockFiles(path)).length, 1);
    assert.equal(await removeLocks(repo, true), 1);
  });

  it('a held lock is refreshed every 5 minutes, survives failed refreshes for a while, and is lost (LOCK_LOST) when not refreshed for 22.5 minutes', async () => {
    const path = join(dir.path, 'refresh');
    await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const { backend, fail } = flakyBackend(path);
    const repo = await Repository.open(backend, PASSWORD);
    let clock = Date.now();
    const lock = await RepositoryLock.acquire(repo, false, { now: () => clock, checkEveryMs: 3_600_000 });
    const first = lock.id;
    clock += 4 * MINUTE;
    await lock.tick();
    assert.equal(lock.id, first, 'not refreshed before 5 minutes');
    clock += 2 * MINUTE;
    await lock.tick();
    assert.notEqual(lock.id, first);
    assert.deepEqual(await lockFiles(path), [lock.id]);
    fail(true);
    clock += 20 * MINUTE; // 20 minutes since the last refresh
    await lock.tick();
    assert.equal(lock.signal.aborted, false);
    clock += 3 * MINUTE; // 23 minutes
    await lock.tick();
    assert.equal(lock.signal.aborted, true);
    assert.ok(isSidestashError(lock.signal.reason, ErrorCodes.LOCK_LOST), String(lock.signal.reason));
    fail(false);
    await lock.release();
    assert.deepEqual(await lockFiles(path), []);
  });

  it('an old lock whose file someone removed (unlock elsewhere) is lost even though storage works', async () => {
    const path = join(dir.path, 'removed');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    let clock = Date.now();
    const lock = await RepositoryLock.acquire(repo, true, { now: () => clock, checkEveryMs: 3_600_000 });
    await removeLocks(repo, true);
    clock += 25 * MINUTE;
    await lock.tick();
    assert.ok(isSidestashError(lock.signal.reason, ErrorCodes.LOCK_LOST));
    assert.deepEqual(await lockFiles(path), [], 'no replacement lock left behind');
    await lock.release();
  });

  it('an operation under withLock gets a signal that aborts when the lock is lost, and fails with LOCK_LOST', async () => {
    const path = join(dir.path, 'with-lock');
    await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const { backend, fail } = flakyBackend(path);
    const repo = await Repository.open(backend, PASSWORD);
    let clock = Date.now();
    const err = await keepingAlive(() =>
      withLock(repo, true, { now: () => clock, checkEveryMs: 5 }, async (signal) => {
        fail(true);
        clock += 23 * MINUTE;
        if (!signal.aborted) await once(signal, 'abort');
        throwIfAborted(signal);
      }).catch((e: unknown) => e),
    );
    fail(false);
    assert.ok(isSidestashError(err, ErrorCodes.LOCK_LOST), String(err));
    assert.equal((err as SidestashError).retryable, true);
  });

  it('a backup whose lock is lost stops with LOCK_LOST and stores no snapshot', async () => {
    const path = join(dir.path, 'writer-lost');
    await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const { backend, fail } = flakyBackend(path);
    const repo = await Repository.open(backend, PASSWORD);
    let clock = Date.now();
    const writer = new SnapshotWriteStream(repo, { filename: 'dumpfile.sql', lock: { now: () => clock, checkEveryMs: 5 } });
    const errored = once(writer, 'error').then(([e]) => e as unknown);
    // The first write completes once the lock is held.
    await new Promise<void>((resolve, reject) => writer.write(Buffer.alloc(MiB, 1), (e) => (e ? reject(e) : resolve())));
    fail(true);
    clock += 23 * MINUTE;
    const err = await keepingAlive(() => errored);
    if (!writer.closed) await once(writer, 'close');
    fail(false);
    assert.ok(isSidestashError(err, ErrorCodes.LOCK_LOST), String(err));
    assert.deepEqual(await listSnapshots(repo), []);
  });

  it('a dump holds a shared lock until it is closed, past its last byte: prune is refused meanwhile, and a lost lock ends the stream with LOCK_LOST', async () => {
    const path = join(dir.path, 'reader');
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    const blocks = plan('reader', 24 * MiB);
    await writeSnapshot(repo, blockStream(blocks), { filename: 'dumpfile.sql' });
    const opened = await openSnapshotFileStream(repo, 'latest');
    assert.equal((await lockFiles(path)).length, 1);
    await assert.rejects(prune(repo), (err) => isSidestashError(err, ErrorCodes.REPOSITORY_LOCKED));
    const got = await sha256Of(opened.stream);
    assert.equal(got.sha256, (await sha256Of(blockStream(blocks))).sha256);
    // Read to the end is not done: the consumer (a restore's client) may still be applying it.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await lockFiles(path)).length, 1, 'held until close()');
    await opened.close();
    assert.deepEqual(await lockFiles(path), []);
    await prune(repo);

    let clock = Date.now();
    const { backend, fail } = flakyBackend(path);
    const repo2 = await Repository.open(backend, PASSWORD);
    const lost = await openSnapshotFileStream(repo2, 'latest', { lock: { now: () => clock, checkEveryMs: 5 }, prefetch: 1 });
    fail(true);
    clock += 23 * MINUTE;
    const err = await keepingAlive(() => sha256Of(lost.stream).catch((e: unknown) => e));
    fail(false);
    assert.ok(isSidestashError(err, ErrorCodes.LOCK_LOST), String(err));
    await lost.close();
  });
});
