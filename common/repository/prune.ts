// prune: delete data no snapshot references, crash-safely, under an exclusive lock.
// Order (as restic): 1. write repacked blobs into new packs, 2. write a new index covering
// everything kept, 3. delete the old index files, 4. delete obsolete packs. A crash between
// any two steps leaves a valid repository: at worst unreferenced packs or duplicate index
// entries, which readers and `restic check` accept and the next prune removes.
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError, throwIfAborted } from '../errors.ts';
import { BlobSaver, saveIndexFiles } from './blob-saver.ts';
import type { Id } from './ids.ts';
import { withLock } from './lock.ts';
import { MasterIndex } from './master-index.ts';
import type { PackEntry } from './master-index.ts';
import type { PackedBlob } from './pack.ts';
import type { Repository } from './repository.ts';
import { listSnapshots } from './snapshot.ts';
import { collectUsedBlobs } from './tree-walk.ts';

/** Leftovers of unfinished saves older than this are removed by prune. */
export const LEFTOVER_AGE_MS = 60 * 60 * 1000;

export interface PruneOptions extends CallOptions {
  dryRun?: boolean;
  /** Hook for crash tests: called after each step with its name. */
  afterStep?: (step: 'repack' | 'index' | 'remove-index' | 'remove-packs') => void | Promise<void>;
}

export interface PruneResult {
  packsKept: number;
  packsRemoved: number;
  packsRepacked: number;
  packsWritten: number;
  orphanedPacksRemoved: number;
  /** Leftovers of saves that never finished (temporary files, multipart uploads) removed. */
  leftoversRemoved: number;
  /** Why leftovers could not be removed (the prune itself went on). */
  leftoversError?: string;
  bytesRemoved: number;
  blobsRemoved: number;
  /** restic prune's statistics: blobs and their sizes in the packs (PruneStats). */
  stats: PruneStats;
}

/**
 * What restic prune prints: blobs kept but moved to new packs (repack), unused blobs of those
 * packs (removes), blobs of packs deleted whole and the size of packs no index lists (delete),
 * what stays. Sizes are the blobs' lengths in their packs.
 */
export interface PruneStats {
  repackBlobs: number;
  repackBytes: number;
  removeBlobs: number;
  removeBytes: number;
  deleteBlobs: number;
  deleteBytes: number;
  remainingBlobs: number;
  remainingBytes: number;
}

