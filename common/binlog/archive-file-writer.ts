// A growing file in the repository (a binary-log file being archived), stored as
// archive-layout.ts says: one snapshot holding `/<file>`, replaced by a newer one at each flush.
//
// append(bytes) feeds the content-defined chunker and saves each chunk as it completes (packs are
// uploaded as they fill); flush(tags) cuts the pending chunk, writes the open packs, the index,
// the tree and a snapshot whose file lists every blob so far, then removes the snapshot it
// supersedes, only after the new one is saved (a crash in between leaves two snapshots of one
// file; readers take the one with the larger binlog-end, and the next writer of that file removes
// the other: `supersedes`). Resuming opens from the newest snapshot (its tree's content list and
// size) and appends after it. Memory is bounded whatever the file's size: the chunk being cut
// (at most 8 MiB), the pack buffers, and the file's list of blob ids (about 64 bytes per MiB).
//
// Locking: blobs saved but not yet listed by a snapshot are what a prune elsewhere would delete,
// so a non-exclusive lock (refreshed by RepositoryLock) is held from the first blob of a flush
// interval until that interval's snapshot is saved, and released after: a writer that runs for
// weeks would otherwise keep every prune out. After each new lock the index is reloaded when a
// prune rewrote it meanwhile (an index file this process read is gone), so that no chunk is
// taken for stored when its pack was deleted.
import { hostname as osHostname } from 'node:os';
import { ErrorCodes, SidestashError, throwIfAborted } from '../errors.ts';
import { BlobSaver, saveIndexFiles } from '../repository/blob-saver.ts';
import type { BlobSaverOptions } from '../repository/blob-saver.ts';
import { Chunker } from '../repository/chunker.ts';
import type { Id } from '../repository/ids.ts';
import { fileTreeNode, writerIdentity } from '../repository/file-node.ts';
import { RepositoryLock } from '../repository/lock.ts';
import type { LockOptions } from '../repository/lock.ts';
import type { Repository } from '../repository/repository.ts';
import { encodeTree, loadSnapshot, loadTree } from '../repository/snapshot.ts';
import type { SnapshotJson } from '../repository/snapshot.ts';
import { PROGRAM_VERSION } from '../repository/snapshot-writer.ts';
import { formatTime } from '../repository/time.ts';

export interface ArchiveFileWriterOptions extends Omit<BlobSaverOptions, 'signal'> {
  /** The file's name in the snapshot (`mysql-bin.000042`): path `/<file>`. */
  file: string;
  hostname?: string;
  /** Go on from this snapshot of the file: its content is kept, appends come after it. */
  resumeFrom?: Id;
  /** More snapshots of this file to remove once the first flush saved its snapshot (left by a crash). */
  supersedes?: readonly Id[];
  signal?: AbortSignal;
  /** Clock and refresh schedule of the repository lock (tests). */
  lock?: Omit<LockOptions, 'signal'>;
  /** Tests: called between saving a snapshot and removing the one it supersedes (a crash there). */
  beforeSupersede?: () => Promise<void>;
}

export interface ArchiveFlushResult {
  snapshotId: Id;
  sizeBytes: number;
}

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

export class ArchiveFileWriter {
  readonly #repo: Repository;
  readonly #options: ArchiveFileWriterOptions;
  readonly #chunker: Chunker;
  readonly #content: Id[];
  #sizeBytes: number;
  #flushedBytes: number;
  #snapshotId: Id | undefined;
  #supersedes: Id[];
  #saver: BlobSaver | undefined;
  #lock: RepositoryLock | undefined;
  #closed = false;
  #failed: unknown;

  private constructor(repo: Repository, options: ArchiveFileWriterOptions, content: Id[], sizeBytes: number, snapshotId: Id | undefined) {
    this.#repo = repo;
    this.#options = options;
    this.#chunker = new Chunker(repo.config.chunkerPolynomial);
    this.#content = content;
    this.#sizeBytes = sizeBytes;
    this.#flushedBytes = sizeBytes;
    this.#snapshotId = snapshotId;
    this.#supersedes = [...(options.supersedes ?? [])];
  }

