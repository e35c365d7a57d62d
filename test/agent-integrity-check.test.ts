// The agent's repository check after a backup (agent/integrity-check.ts) on real repositories:
// what it reports for a sound one, a damaged one, one it cannot check, and one it may not lock.
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { boundedProblems, runIntegrityCheck } from '../agent/integrity-check.ts';
import type { Backend } from '../common/backend/backend.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { RepositoryLock } from '../common/repository/lock.ts';
import { Repository } from '../common/repository/repository.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { blockStream, plan } from './helpers/data.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'integrity';
const MiB = 1024 * 1024;
const fastKdf = { scrypt: { N: 1024, r: 8, p: 1 } };
const AT = new Date('2026-06-10T12:00:00Z');
const now = (): Date => AT;

function recordingLog(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const log = {
    lines,
    debug: (msg: string) => lines.push({ level: 'debug', msg }),
    info: (msg: string) => lines.push({ level: 'info', msg }),
    warn: (msg: string) => lines.push({ level: 'warn', msg }),
    error: (msg: string) => lines.push({ level: 'error', msg }),
    child: () => log,
  };
  return log as unknown as Logger & { lines: { level: string; msg: string }[] };
}

async function damageOnePack(path: string): Promise<string> {
  for (const s of await readdir(join(path, 'data'))) {
    const names = await readdir(join(path, 'data', s));
    if (names.length === 0) continue;
    const file = join(path, 'data', s, names[0]!);
    const bytes = await readFile(file);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01;
    await chmod(file, 0o600);
    await writeFile(file, bytes);
    return names[0]!;
  }
  throw new Error(`no pack in ${path}`);
}

describe('the agent\'s integrity check', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  const repoAt = async (name: string): Promise<{ repo: Repository; path: string }> => {
    const path = join(dir.path, name);
    const repo = await Repository.init(new LocalBackend(path), PASSWORD, fastKdf);
    await writeSnapshot(repo, blockStream(plan(name, 3 * MiB)), { filename: 'dumpfile.sql' });
    return { repo, path };
  };
  before(async () => (dir = await tempDir()));
  after(() => dir.cleanup());

  it('a sound repository: ok, with the subset it read', async () => {
    const { repo } = await repoAt('sound');
    const signal = new AbortController().signal;
    assert.deepEqual(await runIntegrityCheck(repo, {}, recordingLog(), signal, now), { ok: true, checkedAt: AT.toISOString(), errors: [] });
    assert.deepEqual(await runIntegrityCheck(repo, { readDataSubset: '100%' }, recordingLog(), signal, now), { ok: true, checkedAt: AT.toISOString(), readDataSubset: '100%', errors: [] });
  });

  it('a damaged pack: the metadata check passes, reading all data finds it', async () => {
    const { repo, path } = await repoAt('damaged');
    const packId = await damageOnePack(path);
    const signal = new AbortController().signal;
    assert.equal((await runIntegrityCheck(repo, {}, recordingLog(), signal, now))?.ok, true);
    const log = recordingLog();
    const r = await runIntegrityCheck(repo, { readDataSubset: '1/1' }, log, signal, now);
    assert.equal(r?.ok, false);
    assert.equal(r?.readDataSubset, '1/1');
    assert.ok(r!.errors.length > 0 && r!.errors.every((e) => e.startsWith(`pack ${packId}: `)), r!.errors.join('\n'));
    assert.ok(log.lines.some((l) => l.level === 'warn' && /backup is stored/.test(l.msg)));
  });

  it('a check that cannot complete (the backend fails to read a pack): ok=false, saying why', async () => {
    const { path } = await repoAt('failing');
    const local = new LocalBackend(path);
    // Whole packs (what read-data loads) fail; ranges (the trees the metadata check loads) do not.
    const load: Backend['load'] = (h, o) => (h.type === 'data' && o?.offset === undefined ? Promise.reject(new SidestashError(ErrorCodes.BACKEND_IO, 'disk on fire')) : local.load(h, o));
    const failing = new Proxy(local, {
      get: (t, p) => {
        if (p === 'load') return load;
        const v: unknown = Reflect.get(t, p, t);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    }) as Backend;
    const repo = await Repository.open(failing, PASSWORD);
    const r = await runIntegrityCheck(repo, { readDataSubset: '100%' }, recordingLog(), new AbortController().signal, now);
    assert.deepEqual(r, { ok: false, checkedAt: AT.toISOString(), readDataSubset: '100%', errors: ['the check could not complete: disk on fire'] });
  });

  it('an exclusively locked repository: not run (no result), a warning', async () => {
    const { repo } = await repoAt('locked');
    const lock = await RepositoryLock.acquire(repo, true);
    try {
      const log = recordingLog();
      assert.equal(await runIntegrityCheck(repo, { readDataSubset: '5%' }, log, new AbortController().signal, now), undefined);
      assert.ok(log.lines.some((l) => l.level === 'warn' && /not run/.test(l.msg)), JSON.stringify(log.lines));
    } finally {
      await lock.release();
    }
    // A shared lock (another backup) does not stop it.
    const shared = await RepositoryLock.acquire(repo, false);
    try {
      assert.equal((await runIntegrityCheck(repo, {}, recordingLog(), new AbortController().signal, now))?.ok, true);
    } finally {
      await shared.release();
    }
  });

  it('a stopped session: no result', async () => {
    const { repo } = await repoAt('stopped');
    const ac = new AbortController();
    ac.abort(new Error('cancelled'));
    assert.equal(await runIntegrityCheck(repo, { readDataSubset: '100%' }, recordingLog(), ac.signal, now), undefined);
  });

  it('a subset the agent refuses: metadata only', async () => {
    const { repo } = await repoAt('refused');
    const log = recordingLog();
    assert.deepEqual(await runIntegrityCheck(repo, { readDataSubset: '0/0' }, log, new AbortController().signal, now), { ok: true, checkedAt: AT.toISOString(), errors: [] });
    assert.ok(log.lines.some((l) => l.level === 'warn' && /not valid/.test(l.msg)));
  });
});

describe('problems as a result carries them', () => {
  it('at most 20, each at most 500 characters, the last saying how many more', () => {
    assert.deepEqual(boundedProblems([]), []);
    assert.deepEqual(boundedProblems(['a', 'b']), ['a', 'b']);
    const twenty = Array.from({ length: 20 }, (_, i) => `p${i}`);
    assert.deepEqual(boundedProblems(twenty), twenty);
    const many = boundedProblems(Array.from({ length: 45 }, (_, i) => `p${i}`));
    assert.equal(many.length, 20);
    assert.equal(many[18], 'p18');
    assert.equal(many[19], '…and 26 more problems');
    const long = boundedProblems(['x'.repeat(501), 'y'.repeat(500)]);
    assert.equal(long[0]!.length, 500);
    assert.ok(long[0]!.endsWith('…'));
    assert.equal(long[1], 'y'.repeat(500));
  });
});