export async function prune(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  const signalOpt = options.signal ? { signal: options.signal } : {};
  return withLock(repo, true, signalOpt, async (lockSignal) => {
    // Aborts with the caller's signal or when the lock is lost (checked before each delete).
    const signalOpt = { signal: lockSignal };
    options = { ...options, signal: lockSignal };
    repo.dropIndexCache();
    const index = await repo.index(signalOpt);
    const used = await collectUsedBlobs(repo, await listSnapshots(repo, signalOpt), {}, signalOpt);
    for (const key of used) {
      const type = key.startsWith('t') ? 'tree' : 'data';
      if (!index.has(type, type === 'tree' ? key.slice(1) : key)) {
        throw new SidestashError(ErrorCodes.MISSING_BLOB, `${type} blob ${key.replace(/^t/, '')} is referenced but not in the index; run check, prune refuses to go on`);
      }
    }
    const onDisk = new Map<Id, number>();
    for await (const f of repo.backend.list('data', signalOpt)) onDisk.set(f.name, f.sizeBytes);

    const stats: PruneStats = { repackBlobs: 0, repackBytes: 0, removeBlobs: 0, removeBytes: 0, deleteBlobs: 0, deleteBytes: 0, remainingBlobs: 0, remainingBytes: 0 };
    const result: PruneResult = { packsKept: 0, packsRemoved: 0, packsRepacked: 0, packsWritten: 0, orphanedPacksRemoved: 0, leftoversRemoved: 0, bytesRemoved: 0, blobsRemoved: 0, stats };
    const keep: PackEntry[] = [];
    const repack: PackEntry[] = [];
    const removePacks = new Set<Id>();
    const seen = new Set<string>();
    let orphanBytes = 0;
    // Prefer packs that are fully used, so that duplicates are dropped from partial packs.
    const packs = [...index.packs()].sort((a, b) => usedCount(b[1], used) - usedCount(a[1], used));
    for (const [packId, blobs] of packs) {
      if (!onDisk.has(packId)) {
        throw new SidestashError(ErrorCodes.CORRUPT_PACK, `pack ${packId} is in the index but missing from the repository; run check, prune refuses to go on`);
      }
      const needed = blobs.filter((b) => {
        const k = MasterIndex.key(b.type, b.id);
        if (!used.has(k) || seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      const bytes = sumLengths(blobs);
      stats.remainingBlobs += blobs.length;
      stats.remainingBytes += bytes;
      if (needed.length === blobs.length) keep.push({ packId, blobs });
      else if (needed.length === 0) {
        removePacks.add(packId);
        stats.deleteBlobs += blobs.length;
        stats.deleteBytes += bytes;
      } else {
        repack.push({ packId, blobs: needed });
        stats.repackBlobs += needed.length;
        stats.repackBytes += sumLengths(needed);
        stats.removeBlobs += blobs.length - needed.length;
        stats.removeBytes += bytes - sumLengths(needed);
      }
      result.blobsRemoved += blobs.length - needed.length;
    }
    for (const packId of onDisk.keys()) {
      if (!index.packs().has(packId)) {
        removePacks.add(packId);
        result.orphanedPacksRemoved++;
        orphanBytes += onDisk.get(packId) ?? 0;
      }
    }
    stats.remainingBlobs -= stats.removeBlobs + stats.deleteBlobs;
    stats.remainingBytes -= stats.removeBytes + stats.deleteBytes;
    stats.deleteBytes += orphanBytes;
    result.packsKept = keep.length;
    result.packsRepacked = repack.length;
    result.packsRemoved = removePacks.size + repack.length;
    for (const id of [...removePacks, ...repack.map((p) => p.packId)]) result.bytesRemoved += onDisk.get(id) ?? 0;
    // Under the exclusive lock no save is under way; an hour's margin spares a clock skewed
    // writer. Best effort: a server without ListMultipartUploads does not stop the prune.
    if (!options.dryRun && repo.backend.removeLeftovers) {
      try {
        result.leftoversRemoved = await repo.backend.removeLeftovers(LEFTOVER_AGE_MS, signalOpt);
      } catch (err) {
        throwIfAborted(lockSignal);
        result.leftoversError = err instanceof Error ? err.message : String(err);
      }
    }
    if (options.dryRun || (removePacks.size === 0 && repack.length === 0 && index.files.size <= 1)) return result;

    // 1. repack
    const saver = new BlobSaver(repo, new MasterIndex(), signalOpt);
    for (const p of repack) {
      for (const b of p.blobs) {
        throwIfAborted(options.signal);
        await saver.save(b.type, await repo.loadBlob(b.type, b.id, signalOpt));
      }
    }
    const written = await saver.flush();
    result.packsWritten = written.length;
    await options.afterStep?.('repack');
    // 2. new index over all kept and written packs, superseding the old files
    const oldIndexFiles = [...index.files];
    await saveIndexFiles(repo, [...keep, ...written], options.signal, oldIndexFiles);
    await options.afterStep?.('index');
    // 3. old index files
    for (const id of oldIndexFiles) {
      throwIfAborted(lockSignal);
      await repo.backend.remove({ type: 'index', name: id }, signalOpt);
    }
    await options.afterStep?.('remove-index');
    // 4. obsolete packs
    for (const id of [...removePacks, ...repack.map((p) => p.packId)]) {
      throwIfAborted(lockSignal);
      await repo.backend.remove({ type: 'data', name: id }, signalOpt);
    }
    await options.afterStep?.('remove-packs');
    repo.dropIndexCache();
    return result;
  });
}

function sumLengths(blobs: readonly PackedBlob[]): number {
  let n = 0;
  for (const b of blobs) n += b.length;
  return n;
}

function usedCount(blobs: readonly { id: Id; type: 'data' | 'tree' }[], used: Set<string>): number {
  let n = 0;
  for (const b of blobs) if (used.has(MasterIndex.key(b.type, b.id))) n++;
  return n === blobs.length ? Number.MAX_SAFE_INTEGER : n;
}