  /** A writer for a new file, or one going on from `resumeFrom` (checked: its one file must be `/<file>`). */
  static async open(repo: Repository, options: ArchiveFileWriterOptions): Promise<ArchiveFileWriter> {
    if (!FILE_NAME.test(options.file)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid archive file name ${JSON.stringify(options.file)}`);
    if (options.resumeFrom === undefined) return new ArchiveFileWriter(repo, options, [], 0, undefined);
    const signalOpt = options.signal ? { signal: options.signal } : {};
    const snapshot = await loadSnapshot(repo, options.resumeFrom, signalOpt);
    // Another process (the archiver before a restart) may have written the snapshot after this
    // one read the index: a tree not in the index is looked up again in a fresh one.
    const tree = await loadTree(repo, snapshot.tree, signalOpt).catch((err: unknown) => {
      if (!(err instanceof SidestashError && err.code === ErrorCodes.MISSING_BLOB)) throw err;
      repo.dropIndexCache();
      return loadTree(repo, snapshot.tree, signalOpt);
    });
    const node = tree.nodes.length === 1 ? tree.nodes[0] : undefined;
    if (!node || node.name !== options.file || node.type !== 'file' || !Array.isArray(node.content) || !Number.isSafeInteger(node.size) || (node.size ?? -1) < 0) {
      throw new SidestashError(ErrorCodes.CORRUPT_FILE, `snapshot ${options.resumeFrom.slice(0, 8)} does not hold the one file /${options.file}`);
    }
    const index = await repo.index(signalOpt);
    let total = 0;
    for (const id of node.content) {
      const loc = typeof id === 'string' ? index.lookup('data', id) : undefined;
      if (!loc) throw new SidestashError(ErrorCodes.MISSING_BLOB, `snapshot ${options.resumeFrom.slice(0, 8)}: blob ${String(id).slice(0, 16)} of /${options.file} is not in the index`, { details: { blobId: id } });
      total += loc.uncompressedLength ?? loc.length - 32;
    }
    if (total !== node.size) throw new SidestashError(ErrorCodes.CORRUPT_FILE, `snapshot ${options.resumeFrom.slice(0, 8)}: /${options.file} says ${node.size} bytes, its blobs hold ${total}`);
    return new ArchiveFileWriter(repo, options, [...node.content], node.size!, options.resumeFrom);
  }

  /** Bytes of the file so far (appended, flushed or not). */
  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  /** Bytes of the file the newest snapshot holds. */
  get flushedBytes(): number {
    return this.#flushedBytes;
  }

  /** The newest snapshot of the file (undefined before the first flush of a new file). */
  get snapshotId(): Id | undefined {
    return this.#snapshotId;
  }

  #check(): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#closed) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'archive file writer is closed');
    throwIfAborted(this.#options.signal);
    if (this.#lock?.signal.aborted) throw this.#lock.signal.reason;
  }

  /** The lock and the saver of this flush interval, taken on first use. */
  async #begin(): Promise<BlobSaver> {
    if (this.#saver) return this.#saver;
    const signalOpt = this.#options.signal ? { signal: this.#options.signal } : {};
    const lock = await RepositoryLock.acquire(this.#repo, false, { ...this.#options.lock, ...signalOpt });
    try {
      const known = (await this.#repo.index(signalOpt)).files;
      const present = new Set(await this.#repo.listIds('index', signalOpt));
      for (const id of known) {
        if (!present.has(id)) {
          this.#repo.dropIndexCache();
          break;
        }
      }
      const index = await this.#repo.index(signalOpt);
      const { file: _f, hostname: _h, resumeFrom: _r, supersedes: _s, signal: _sig, lock: _l, beforeSupersede: _b, ...saverOptions } = this.#options;
      this.#saver = new BlobSaver(this.#repo, index, { ...saverOptions, ...signalOpt });
    } catch (err) {
      await lock.release().catch(() => {});
      throw err;
    }
    this.#lock = lock;
    return this.#saver;
  }

  async #save(chunks: Buffer[]): Promise<void> {
    if (chunks.length === 0) return;
    const saver = await this.#begin();
    for (const chunk of chunks) this.#content.push((await saver.save('data', chunk, this.#release)).id);
  }

  readonly #release = (chunk: Buffer): void => this.#chunker.release(chunk);

  /** Appends bytes to the file; resolves once its completed chunks are queued (backpressure). */
  async append(bytes: Uint8Array): Promise<void> {
    this.#check();
    try {
      this.#sizeBytes += bytes.length;
      await this.#save(this.#chunker.push(bytes));
    } catch (err) {
      this.#failed ??= err;
      throw err;
    }
  }

  /**
   * Stores everything appended so far as the file's new snapshot with these tags (whole list:
   * the caller writes binlog-end = sizeBytes), then removes the snapshot it replaces.
   */
  async flush(tags: readonly string[]): Promise<ArchiveFlushResult> {
    this.#check();
    try {
      return await this.#flush(tags);
    } catch (err) {
      this.#failed ??= err;
      await this.#abandon(err);
      throw err;
    }
  }

  async #flush(tags: readonly string[]): Promise<ArchiveFlushResult> {
    const signal = this.#options.signal;
    const signalOpt = signal ? { signal } : {};
    const last = this.#chunker.finish();
    if (last) await this.#save([last]);
    const saver = await this.#begin();
    const time = formatTime(new Date());
    const { user, uid, gid } = writerIdentity();
    const node = fileTreeNode(this.#options.file, this.#sizeBytes, [...this.#content], time);
    const { id: treeId } = await saver.save('tree', encodeTree({ nodes: [node] }));
    const packs = await saver.flush();
    await saveIndexFiles(this.#repo, packs, signal);
    const snapshot: SnapshotJson = { time, tree: treeId, paths: [`/${this.#options.file}`], hostname: this.#options.hostname ?? osHostname(), username: user, uid, gid, program_version: PROGRAM_VERSION };
    if (tags.length > 0) snapshot.tags = [...tags];
    if (this.#lock!.signal.aborted) throw this.#lock!.signal.reason;
    const snapshotId = await this.#repo.saveJson('snapshots', snapshot, signalOpt);
    const replaced = [...(this.#snapshotId !== undefined && this.#snapshotId !== snapshotId ? [this.#snapshotId] : []), ...this.#supersedes.filter((id) => id !== snapshotId)];
    this.#snapshotId = snapshotId;
    this.#flushedBytes = this.#sizeBytes;
    this.#supersedes = [];
    await this.#options.beforeSupersede?.();
    for (const id of replaced) {
      await this.#repo.backend.remove({ type: 'snapshots', name: id }, signalOpt).catch((err: unknown) => {
        if (!(err instanceof SidestashError && err.code === ErrorCodes.BACKEND_NOT_FOUND)) throw err;
      });
    }
    // The interval's blobs are listed by a snapshot now: a prune may run until the next blob.
    this.#saver = undefined;
    const lock = this.#lock!;
    this.#lock = undefined;
    await lock.release().catch(() => {});
    return { snapshotId, sizeBytes: this.#sizeBytes };
  }

  async #abandon(reason: unknown): Promise<void> {
    const saver = this.#saver;
    const lock = this.#lock;
    this.#saver = undefined;
    this.#lock = undefined;
    if (saver) await saver.abort(reason);
    if (lock) await lock.release().catch(() => {});
  }

  /**
   * Stops without a flush: what was appended since the last flush is not stored (its packs, if
   * any were written, are left for prune). Releases the lock. Flush first to keep it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#abandon(this.#failed ?? new SidestashError(ErrorCodes.ABORTED, 'archive file writer closed'));
  }
}
