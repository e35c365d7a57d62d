// Resumable backups: the snapshot writer writes index files as it goes (and, when stopped,
// for the packs it finished), so that the next backup's dedup finds the interrupted one's
// packs instead of uploading them again. A deterministic 64 MiB incompressible stream is
// backed up into a local repository, interrupted at 70% (cancelled; or the backend going
// down for good), then backed up again whole; the second attempt's uploaded pack bytes are
// measured. Packs are 1 MiB here: the agent's 8 MiB packs against a 512 MiB dump, scaled to
// the 64 MiB stream. restic 0.14 checks the result.
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Backend, CallOptions, FileHandle, FileType, LoadOptions } from '../common/backend/backend.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { ErrorCodes, SidestashError, isSidestashError } from '../common/errors.ts';
import { removeLocks } from '../common/repository/lock.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { SnapshotWriteStream, writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { restic, resticDumpSha256 } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'pw-resumable';
const MiB = 1024 * 1024;
/** 64 MiB; SIDESTASH_RESUME_TEST_MIB=1024 measures at the scale (by hand, not in the suite). */
const STREAM_BYTES = Number(process.env.SIDESTASH_RESUME_TEST_MIB ?? 64) * MiB;
const INTERRUPT_AT_BYTES = Math.round(STREAM_BYTES * 0.7);
const PACK_BYTES = Math.min(8 * MiB, STREAM_BYTES / 64);
/** A fixed chunker polynomial: the same cut points on every run of the test. */
const INIT = { scrypt: { N: 1024, r: 8, p: 1 }, chunkerPolynomial: 0x3da3358b4dc173n };

/** The same incompressible bytes every time (AES-CTR keystream); `before()` is called before each MiB is handed out. */
function stream(before: () => void = () => {}): Readable {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16));
  return Readable.from((function* () {
    for (let done = 0; done < STREAM_BYTES; done += MiB) {
      before();
      yield cipher.update(Buffer.alloc(MiB));
    }
  })(), { highWaterMark: 1 });
}

/**
 * Backs up the stream, calling interrupt() once the writer has taken in 70% of it; expects
 * the backup to fail. Returns its error and the pack bytes it had stored by then.
 */
async function interruptedBackup(repo: Repository, interrupt: () => void, signal?: AbortSignal): Promise<{ err: unknown; storedBytes: number }> {
  const writer = new SnapshotWriteStream(repo, { filename: 'dumpfile.sql', packSizeBytes: PACK_BYTES, hostname: 'db', ...(signal ? { signal } : {}) });
  let interrupted = false;
  let storedBytes = 0;
  const source = stream(() => {
    if (!interrupted && writer.bytesWritten >= INTERRUPT_AT_BYTES) {
      interrupted = true;
      storedBytes = writer.stats?.storedBytes ?? 0;
      queueMicrotask(interrupt); // once the generator is suspended: a cancel destroys it
    }
  });
  try {
    await pipeline(source, writer, signal ? { signal } : {});
  } catch (err) {
    if (!writer.closed) await once(writer, 'close');
    assert.ok(interrupted);
    return { err, storedBytes };
  }
  assert.fail('the interrupted backup succeeded');
}

function streamSha256(): string {
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16));
  const h = createHash('sha256');
  for (let done = 0; done < STREAM_BYTES; done += MiB) h.update(cipher.update(Buffer.alloc(MiB)));
  return h.digest('hex');
}

