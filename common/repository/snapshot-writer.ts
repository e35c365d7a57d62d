// Writes one stream as a snapshot holding a single file, like
// `restic backup --stdin --stdin-filename NAME`: chunk, dedup, pack (an index file every
// 10 packs or 30 s), then the tree, the last index and the snapshot, so a crash before the
// end leaves only packs no snapshot references; the indexed ones are reused by the next backup.
// Use it as the last stage of pipeline(): backpressure reaches the source because each
// write completes only when its chunks are queued. After a failure, wait for 'close'
// (writeSnapshot does) before assuming the repository lock is released.
import { hostname as osHostname } from 'node:os';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCodes, SidestashError } from '../errors.ts';
import { ExternalMemoryCollector } from '../external-memory-gc.ts';
import { StreamGarbageCollector } from '../gc-on-demand.ts';
import { BlobSaver, saveIndexFiles } from './blob-saver.ts';
import { DEFAULT_INDEX_CHECKPOINTS } from './index-checkpoints.ts';
import type { BlobSaverOptions, BlobSaverStats } from './blob-saver.ts';
import { backupSummary } from './snapshot-summary.ts';
import { Chunker } from './chunker.ts';
import type { Id } from './ids.ts';
import { RepositoryLock } from './lock.ts';
import type { LockOptions } from './lock.ts';
import type { Repository } from './repository.ts';
import { encodeTree } from './snapshot.ts';
import type { SnapshotJson, TreeNode } from './snapshot.ts';
import { fileTreeNode, writerIdentity } from './file-node.ts';
import { formatTime } from './time.ts';

export const PROGRAM_VERSION = 'sidestash 0.1.0';
/** How long a failed backup may spend indexing the packs it uploaded. */
const ABORT_INDEX_TIMEOUT_MS = 30_000;

export interface SnapshotWriteOptions extends Omit<BlobSaverOptions, 'signal'> {
  /** File name inside the snapshot; Stash uses "dumpfile.sql". */
  filename: string;
  hostname?: string;
  tags?: string[];
  /** More tags, decided once the whole file is read (its size known), just before the snapshot is saved. */
  finalTags?: (sizeBytes: number) => string[] | Promise<string[]>;
  parent?: Id;
  time?: Date;
  signal?: AbortSignal;
  /** Clock and refresh schedule of the repository lock (tests). */
  lock?: Omit<LockOptions, 'signal'>;
  /**
   * Small files stored beside the stream's file, decided once the stream ended (the dump
   * index): each is chunked and stored like the stream. The snapshot's paths still name only
   * the stream's file, as `restic backup --stdin` writes them.
   */
  extraFiles?: () => ExtraFile[];
  /**
   * Called with each Buffer written, once the writer no longer reads it (its bytes are copied
   * into the chunk being assembled, before write's callback): the source may use it again.
   */
  releaseInput?: (chunk: Buffer) => void;
  /** Bytes written that may wait before write() asks the source to wait (default 1 MiB). */
  inputBufferBytes?: number;
}

export interface ExtraFile {
  name: string;
  content: Buffer;
}

export interface SnapshotWriteResult {
  snapshotId: Id;
  treeId: Id;
  sizeBytes: number;
  stats: BlobSaverStats;
}

export class SnapshotWriteStream extends Writable {
  readonly #repo: Repository;
  readonly #options: SnapshotWriteOptions;
  readonly #content: Id[] = [];
  /**
   * Frees the source's spent Buffers soon (gc-on-demand.ts says why they pile up): a young
   * collection every 2 MiB of input (~0.1 ms: the pipe reads of mariadb-dump's output die
   * young, and that source allocates too little in V8's heap for it to scavenge on its own),
   * and a full one only when memory outside V8's heap has grown by 8 MiB over its floor since
   * the last (external-memory-gc.ts, the restore read's policy). It was also a full collection
   * every 8 MiB of input, whether or not V8 had freed the Buffers meanwhile. Measured
   * (bench/backup-session-cpu.ts, 256 MiB database, --trace-gc, a loaded machine): see the commits.
   */
  readonly #minorGc = new StreamGarbageCollector({ minorEveryBytes: 2 * 1024 * 1024, majorEveryBytes: Number.POSITIVE_INFINITY });
  readonly #gc = new ExternalMemoryCollector({ growthBytes: 8 * 1024 * 1024 });
  #chunker: Chunker;
  #saver: BlobSaver | undefined;
  #lock: RepositoryLock | undefined;
  #sizeBytes = 0;
  #start: Date;
  /** Set once the snapshot is stored. */
  result: SnapshotWriteResult | undefined;

