// Reads one file of a snapshot back as a Node stream (like `restic dump`), fetching a few
// blobs ahead of the consumer and no more: Readable.from pulls only as fast as it is read.
// Dump and restore go through openSnapshotFileStream, which holds a shared lock (as restic's
// dump and restore do) from finding the snapshot until the stream closes, so that no prune
// (restic's or ours, both exclusive) deletes packs under a running restore.
import { Readable } from 'node:stream';
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError } from '../errors.ts';
import { ExternalMemoryCollector } from '../external-memory-gc.ts';
import { readBlobRuns } from './blob-run-reader.ts';
import { RepositoryLock } from './lock.ts';
import type { LockOptions } from './lock.ts';
import type { Id } from './ids.ts';
import type { Repository } from './repository.ts';
import { findSnapshot, loadTree } from './snapshot.ts';
import type { Snapshot, SnapshotFilter, TreeNode } from './snapshot.ts';

export interface SnapshotFile {
  node: TreeNode;
  /** Path inside the snapshot, e.g. /dumpfile.sql. */
  path: string;
  sizeBytes: number;
}

/** The suffix of a dump's index file beside it (common/sql-dump/dump-index.ts indexFileName). */
export const INDEX_SUFFIX = '.index.json';

/**
 * Finds a file node in a snapshot. Without `path`, the snapshot must hold exactly one file
 * (what `restic backup --stdin` produces), not counting a dump index beside it (our writer's
 * second file).
 */
export async function findSnapshotFile(repo: Repository, snapshot: Snapshot, path?: string, options: CallOptions = {}): Promise<SnapshotFile> {
  const files: SnapshotFile[] = [];
  const walk = async (treeId: Id, prefix: string): Promise<SnapshotFile | undefined> => {
    const tree = await loadTree(repo, treeId, options);
    for (const node of tree.nodes) {
      const p = `${prefix}/${node.name}`;
      if (node.type === 'dir' && node.subtree && (path === undefined || path.startsWith(`${p}/`))) {
        const found = await walk(node.subtree, p);
        if (found) return found;
      } else if (node.type === 'file') {
        const f = { node, path: p, sizeBytes: node.size ?? 0 };
        if (path !== undefined && p === path) return f;
        files.push(f);
      }
    }
    return undefined;
  };
  const normalized = path === undefined ? undefined : `/${path.replace(/^\/+/, '')}`;
  path = normalized;
  const found = await walk(snapshot.tree, '');
  if (found) return found;
  // A dump index (NAME.index.json beside NAME, sql-dump/dump-index.ts) is not a file to choose.
  const paths = new Set(files.map((f) => f.path));
  const chosen = files.filter((f) => !(f.path.endsWith(INDEX_SUFFIX) && paths.has(f.path.slice(0, -INDEX_SUFFIX.length))));
  if (path === undefined && chosen.length === 1) return chosen[0]!;
  if (path === undefined) {
    throw new SidestashError(ErrorCodes.PATH_NOT_FOUND, `snapshot ${snapshot.id.slice(0, 8)} holds ${chosen.length} files; name one`);
  }
  throw new SidestashError(ErrorCodes.PATH_NOT_FOUND, `${path} not found in snapshot ${snapshot.id.slice(0, 8)}`);
}

export interface ReadStreamOptions extends CallOptions {
  /** Blobs fetched ahead of the consumer. */
  prefetch?: number;
  /** A full collection when memory outside V8's heap grew this much (common/external-memory-gc.ts). */
  gcGrowthBytes?: number;
}

/** Growth of memory outside V8's heap (spent blobs, statements) that a read collects. */
export const READ_GC_GROWTH_BYTES = 16 * 1024 * 1024;

/** A stream of a file's content, blob by blob, each authenticated and hash-checked. */
export function createFileReadStream(repo: Repository, file: SnapshotFile, options: ReadStreamOptions = {}): Readable {
  const content = file.node.content ?? [];
  const prefetch = Math.max(1, options.prefetch ?? 4);
  // Each blob leaves its ciphertext, decrypted and plaintext buffers behind, often after a
  // slow consumer kept them long enough to be promoted, where V8's schedule does not look: a
  // full collection every 8 MiB took a restore's peak RSS from 153 to 106 MiB, but ran whether
  // or not V8 had freed them meanwhile. Now one runs when memory outside the heap has grown.
  const gc = new ExternalMemoryCollector({ growthBytes: options.gcGrowthBytes ?? READ_GC_GROWTH_BYTES });
  const signalOpt = options.signal ? { signal: options.signal } : {};
  // Blobs that lie back to back in a pack are read together (blob-run-reader.ts).
  async function* blobs(): AsyncGenerator<Buffer> {
    for await (const blob of readBlobRuns(repo, content, { prefetch, ...signalOpt })) {
      yield blob;
      gc.check();
    }
  }
  return Readable.from(blobs(), { objectMode: false, ...signalOpt });
}

export interface OpenSnapshotFileOptions extends ReadStreamOptions {
  /** Snapshot filter for "latest". */
  filter?: SnapshotFilter;
  /** Chooses the snapshot instead of `ref` and `filter` (e.g. the agent's target rule for "latest"); runs under the lock. */
  choose?: (repo: Repository, signal: AbortSignal) => Promise<Snapshot>;
  /** File inside the snapshot; without it the snapshot must hold exactly one file. */
  path?: string;
  /** Clock and refresh schedule of the repository lock (tests). */
  lock?: Omit<LockOptions, 'signal'>;
}

export interface OpenSnapshotFile {
  snapshot: Snapshot;
  file: SnapshotFile;
  /** The file's content. */
  stream: Readable;
  /**
   * Destroys the stream if still open and releases the shared lock, which is held until then:
   * for a restore, until its client has applied the last byte (restic holds its lock for the
   * whole command), not only until the last byte was read, which a few chunks in the
   * pipeline's buffers reach long before.
   */
  close(): Promise<void>;
}

/**
 * Takes a shared lock, finds the snapshot (id prefix or "latest") and its file, and returns
 * the file's stream. A lost lock destroys the stream with SIDESTASH_LOCK_LOST.
 */
export async function openSnapshotFileStream(repo: Repository, ref: string, options: OpenSnapshotFileOptions = {}): Promise<OpenSnapshotFile> {
  const lock = await RepositoryLock.acquire(repo, false, { ...options.lock, ...(options.signal ? { signal: options.signal } : {}) });
  const signal = options.signal ? AbortSignal.any([options.signal, lock.signal]) : lock.signal;
  try {
    const snapshot = options.choose ? await options.choose(repo, signal) : await findSnapshot(repo, ref, options.filter ?? {}, { signal });
    const file = await findSnapshotFile(repo, snapshot, options.path, { signal });
    const stream = createFileReadStream(repo, file, { ...(options.prefetch ? { prefetch: options.prefetch } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    const onLost = (): void => {
      stream.destroy(lock.signal.reason as Error);
    };
    lock.signal.addEventListener('abort', onLost, { once: true });
    const streamClosed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    let released: Promise<void> | undefined;
    const close = (): Promise<void> => {
      released ??= (async () => {
        if (!stream.destroyed) stream.destroy();
        await streamClosed;
        lock.signal.removeEventListener('abort', onLost);
        await lock.release().catch(() => {});
      })();
      return released;
    };
    return { snapshot, file, stream, close };
  } catch (err) {
    await lock.release().catch(() => {});
    throw lock.signal.aborted ? lock.signal.reason : err;
  }
}
