// Saves blobs into packs: dedup against the index and against blobs already queued, zstd on
// the thread pool, encryption straight into the pack's buffer, and packs uploaded as soon as
// they fill. Memory is bounded and flat: at most `maxPendingBlobs` blobs being compressed, and
// `uploadConcurrency + 1` pooled pack buffers (one filling, the others uploading).
import { ErrorCodes, SidestashError, throwIfAborted } from '../errors.ts';
import { compress } from './compression.ts';
import { sha256Hex } from './ids.ts';
import type { Id } from './ids.ts';
import { MasterIndex, PACKS_PER_INDEX_FILE, encodeIndexFile } from './master-index.ts';
import type { PackEntry } from './master-index.ts';
import { BufferPool } from './buffer-pool.ts';
import { PackBuilder, packOverheadBytes } from './pack.ts';
import type { BlobType } from './pack.ts';
import type { Repository } from './repository.ts';
import { IndexCheckpoints } from './index-checkpoints.ts';
import type { IndexCheckpointPolicy } from './index-checkpoints.ts';

export interface BlobSaverOptions {
  /** Target pack size; restic 0.14's default is 16 MiB. A pack closes early when the next blob does not fit. */
  packSizeBytes?: number;
  uploadConcurrency?: number;
  maxPendingBlobs?: number;
  signal?: AbortSignal;
  /**
   * Write index files while saving (index-checkpoints.ts), so that an interrupted backup's
   * uploaded packs are found by the next one; flush() then returns only the packs not yet in
   * one. Absent: all packs wait for flush() (prune, which writes its index with supersedes).
   */
  indexCheckpoints?: IndexCheckpointPolicy;
}

export interface BlobSaverStats {
  /** Blobs offered, and their plaintext bytes. */
  blobs: number;
  blobBytes: number;
  /** Blobs that were not in the repository yet, and their plaintext bytes. */
  newBlobs: number;
  newBlobBytes: number;
  /** Bytes of pack files written (compressed, encrypted, with headers). */
  storedBytes: number;
  packs: number;
}

/**
 * Target pack size. restic 0.14 defaults to 16 MiB (earlier versions wrote 4-8 MiB packs;
 * every version reads any size). 8 MiB halves the agent's two pack buffers (measured: peak
 * RSS -16 MiB) for twice the pack files, still few: ~10 for a 400 MiB dump.
 */
export const DEFAULT_PACK_SIZE_BYTES = 8 * 1024 * 1024;
/** Room above the target size in each pack buffer. */
const PACK_HEADROOM_BYTES = 1024 * 1024;

export class BlobSaver {
  readonly #repo: Repository;
  readonly #index: MasterIndex;
  readonly #packSizeBytes: number;
  readonly #uploadConcurrency: number;
  readonly #maxPendingBlobs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #queued = new Set<string>();
  readonly #pool: BufferPool;
  readonly #packers = new Map<BlobType, PackBuilder>();
  readonly #pending = new Set<Promise<void>>();
  readonly #uploads = new Set<Promise<void>>();
  readonly #newPacks: PackEntry[] = [];
  readonly #checkpoints: IndexCheckpoints | undefined;
  #error: unknown;
  readonly stats: BlobSaverStats = { blobs: 0, blobBytes: 0, newBlobs: 0, newBlobBytes: 0, storedBytes: 0, packs: 0 };

  constructor(repo: Repository, index: MasterIndex, options: BlobSaverOptions = {}) {
    this.#repo = repo;
    this.#index = index;
    this.#packSizeBytes = options.packSizeBytes ?? DEFAULT_PACK_SIZE_BYTES;
    this.#uploadConcurrency = options.uploadConcurrency ?? 1;
    this.#maxPendingBlobs = options.maxPendingBlobs ?? 2;
    this.#signal = options.signal;
    this.#pool = new BufferPool(this.#packSizeBytes + PACK_HEADROOM_BYTES, this.#uploadConcurrency + 1);
    if (options.indexCheckpoints) this.#checkpoints = new IndexCheckpoints((packs, signal) => saveIndexFiles(repo, packs, signal), options.indexCheckpoints, options.signal);
  }

