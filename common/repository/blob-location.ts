// What an index entry may say about where a blob lies, checked before anything is read for it.
// An index file is written by whoever holds the repository password, so its numbers are
// untrusted: an offset or length that is not a whole number of bytes (a string, a fraction, NaN,
// a negative), past what a pack header can say (u32 lengths), or, for a data blob, past what
// any chunker makes (restic's and ours cut at most MAX_CHUNK_BYTES), would otherwise reach
// arithmetic and allocations: the run reader (blob-run-reader.ts) adds the lengths of a run's
// blobs, so one lying entry failed its neighbour with that neighbour's id, and the backend was
// asked for gigabytes. Such an entry is the blob's own CORRUPT_PACK, raised where it stands.
// Pure.
import { MAX_CHUNK_BYTES } from './chunker.ts';
import { CRYPTO_OVERHEAD } from './crypto.ts';
import type { BlobType } from './pack.ts';

/** A pack header records each blob's lengths as u32. */
export const MAX_PACKED_BYTES = 0xffff_ffff;
/** A data blob's stored bytes at most: a chunk, zstd's worst case for it (compressBound), IV and MAC, and room to spare. */
export const MAX_DATA_BLOB_STORED_BYTES = MAX_CHUNK_BYTES + 64 * 1024;

export interface BlobPlace {
  type: BlobType;
  offset: unknown;
  length: unknown;
  uncompressedLength?: unknown;
}

const isBytes = (n: unknown, min: number, max: number): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max;

/** Why `loc` cannot be a stored blob, or undefined when it can. */
export function blobPlaceProblem(loc: BlobPlace): string | undefined {
  const dataBlob = loc.type === 'data';
  if (!isBytes(loc.offset, 0, Number.MAX_SAFE_INTEGER)) return `index gives offset ${String(loc.offset)}, not a byte offset`;
  const maxStored = dataBlob ? MAX_DATA_BLOB_STORED_BYTES : MAX_PACKED_BYTES;
  if (!isBytes(loc.length, CRYPTO_OVERHEAD, maxStored)) return `index gives length ${String(loc.length)}, not ${CRYPTO_OVERHEAD}..${maxStored} bytes`;
  if (loc.uncompressedLength !== undefined) {
    const maxPlain = dataBlob ? MAX_CHUNK_BYTES : MAX_PACKED_BYTES;
    if (!isBytes(loc.uncompressedLength, 0, maxPlain)) return `index gives uncompressed length ${String(loc.uncompressedLength)}, not 0..${maxPlain} bytes`;
  }
  return undefined;
}