/** A backend that can go down: every call then fails as a connection refused would (retryable). */
class Unplugged implements Backend {
  readonly location: string;
  down = false;
  readonly #inner: Backend;
  constructor(inner: Backend) {
    this.#inner = inner;
    this.location = inner.location;
  }
  #up(): void {
    if (this.down) throw new SidestashError(ErrorCodes.BACKEND_IO, `${this.location}: connect ECONNREFUSED`, { retryable: true });
  }
  async create(o?: CallOptions) { this.#up(); return this.#inner.create(o); }
  async save(h: FileHandle, d: Uint8Array, o?: CallOptions) { this.#up(); return this.#inner.save(h, d, o); }
  async load(h: FileHandle, o?: LoadOptions) { this.#up(); return this.#inner.load(h, o); }
  async stat(h: FileHandle, o?: CallOptions) { this.#up(); return this.#inner.stat(h, o); }
  async *list(t: FileType, o?: CallOptions) { this.#up(); yield* this.#inner.list(t, o); }
  async remove(h: FileHandle, o?: CallOptions) { this.#up(); return this.#inner.remove(h, o); }
  close() { return this.#inner.close(); }
}

async function count(b: Backend, type: FileType): Promise<number> {
  let n = 0;
  for await (const _ of b.list(type)) n++;
  return n;
}

describe('resumable backups', () => {
  const want = streamSha256();
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('sidestash-resume-');
  });
  after(async () => {
    await dir?.cleanup();
  });

  /** Backs up the whole stream again; at most `maxUploadBytes` of packs may be uploaded. */
  async function resumeAndCheck(name: string, repo: Repository, maxUploadBytes: number): Promise<number> {
    const second = await writeSnapshot(repo, stream(), { filename: 'dumpfile.sql', packSizeBytes: PACK_BYTES, hostname: 'db' });
    const ratio = second.stats.storedBytes / STREAM_BYTES;
    console.log(`${name}: the resumed backup uploaded ${second.stats.storedBytes} pack bytes, ${(ratio * 100).toFixed(1)}% of the ${STREAM_BYTES}-byte stream (${second.stats.packs} packs; allowed ${maxUploadBytes})`);
    assert.ok(second.stats.storedBytes <= maxUploadBytes, `uploaded ${second.stats.storedBytes} bytes (${(ratio * 100).toFixed(1)}% of the stream) again, more than ${maxUploadBytes}`);
    const location = `${dir.path}/${name}`;
    const check = await restic(location, PASSWORD, ['check', '--read-data']);
    assert.equal(check.code, 0, check.stderr + check.stdout);
    const snapshots = JSON.parse((await restic(location, PASSWORD, ['snapshots', '--json'])).stdout) as { id: string }[];
    assert.deepEqual(snapshots.map((s) => s.id), [second.snapshotId], 'restic lists only the resumed backup');
    const dumped = await resticDumpSha256(location, PASSWORD, second.snapshotId, '/dumpfile.sql');
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.deepEqual({ sha256: dumped.sha256, bytes: dumped.bytes }, { sha256: want, bytes: STREAM_BYTES });
    return ratio;
  }

  it('a backup cancelled at 70% is resumed reusing every pack it had uploaded', async () => {
    const backend = new LocalBackend(`${dir.path}/cancelled`);
    const repo = await Repository.init(backend, PASSWORD, INIT);
    const ac = new AbortController();
    const first = await interruptedBackup(repo, () => ac.abort(), ac.signal);
    assert.deepEqual(await listSnapshots(repo), []);
    assert.equal(await count(backend, 'locks'), 0);
    assert.ok(await count(backend, 'index') >= 1, 'the cancelled backup left its packs indexed');
    // Every pack stored before the cancel is reused: what is uploaded again is the rest of the
    // stream (30%) and what was still in flight: the chunk being cut (up to 8 MiB, restic's
    // chunker), the blobs being packed, the pack being uploaded. That is a fixed few MiB: 13%
    // of this 64 MiB stream, about 1% of a 1 GiB dump.
    const slack = 2 * PACK_BYTES;
    const ratio = await resumeAndCheck('cancelled', repo, STREAM_BYTES - first.storedBytes + slack);
    // The target, at its scale (SIDESTASH_RESUME_TEST_MIB=1024: measured 30.9%).
    if (STREAM_BYTES >= 512 * MiB) assert.ok(ratio <= 0.35, `${(ratio * 100).toFixed(1)}% uploaded again`);
  });

  it('a backup whose backend goes down at 70% for good is resumed reusing the packs indexed as it went', async () => {
    const backend = new Unplugged(new LocalBackend(`${dir.path}/outage`));
    const repo = await Repository.init(backend, PASSWORD, INIT);
    const { err } = await interruptedBackup(repo, () => (backend.down = true));
    assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
    backend.down = false;
    // Its lock could not be removed either; the agent's next attempt runs after a restart or
    // 30 minutes later (removeLocks: stale locks). Here: restic check needs the repository unlocked.
    assert.equal(await removeLocks(repo, true), 1);
    // Nothing could be written once it went down: only the index files written along the way
    // count, each holding 10 packs (DEFAULT_INDEX_CHECKPOINTS; on a thin link, every 30 s).
    const indexFiles = await count(backend, 'index');
    assert.ok(indexFiles >= 2, `${indexFiles} index files written during the backup`);
    await resumeAndCheck('outage', repo, 0.6 * STREAM_BYTES);
  });
});
