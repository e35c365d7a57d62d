// check: verify the repository's structure and, with readData, every byte of every pack, or
// with readDataSubset those of a subset (restic check [--read-data | --read-data-subset n/m|x%]). Problems are collected, not thrown, so one run reports all.
import type { CallOptions } from '../backend/backend.ts';
import { ErrorCodes, SidestashError, errorMessage, throwIfAborted } from '../errors.ts';
import { decompress } from './compression.ts';
import { CRYPTO_OVERHEAD, decrypt } from './crypto.ts';
import { sha256Hex } from './ids.ts';
import type { Id } from './ids.ts';
import { withLock } from './lock.ts';
import { MasterIndex } from './master-index.ts';
import { readHeaderFromPack } from './pack.ts';
import type { PackedBlob } from './pack.ts';
import { parseReadDataSubset, selectPacks } from './read-data-subset.ts';
import type { Repository } from './repository.ts';
import { listSnapshots } from './snapshot.ts';
import type { Snapshot } from './snapshot.ts';
import { collectUsedBlobs } from './tree-walk.ts';

export interface CheckOptions extends CallOptions {
  readData?: boolean;
  /** restic's "n/m" or "x%" (read-data-subset.ts); not together with readData. */
  readDataSubset?: string;
}

export interface CheckReport {
  errors: string[];
  /** Not errors: e.g. packs no index references (left by interrupted backups; prune removes them). */
  warnings: string[];
  snapshots: number;
  packs: number;
  blobs: number;
  packsRead: number;
}

function expectedPackSize(blobs: readonly PackedBlob[]): number {
  let size = 4 + CRYPTO_OVERHEAD;
  for (const b of blobs) size += b.length + (b.uncompressedLength === undefined ? 37 : 41);
  return size;
}

export async function check(repo: Repository, options: CheckOptions = {}): Promise<CheckReport> {
  // Refused before the lock is taken, as restic refuses its flags.
  if (options.readData && options.readDataSubset !== undefined) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'read all data or a subset of it, not both');
  const subset = options.readDataSubset === undefined ? undefined : parseReadDataSubset(options.readDataSubset);
  const signalOpt = options.signal ? { signal: options.signal } : {};
  return withLock(repo, false, signalOpt, async (lockSignal) => {
    const signalOpt = { signal: lockSignal };
    options = { ...options, signal: lockSignal };
    const report: CheckReport = { errors: [], warnings: [], snapshots: 0, packs: 0, blobs: 0, packsRead: 0 };
    repo.dropIndexCache();
    let index: MasterIndex;
    try {
      index = await repo.index(signalOpt);
    } catch (err) {
      report.errors.push(`index: ${errorMessage(err)}`);
      return report;
    }
    report.blobs = index.blobCount;
    const onDisk = new Map<Id, number>();
    for await (const f of repo.backend.list('data', signalOpt)) onDisk.set(f.name, f.sizeBytes);
    for (const [packId, blobs] of index.packs()) {
      report.packs++;
      const size = onDisk.get(packId);
      if (size === undefined) report.errors.push(`pack ${packId}: in index but missing from the repository`);
      else if (size !== expectedPackSize(blobs)) report.errors.push(`pack ${packId}: size ${size} does not match the ${expectedPackSize(blobs)} its index entries need`);
    }
    for (const packId of onDisk.keys()) {
      if (!index.packs().has(packId)) report.warnings.push(`pack ${packId}: not referenced in any index`);
    }

    let snapshots: Snapshot[];
    try {
      snapshots = await listSnapshots(repo, signalOpt);
    } catch (err) {
      report.errors.push(`snapshots: ${errorMessage(err)}`);
      snapshots = [];
    }
    report.snapshots = snapshots.length;
    await collectUsedBlobs(
      repo,
      snapshots,
      {
        onFile(node, treeId) {
          let size = 0;
          let missing = false;
          for (const id of node.content ?? []) {
            const loc = index.lookup('data', id);
            if (!loc) {
              missing = true;
              report.errors.push(`tree ${treeId}: file ${JSON.stringify(node.name)} blob ${id} not found in index`);
            } else size += loc.uncompressedLength ?? loc.length - CRYPTO_OVERHEAD;
          }
          if (node.content === null) report.errors.push(`tree ${treeId}: file ${JSON.stringify(node.name)} has no content list`);
          else if (!missing && node.size !== undefined && node.size !== size) {
            report.errors.push(`tree ${treeId}: file ${JSON.stringify(node.name)} size ${node.size} but its blobs hold ${size} bytes`);
          }
        },
        onTreeError(treeId, err) {
          report.errors.push(`tree ${treeId}: ${errorMessage(err)}`);
        },
      },
      signalOpt,
    );

    if (options.readData || subset) {
      // As restic, the subset is taken from the packs the index lists (missing ones are reported above).
      const packs = index.packs();
      const toRead = subset ? selectPacks(packs.keys(), subset) : [...packs.keys()];
      for (const packId of toRead) {
        throwIfAborted(options.signal);
        if (!onDisk.has(packId)) continue;
        report.packsRead++;
        for (const e of await checkPack(repo, packId, packs.get(packId)!, signalOpt)) report.errors.push(`pack ${packId}: ${e}`);
      }
    }
    return report;
  });
}

/** Reads a whole pack and verifies its hash, header, index agreement and every blob. */
export async function checkPack(repo: Repository, packId: Id, indexed: readonly PackedBlob[], options: CallOptions = {}): Promise<string[]> {
  const errors: string[] = [];
  const bytes = await repo.backend.load({ type: 'data', name: packId }, options);
  if (sha256Hex(bytes) !== packId) errors.push('content does not match its name');
  let header: PackedBlob[];
  try {
    header = readHeaderFromPack(repo.key, bytes, packId);
  } catch (err) {
    errors.push(errorMessage(err));
    return errors;
  }
  const byKey = new Map(header.map((b) => [MasterIndex.key(b.type, b.id) + b.offset, b]));
  for (const b of indexed) {
    const h = byKey.get(MasterIndex.key(b.type, b.id) + b.offset);
    if (!h || h.length !== b.length || h.uncompressedLength !== b.uncompressedLength) {
      errors.push(`${b.type} blob ${b.id} at offset ${b.offset}: index does not match the pack header`);
    }
  }
  for (const b of header) {
    try {
      let plain = decrypt(repo.key, bytes.subarray(b.offset, b.offset + b.length), `${b.type} blob ${b.id}`);
      if (b.uncompressedLength !== undefined) plain = await decompress(plain, b.uncompressedLength, `${b.type} blob ${b.id}`);
      if (sha256Hex(plain) !== b.id) errors.push(`${b.type} blob ${b.id}: content does not match its id`);
    } catch (err) {
      errors.push(errorMessage(err));
    }
  }
  return errors;
}
