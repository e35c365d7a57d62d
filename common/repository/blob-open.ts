// One stored blob to its plaintext: the MAC verified before anything is decrypted, then
// decrypted, decompressed when the index says it is compressed, and its SHA-256 compared with
// its id. Repository.loadBlob and the run reader (blob-run-reader.ts) both open blobs here, so
// that every path that reads a blob checks the same things.
//
// All on the main thread but zstd (the thread pool): SHA-256 by crypto.subtle.digest (the thread
// pool too) cost more CPU in total (a restore of the 192 MiB benchmark dump: 2.10-2.16 against
// 1.63-1.99 CPU-s, the input is copied for the job) and up to 11 MiB more peak RSS, and was no
// faster, as the main thread is idle most of a restore (the server is the bottleneck); zstd on
// the main thread (decompressSync) took ~0.1 CPU-s less per 200 MiB but made restores slower.
import { ErrorCodes, SidestashError } from '../errors.ts';
import { decompress } from './compression.ts';
import { decrypt } from './crypto.ts';
import type { MasterKey } from './crypto.ts';
import { sha256Hex } from './ids.ts';
import type { Id } from './ids.ts';
import type { BlobType } from './pack.ts';

export interface StoredBlob {
  id: Id;
  type: BlobType;
  packId: Id;
  uncompressedLength?: number | undefined;
}

/** The verified plaintext of `sealed` (IV || ciphertext || MAC); CORRUPT_PACK when any check fails. */
export async function openBlob(key: MasterKey, blob: StoredBlob, sealed: Uint8Array): Promise<Buffer> {
  const what = `${blob.type} blob ${blob.id} in pack ${blob.packId}`;
  let plain: Buffer;
  try {
    plain = decrypt(key, sealed, what);
    if (blob.uncompressedLength !== undefined) plain = await decompress(plain, blob.uncompressedLength, what);
  } catch (err) {
    throw new SidestashError(ErrorCodes.CORRUPT_PACK, `${what}: ${(err as Error).message}`, { cause: err, details: { packId: blob.packId, blobId: blob.id } });
  }
  if (sha256Hex(plain) !== blob.id) {
    throw new SidestashError(ErrorCodes.CORRUPT_PACK, `${what}: content does not match its id`, { details: { packId: blob.packId, blobId: blob.id } });
  }
  return plain;
}
