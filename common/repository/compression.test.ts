import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ONE_PIECE_MAX_BYTES, compress, compressSync, decompress, decompressSync } from './compression.ts';
import { ErrorCodes, isSidestashError } from '../errors.ts';

// The frame's output buffer holds a quarter of the input (compression.ts): incompressible data
// comes back from the thread pool in several pieces, which must join into one valid frame.
for (const [name, data] of [
  ['incompressible (several output pieces)', randomBytes(1024 * 1024 + 17)],
  ['compressible (one piece)', Buffer.alloc(3 * 1024 * 1024, 'insert into t values (1);\n')],
  ['small (a tree)', Buffer.from('{"nodes":[]}\n')],
  ['empty', Buffer.alloc(0)],
] as const) {
  test(`zstd frames round-trip: ${name}`, async () => {
    const frame = await compress(data);
    assert.deepEqual(await decompress(frame, data.length, 'blob'), data);
    assert.deepEqual(decompressSync(compressSync(data), data.length, 'blob'), data);
    assert.deepEqual(decompressSync(frame, data.length, 'blob'), data);
  });
}

// The length a blob decompresses to comes from the index (untrusted). The output buffer was
// allocated at that size before anything was decompressed: 2 GiB for a frame of 5 bytes.
test('a decompressed length claimed by the index allocates no more than one piece up front', async () => {
  const frame = await compress(Buffer.from('hello'));
  const allocUnsafe = Buffer.allocUnsafe;
  let largest = 0;
  Buffer.allocUnsafe = (size: number) => {
    largest = Math.max(largest, size);
    return allocUnsafe.call(Buffer, size);
  };
  try {
    for (const claimed of [2 ** 31, 64 * 1024 * 1024]) {
      await assert.rejects(decompress(frame, claimed, 'blob'), (err) => isSidestashError(err, ErrorCodes.CORRUPT_FILE));
      assert.throws(() => decompressSync(frame, claimed, 'blob'), (err) => isSidestashError(err, ErrorCodes.CORRUPT_FILE));
    }
  } finally {
    Buffer.allocUnsafe = allocUnsafe;
  }
  assert.ok(largest <= ONE_PIECE_MAX_BYTES, `allocated ${largest} bytes`);
  // A genuine output past one piece comes in several and is joined.
  const big = Buffer.alloc(ONE_PIECE_MAX_BYTES * 2 + 5, 'row,');
  assert.deepEqual(await decompress(await compress(big), big.length, 'blob'), big);
  assert.deepEqual(decompressSync(compressSync(big), big.length, 'blob'), big);
});
