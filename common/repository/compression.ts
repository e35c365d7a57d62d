// zstd for blobs and unpacked files (repository format version 2). The async variants run
// on libuv's thread pool, so compression overlaps chunking and hashing on the main thread.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ErrorCodes, SidestashError } from '../errors.ts';

/** restic's default ("auto") level corresponds to zstd's default level 3. */
export const ZSTD_LEVEL = 3;
const compressOptions = { params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } };
const zstdCompressAsync = promisify(zlib.zstdCompress);
const zstdDecompressAsync = promisify(zlib.zstdDecompress);

export function compressSync(data: Uint8Array): Buffer {
  return zlib.zstdCompressSync(data, compressOptions);
}

export function compress(data: Uint8Array): Promise<Buffer> {
  return zstdCompressAsync(data, compressOptions);
}

export function decompressSync(data: Uint8Array, expectedLength: number | undefined, what: string): Buffer {
  try {
    const out = zlib.zstdDecompressSync(data, expectedLength === undefined ? {} : { maxOutputLength: expectedLength + 1 });
    checkLength(out, expectedLength, what);
    return out;
  } catch (err) {
    throw decompressError(err, what);
  }
}

export async function decompress(data: Uint8Array, expectedLength: number | undefined, what: string): Promise<Buffer> {
  let out: Buffer;
  try {
    out = await zstdDecompressAsync(data, expectedLength === undefined ? {} : { maxOutputLength: Math.max(1, expectedLength + 1) });
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
