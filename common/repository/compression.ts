// zstd for blobs and unpacked files (repository format version 2). The async variants run
// on libuv's thread pool, so compression overlaps chunking and hashing on the main thread.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ErrorCodes, SidestashError } from '../errors.ts';

/**
 * zstd level 1. restic's "auto" mode is roughly level 3; on mariadb-dump output level 1 is
 * ~2.5x cheaper in CPU and stores no more (measured on a 390 MiB dump: 79.4 MiB at level 1,
 * 80.8 MiB at level 3), which matters in a sidecar that shares two cores with the database.
 * Any level is readable by restic: the format stores plain zstd frames.
 */
export const ZSTD_LEVEL = 1;

/**
 * Options for one frame of `n` input bytes: the size is pledged (zstd sizes its tables to it
 * and records it in the frame header), and the output buffer holds a quarter of the input (at
 * least 64 KiB, at most the worst case): a dump compresses ~5x, so the thread pool still
 * returns its frame in one piece, while a frame that does not fit comes in several and is
 * joined. It held the worst case (compressBound) before: a buffer the size of the chunk for
 * each blob, of which the frame used a fifth, ~200 MiB of memory outside V8's heap allocated
 * and dropped for a 196 MiB dump, which the writer's collections then had to free (measured,
 * bench/backup-session-cpu.ts, --trace-gc, one run each on a loaded machine: main-thread
 * collections 877 -> 696 ms, full ones 39 -> 33).
 */
function compressOptions(n: number): zlib.ZstdOptions {
  return {
    params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
    pledgedSrcSize: n,
    chunkSize: Math.max(zlib.constants.Z_MIN_CHUNK, Math.min(compressBound(n), Math.max(MIN_OUTPUT_BYTES, Math.ceil(n / 4)))),
  };
}

/** The smallest output buffer for a frame (small blobs: trees, short tails). */
const MIN_OUTPUT_BYTES = 64 * 1024;

/** ZSTD_COMPRESSBOUND, the largest frame zstd can make of `n` bytes, with 64 bytes to spare. */
function compressBound(n: number): number {
  return n + (n >>> 8) + (n < 128 * 1024 ? (128 * 1024 - n) >>> 11 : 0) + 64;
}

/**
 * Decompression output in one piece when the length is known (blobs record it) and at most
 * ONE_PIECE_MAX_BYTES (a data blob, a chunk, always is). The length comes from an index, which
 * is untrusted: the output buffer is allocated before a byte is decompressed, so a length of
 * gigabytes claimed for a frame of a few bytes allocated gigabytes (counted outside V8's heap,
 * driving the collectors, refused where memory is not overcommitted); past the bound the output
 * comes in pieces of that size and is joined, so memory follows what the frame holds.
 */
function decompressOptions(expectedLength: number | undefined): zlib.ZstdOptions {
  if (expectedLength === undefined) return {};
  return { maxOutputLength: Math.max(1, expectedLength + 1), chunkSize: Math.max(zlib.constants.Z_MIN_CHUNK, Math.min(expectedLength + 1, ONE_PIECE_MAX_BYTES)) };
}

/** The largest output buffer allocated up front for a decompression: a chunk's (MAX_CHUNK_BYTES), and the byte that shows an overrun. */
export const ONE_PIECE_MAX_BYTES = 8 * 1024 * 1024 + 1;

const zstdCompressAsync = promisify(zlib.zstdCompress);
const zstdDecompressAsync = promisify(zlib.zstdDecompress);

export function compressSync(data: Uint8Array): Buffer {
  return zlib.zstdCompressSync(data, compressOptions(data.length));
}

export function compress(data: Uint8Array): Promise<Buffer> {
  return zstdCompressAsync(data, compressOptions(data.length));
}

export function decompressSync(data: Uint8Array, expectedLength: number | undefined, what: string): Buffer {
  try {
    const out = zlib.zstdDecompressSync(data, decompressOptions(expectedLength));
    checkLength(out, expectedLength, what);
    return out;
  } catch (err) {
    throw decompressError(err, what);
  }
}

export async function decompress(data: Uint8Array, expectedLength: number | undefined, what: string): Promise<Buffer> {
  let out: Buffer;
  try {
    out = await zstdDecompressAsync(data, decompressOptions(expectedLength));
  } catch (err) {
    throw decompressError(err, what);
  }
  checkLength(out, expectedLength, what);
  return out;
}

function checkLength(out: Buffer, expectedLength: number | undefined, what: string): void {
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new SidestashError(ErrorCodes.CORRUPT_FILE, `${what}: decompressed to ${out.length} bytes, expected ${expectedLength}`);
  }
}

function decompressError(err: unknown, what: string): unknown {
  if (err instanceof SidestashError) return err;
  return new SidestashError(ErrorCodes.CORRUPT_FILE, `${what}: zstd decompression failed: ${(err as Error).message}`, { cause: err });
}
