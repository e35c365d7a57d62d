// The in-memory index: blob id -> pack location, built from all index files (index/<id>),
// and the JSON shape of those files.
import { ErrorCodes, SidestashError } from '../errors.ts';
import type { Id } from './ids.ts';
import type { BlobType, PackedBlob } from './pack.ts';

export interface IndexFileJson {
  supersedes?: Id[];
  packs: { id: Id; blobs: { id: Id; type: BlobType; offset: number; length: number; uncompressed_length?: number }[] }[];
}

export interface BlobLocation extends PackedBlob {
  packId: Id;
}

export interface PackEntry {
  packId: Id;
  blobs: PackedBlob[];
}

/** Packs per index file: keeps files well under restic's 8 MiB guideline. */
export const PACKS_PER_INDEX_FILE = 2000;

export function encodeIndexFile(packs: readonly PackEntry[], supersedes: readonly Id[] = []): IndexFileJson {
  const json: IndexFileJson = {
    packs: packs.map((p) => ({
      id: p.packId,
      blobs: p.blobs.map((b) => {
        const e: IndexFileJson['packs'][number]['blobs'][number] = { id: b.id, type: b.type, offset: b.offset, length: b.length };
        if (b.uncompressedLength !== undefined) e.uncompressed_length = b.uncompressedLength;
        return e;
      }),
    })),
  };
  if (supersedes.length > 0) json.supersedes = [...supersedes];
  return json;
}

export class MasterIndex {
  readonly #blobs = new Map<string, BlobLocation>();
  readonly #packs = new Map<Id, PackedBlob[]>();
  /** Index file ids this index was built from. */
  readonly files = new Set<Id>();
  /** Packs added by this process's writes (addPack), not read from an index file. */
  addedPacks = 0;

  static key(type: BlobType, id: Id): string {
    return type === 'tree' ? `t${id}` : id;
  }

  addFile(fileId: Id, json: unknown): void {
    const j = json as Partial<IndexFileJson> | null;
    if (!j || !Array.isArray(j.packs)) {
      throw new SidestashError(ErrorCodes.CORRUPT_FILE, `index ${fileId}: missing "packs"`);
    }
    for (const p of j.packs) {
      if (typeof p?.id !== 'string' || !Array.isArray(p.blobs)) {
        throw new SidestashError(ErrorCodes.CORRUPT_FILE, `index ${fileId}: malformed pack entry`);
      }
      this.#add({
        packId: p.id,
        blobs: p.blobs.map((b) => {
          const blob: PackedBlob = { id: b.id, type: b.type, offset: b.offset, length: b.length };
          if (b.uncompressed_length !== undefined) blob.uncompressedLength = b.uncompressed_length;
          return blob;
        }),
      });
    }
    this.files.add(fileId);
  }

  /** A pack this process stored. */
  addPack(entry: PackEntry): void {
    this.addedPacks++;
    this.#add(entry);
  }

  #add(entry: PackEntry): void {
    this.#packs.set(entry.packId, entry.blobs);
    for (const b of entry.blobs) {
      const k = MasterIndex.key(b.type, b.id);
      if (!this.#blobs.has(k)) this.#blobs.set(k, { ...b, packId: entry.packId });
    }
  }

  lookup(type: BlobType, id: Id): BlobLocation | undefined {
    return this.#blobs.get(MasterIndex.key(type, id));
  }

  has(type: BlobType, id: Id): boolean {
    return this.#blobs.has(MasterIndex.key(type, id));
  }

  packs(): ReadonlyMap<Id, PackedBlob[]> {
    return this.#packs;
  }

  get blobCount(): number {
    return this.#blobs.size;
  }
}