  /** Index files written while saving (indexCheckpoints), and how many packs they hold. */
  get checkpoints(): { indexFiles: number; packs: number } {
    return { indexFiles: this.#checkpoints?.written.length ?? 0, packs: this.#checkpoints?.indexedPacks ?? 0 };
  }

  #check(): void {
    if (this.#error !== undefined) throw this.#error;
    throwIfAborted(this.#signal);
  }

  /**
   * Queues a blob and returns its id once it is accepted (waiting while too many blobs are in
   * flight: backpressure). The blob is durable only after flush(). `done` is called once the
   * saver no longer reads `plaintext` (not after a failure), so its buffer can be reused.
   */
  async save(type: BlobType, plaintext: Buffer, done?: (plaintext: Buffer) => void): Promise<{ id: Id; isNew: boolean }> {
    this.#check();
    // On this thread, measured against the alternatives (Node.js 24, 256 MiB benchmark backup):
    // crypto.subtle.digest holds the calling thread for most of a hash (4.3-6.7 ms of a 4 MiB
    // digest before it returns its promise, against 3.4 ms for createHash) and copies the data
    // first (peak RSS +8-16 MiB with pack ids too); a worker thread for blob processing added
    // 20 MiB of RSS at its start, past the agent's 128 MiB budget.
    const id = sha256Hex(plaintext);
    this.stats.blobs++;
    this.stats.blobBytes += plaintext.length;
    const key = MasterIndex.key(type, id);
    if (this.#index.has(type, id) || this.#queued.has(key)) {
      done?.(plaintext);
      return { id, isNew: false };
    }
    this.#queued.add(key);
    this.stats.newBlobs++;
    this.stats.newBlobBytes += plaintext.length;
    while (this.#pending.size >= this.#maxPendingBlobs) {
      await Promise.race(this.#pending);
      this.#check();
    }
    const task: Promise<void> = this.#process(type, id, plaintext, done)
      .catch((err: unknown) => {
        this.#error ??= err;
      })
      .finally(() => this.#pending.delete(task));
    this.#pending.add(task);
    return { id, isNew: true };
  }

  async #process(type: BlobType, id: Id, plaintext: Buffer, done: ((plaintext: Buffer) => void) | undefined): Promise<void> {
    let body: Buffer = plaintext;
    let uncompressedLength: number | undefined;
    if (this.#repo.compression) {
      body = await compress(plaintext);
      uncompressedLength = plaintext.length;
      done?.(plaintext);
    }
    // Finding room and adding happen without an await in between, so concurrent tasks never
    // add to, or close, the same pack twice.
    for (;;) {
      const packer = this.#packers.get(type);
      if (packer?.fits(body.length)) {
        packer.add(this.#repo.key, id, type, body, uncompressedLength);
        if (body === plaintext) done?.(plaintext);
        if (packer.sizeBytes >= this.#packSizeBytes) {
          this.#packers.delete(type);
          await this.#upload(packer);
        }
        return;
      }
      if (packer) {
        this.#packers.delete(type);
        await this.#upload(packer);
        continue;
      }
      const buffer = await this.#bufferFor(type, body.length);
      if (this.#packers.has(type)) {
        this.#pool.release(buffer);
        continue;
      }
      this.#packers.set(type, new PackBuilder(buffer));
    }
  }

  /** Data packs come from the pool; tree packs (small, rare) and oversized blobs get their own buffer. */
  async #bufferFor(type: BlobType, bodyBytes: number): Promise<Buffer> {
    const needed = bodyBytes + packOverheadBytes(1) + 32;
    if (type === 'data' && needed <= this.#pool.sizeBytes) return this.#pool.acquire();
    return Buffer.allocUnsafe(Math.max(needed * 2, 64 * 1024));
  }

  async #upload(packer: PackBuilder): Promise<void> {
    while (this.#uploads.size >= this.#uploadConcurrency) await Promise.race(this.#uploads).catch(() => {});
    if (this.#error !== undefined || this.#signal?.aborted) {
      this.#pool.release(packer.buffer);
      this.#check();
    }
    const { id, bytes, blobs } = packer.finish(this.#repo.key);
    const upload: Promise<void> = this.#repo.backend
      .save({ type: 'data', name: id }, bytes, this.#signal ? { signal: this.#signal } : {})
      .then(() => {
        const entry = { packId: id, blobs };
        this.#index.addPack(entry);
        if (this.#checkpoints) this.#checkpoints.packStored(entry);
        else this.#newPacks.push(entry);
        this.stats.storedBytes += bytes.length;
        this.stats.packs++;
      })
      .catch((err: unknown) => {
        this.#error ??= err;
      })
      .finally(() => {
        this.#uploads.delete(upload);
        this.#pool.release(packer.buffer);
      });
    this.#uploads.add(upload);
  }

  /** Writes all open packs and waits for every upload; returns the packs written since the last flush. */
  async flush(): Promise<PackEntry[]> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
    this.#check();
    for (const [type, packer] of this.#packers) {
      this.#packers.delete(type);
      if (packer.count > 0) await this.#upload(packer);
    }
    while (this.#uploads.size > 0) await Promise.all(this.#uploads);
    this.#check();
    if (this.#checkpoints) this.#newPacks.push(...(await this.#checkpoints.takeUnindexed()));
    return this.#newPacks.splice(0);
  }

  /**
   * After abort(): indexes the packs whose upload finished but that are in no index file yet,
   * so that the next backup reuses them (best effort; a failure is ignored). Only with
   * indexCheckpoints, and never after the repository lock was lost (a prune may be deleting them).
   */
  async indexStoredPacks(signal: AbortSignal): Promise<void> {
    await this.#checkpoints?.indexRemaining(signal);
  }

  /** Stops accepting blobs and waits for work in flight to settle (after a failure). */
  async abort(reason: unknown): Promise<void> {
    this.#error ??= reason ?? new SidestashError(ErrorCodes.ABORTED, 'blob saver aborted');
    await Promise.allSettled([...this.#pending, ...this.#uploads]);
  }
}

/** Stores index files describing `packs`; returns their ids. */
export async function saveIndexFiles(repo: Repository, packs: readonly PackEntry[], signal?: AbortSignal, supersedes: readonly Id[] = []): Promise<Id[]> {
  const ids: Id[] = [];
  for (let i = 0; i < packs.length || (i === 0 && supersedes.length > 0); i += PACKS_PER_INDEX_FILE) {
    const json = encodeIndexFile(packs.slice(i, i + PACKS_PER_INDEX_FILE), i === 0 ? supersedes : []);
    ids.push(await repo.saveJson('index', json, signal ? { signal } : {}));
  }
  return ids;
}
