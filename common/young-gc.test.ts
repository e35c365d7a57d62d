import assert from 'node:assert/strict';
import { it } from 'node:test';
import { YoungGarbageCollector, collectYoungGarbage } from './young-gc.ts';

it('frees dead young Buffers on demand without exposing gc() to other code', async () => {
  collectYoungGarbage();
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  // Deno offers no gc() to call and reports no Buffer memory: there the call is a no-op.
  if ('Deno' in globalThis) return;
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 256; i++) Buffer.alloc(64 * 1024).fill(i); // 16 MiB, dead at once
  assert.ok(process.memoryUsage().arrayBuffers >= before + 8 * 1024 * 1024, 'the Buffers are still counted before a collection');
  collectYoungGarbage();
  // V8 sweeps the freed Buffers' memory on a background thread just after the collection.
  let after = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 100 && after >= before + 4 * 1024 * 1024; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    after = process.memoryUsage().arrayBuffers;
  }
  assert.ok(after < before + 4 * 1024 * 1024, `a young collection frees them: ${before} -> ${after}`);
});

it('collects once per interval of bytes', () => {
  const c = new YoungGarbageCollector(10);
  for (let i = 0; i < 25; i++) c.passed(1); // two collections, no error either way
});