  constructor(repo: Repository, options: SnapshotWriteOptions) {
    super({ highWaterMark: options.inputBufferBytes ?? 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) });
    if (!/^[^/\0]+$/.test(options.filename) || options.filename === '.' || options.filename === '..') {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid snapshot file name ${JSON.stringify(options.filename)}`);
    }
    this.#repo = repo;
    this.#options = options;
    this.#chunker = new Chunker(repo.config.chunkerPolynomial);
    this.#start = options.time ?? new Date();
  }

  /** Bytes received so far. */
  get bytesWritten(): number {
    return this.#sizeBytes;
  }

  get stats(): BlobSaverStats | undefined {
    return this.#saver?.stats;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    const signalOpt = this.#options.signal ? { signal: this.#options.signal } : {};
    RepositoryLock.acquire(this.#repo, false, { ...this.#options.lock, ...signalOpt })
      .then(async (lock) => {
        this.#lock = lock;
        // A lost lock stops the backup: a prune elsewhere may delete the packs it writes.
        lock.signal.addEventListener('abort', () => this.destroy(lock.signal.reason as Error), { once: true });
        // Read under the lock: a prune since an earlier read may have removed packs (review r15).
        const index = await this.#repo.currentIndex(signalOpt);
        const { filename: _f, hostname: _h, tags: _t, finalTags: _ft, parent: _p, time: _time, lock: _l, extraFiles: _x, releaseInput: _r, inputBufferBytes: _b, ...saverOptions } = this.#options;
        // Index files as the backup goes: an interrupted backup's packs are reused by the next.
        this.#saver = new BlobSaver(this.#repo, index, { indexCheckpoints: DEFAULT_INDEX_CHECKPOINTS, ...saverOptions });
        callback();
      })
      .catch((err: unknown) => callback(err as Error));
  }

  async #saveChunks(chunks: Buffer[]): Promise<void> {
    for (const chunk of chunks) this.#content.push((await this.#saver!.save('data', chunk, this.#releaseChunk)).id);
  }

  readonly #releaseChunk = (chunk: Buffer): void => this.#chunker.release(chunk);

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#minorGc.passed(chunk.length);
    this.#gc.check();
    this.#sizeBytes += chunk.length;
    const chunks = this.#chunker.push(chunk);
    this.#options.releaseInput?.(chunk);
    this.#saveChunks(chunks).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback);
  }

  async #finish(): Promise<void> {
    const saver = this.#saver!;
    const last = this.#chunker.finish();
    if (last) await this.#saveChunks([last]);
    const time = formatTime(this.#start);
    const { user, uid, gid } = writerIdentity();
    const node = (name: string, size: number, content: Id[]): TreeNode => fileTreeNode(name, size, content, time);
    const nodes = [node(this.#options.filename, this.#sizeBytes, this.#content)];
    for (const extra of this.#options.extraFiles?.() ?? []) {
      if (!/^[^/\0]+$/.test(extra.name) || nodes.some((n) => n.name === extra.name)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid extra snapshot file name ${JSON.stringify(extra.name)}`);
      const chunker = new Chunker(this.#repo.config.chunkerPolynomial);
      const ids: Id[] = [];
      for (const chunk of [...chunker.push(extra.content), ...[chunker.finish()].filter((c): c is Buffer => c !== undefined)]) ids.push((await saver.save('data', Buffer.from(chunk))).id);
      nodes.push(node(extra.name, extra.content.length, ids));
    }
    // restic's trees list their nodes sorted by name.
    nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const tree = encodeTree({ nodes });
    const dataStats = { ...saver.stats };
    const { id: treeId } = await saver.save('tree', tree);
    const packs = await saver.flush();
    const signal = this.#options.signal;
    await saveIndexFiles(this.#repo, packs, signal);
    const snapshot: SnapshotJson = {
      time,
      tree: treeId,
      paths: [`/${this.#options.filename}`],
      hostname: this.#options.hostname ?? osHostname(),
      username: user,
      uid,
      gid,
      program_version: PROGRAM_VERSION,
    };
    if (this.#options.parent) snapshot.parent = this.#options.parent;
    const tags = [...(this.#options.tags ?? []), ...((await this.#options.finalTags?.(this.#sizeBytes)) ?? [])];
    if (tags.length > 0) snapshot.tags = tags;
    snapshot.summary = backupSummary(time, formatTime(new Date()), nodes.reduce((n, f) => n + (f.size ?? 0), 0), dataStats, saver.stats, nodes.length);
    if (this.#lock!.signal.aborted) throw this.#lock!.signal.reason;
    const snapshotId = await this.#repo.saveJson('snapshots', snapshot, signal ? { signal } : {});
    this.result = { snapshotId, treeId, sizeBytes: this.#sizeBytes, stats: saver.stats };
    // Released before 'finish', so that whoever awaited the pipeline can take an exclusive
    // lock (retention) at once; _destroy releases it on failure. The snapshot is stored: a
    // lock file that cannot be removed now does not fail the backup (it becomes stale).
    const lock = this.#lock!;
    this.#lock = undefined;
    await lock.release().catch(() => {});
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const cleanup = async (): Promise<void> => {
      if (error && this.#saver) {
        await this.#saver.abort(error);
        // The packs already uploaded go into an index, for the next backup to reuse, unless
        // the lock was lost (a prune elsewhere may be deleting them). Its own deadline: the
        // backup's signal may be what stopped it.
        if (this.#lock && !this.#lock.signal.aborted) await this.#saver.indexStoredPacks(AbortSignal.timeout(ABORT_INDEX_TIMEOUT_MS));
        // The cached index now knows packs that may be in no index file (uploads that finished
        // while the backend was failing): the next backup through this Repository reads the files.
        this.#repo.dropIndexCache();
      }
      // After a failure the backend may still be failing: the lock's removal gets a deadline of its
      // own rather than a whole retry window more (a lock left behind goes stale in 30 minutes).
      if (this.#lock) await this.#lock.release(error ? { signal: AbortSignal.timeout(ABORT_INDEX_TIMEOUT_MS) } : {});
    };
    cleanup().then(
      () => callback(error),
      (err: unknown) => callback(error ?? (err as Error)),
    );
  }
}

/** pipeline(source, writer): stores the whole stream as a snapshot and returns the result. */
export async function writeSnapshot(repo: Repository, source: NodeJS.ReadableStream | AsyncIterable<Buffer>, options: SnapshotWriteOptions): Promise<SnapshotWriteResult> {
  const writer = new SnapshotWriteStream(repo, options);
  try {
    await pipeline(source, writer, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    // pipeline() rejects on the first error; wait until the writer has released its lock.
    if (!writer.closed) await once(writer, 'close');
    throw err;
  }
  if (!writer.result) throw new SidestashError(ErrorCodes.ABORTED, 'snapshot was not written');
  return writer.result;
}
