import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBackend } from '../../common/backend/open-backend.ts';
import type { RepositoryAccess } from '../../common/protocol.ts';
import { Repository } from '../../common/repository/repository.ts';
import { SESSION_UID_TAG, parseTargetRef, targetTags } from '../../common/repository/snapshot-selector.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import type { BackupSessionSpec, Resource } from '../resources/types.ts';
import { backupAssignment } from '../sessions/assignment.ts';
import { Store } from '../store/store.ts';
import { upsert } from '../store/upsert.ts';
import { RepositoryCache } from './repository-cache.ts';
import { checkReportedResult } from './result-check.ts';

const CHEAP = { N: 1 << 4, r: 1, p: 1 };
const PASSWORD = 'repository-password';

describe('repository cache', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let repoPath: string;
  let opens = 0;
  const open = async (access: RepositoryAccess): Promise<Repository> => {
    opens++;
    return Repository.open(await openBackend(access.location, access.credentials), access.password);
  };
  const access = (password = PASSWORD): RepositoryAccess => ({ location: `local:${repoPath}`, password, credentials: {} });

  before(async () => {
    dir = await tempDir();
    repoPath = join(dir.path, 'repo');
    await Repository.init(await openBackend(`local:${repoPath}`), PASSWORD, { scrypt: CHEAP });
  });
  after(() => dir.cleanup());

  it('opens a repository once for the same access, concurrent callers included', async () => {
    opens = 0;
    const cache = new RepositoryCache({ open });
    const repos = await Promise.all([cache.get(access()), cache.get(access()), cache.get({ ...access(), credentials: {} })]);
    assert.equal(opens, 1);
    assert.ok(repos.every((r) => r === repos[0]));
    // Another password is another key: opened on its own (and here refused, and not kept).
    await assert.rejects(cache.get(access('wrong')), { code: 'SIDESTASH_WRONG_PASSWORD' });
    await assert.rejects(cache.get(access('wrong')), { code: 'SIDESTASH_WRONG_PASSWORD' });
    assert.equal(opens, 3);
    assert.equal(cache.size, 1);
  });

  it('opens again after maxAgeMs, after evict(), and drops the least recently used beyond its capacity', async () => {
    opens = 0;
    let now = 0;
    const cache = new RepositoryCache({ open, maxAgeMs: 1000, capacity: 2, now: () => now });
    await cache.get(access());
    now = 999;
    await cache.get(access());
    assert.equal(opens, 1);
    now = 2000;
    await cache.get(access());
    assert.equal(opens, 2);
    cache.evict(access());
    await cache.get(access());
    assert.equal(opens, 3);
    // Three keys (two of them wrong passwords, not kept): the good one stays.
    await cache.get(access()).catch(() => undefined);
    await cache.get({ ...access(), credentials: { AWS_ACCESS_KEY_ID: 'x' } });
    await cache.get({ ...access(), credentials: { AWS_ACCESS_KEY_ID: 'y' } });
    assert.equal(cache.size, 2);
    const before = opens;
    await cache.get(access());
    assert.equal(opens, before + 1, 'the least recently used entry was dropped');
  });

  describe('checking reported snapshots', () => {
    const store = new Store(':memory:');
    after(() => store.close());
    const meta = (name: string) => ({ name, namespace: 'default' });

    async function session(name: string): Promise<Resource<BackupSessionSpec, unknown>> {
      for (const doc of [
        { kind: 'Secret', metadata: meta('repo-secret'), spec: { stringData: { RESTIC_PASSWORD: PASSWORD } } },
        { kind: 'Secret', metadata: meta('db-secret'), spec: { stringData: { username: 'u', password: 'p' } } },
        { kind: 'Repository', metadata: meta('repo'), spec: { backend: { local: { path: repoPath }, storageSecretName: 'repo-secret' } } },
        { kind: 'AppBinding', metadata: meta('db'), spec: { clientConfig: { socket: '/run/mysqld/mysqld.sock' }, secret: { name: 'db-secret' } } },
        { kind: 'BackupConfiguration', metadata: meta('nightly'), spec: { schedule: '0 3 * * *', repository: { name: 'repo' }, target: { ref: { name: 'db' } } } },
      ]) await upsert(store, { apiVersion: 'sidestash.io/v1', ...doc } as Resource);
      const s = await store.create({ apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: meta(name), spec: { invoker: { kind: 'BackupConfiguration', name: 'nightly' }, trigger: 'manual' }, status: { phase: 'Running' } });
      return s as Resource<BackupSessionSpec, unknown>;
    }

    /** The snapshot record a backup of `s` writes (no data: the check reads the record only). */
    async function snapshotOf(s: Resource<BackupSessionSpec, unknown>): Promise<string> {
      const a = await backupAssignment(store, s, Date.now());
      const repo = await Repository.open(await openBackend(`local:${repoPath}`), PASSWORD);
      return repo.saveJson('snapshots', { time: new Date().toISOString(), tree: '0'.repeat(64), paths: ['/dump.sql'], hostname: a.snapshotHost, tags: [`session=${a.name}`, `${SESSION_UID_TAG}${a.sessionUid}`, ...targetTags(parseTargetRef(a.target)!)] });
    }

    it('opens the repository once for many results, and still checks each one', async () => {
      opens = 0;
      const cache = new RepositoryCache({ open });
      for (const name of ['s-1', 's-2', 's-3']) {
        const s = await session(name);
        const checked = await checkReportedResult(store, s, { phase: 'Succeeded', snapshotId: await snapshotOf(s) }, AbortSignal.timeout(10_000), { repositories: cache });
        assert.equal(checked.rejected, undefined);
      }
      assert.equal(opens, 1);
      const s = await session('s-4');
      const lie = await checkReportedResult(store, s, { phase: 'Succeeded', snapshotId: 'a'.repeat(64) }, AbortSignal.timeout(10_000), { repositories: cache });
      assert.match(lie.rejected?.message ?? '', /does not exist/);
      // A snapshot of another session is refused with the kept key just as with a fresh one.
      const other = await checkReportedResult(store, s, { phase: 'Succeeded', snapshotId: await snapshotOf(await session('s-5')) }, AbortSignal.timeout(10_000), { repositories: cache });
      assert.match(other.rejected?.message ?? '', /not written by this session/);
    });

    it('reads a repository initialised again at the same place (the kept key no longer opens it)', async () => {
      const cache = new RepositoryCache({ open });
      const first = await session('r-1');
      assert.equal((await checkReportedResult(store, first, { phase: 'Succeeded', snapshotId: await snapshotOf(first) }, AbortSignal.timeout(10_000), { repositories: cache })).rejected, undefined);
      await rm(repoPath, { recursive: true });
      await Repository.init(await openBackend(`local:${repoPath}`), PASSWORD, { scrypt: CHEAP });
      opens = 0;
      const second = await session('r-2');
      const checked = await checkReportedResult(store, second, { phase: 'Succeeded', snapshotId: await snapshotOf(second) }, AbortSignal.timeout(10_000), { repositories: cache });
      assert.equal(checked.rejected, undefined, checked.rejected?.message);
      assert.equal(opens, 1, 'opened afresh once');
    });
  });
});
