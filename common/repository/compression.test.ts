import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { compress, compressSync, decompress, decompressSync } from './compression.ts';

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
