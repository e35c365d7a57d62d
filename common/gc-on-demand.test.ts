import assert from 'node:assert/strict';
import { it } from 'node:test';
import { StreamGarbageCollector, collectGarbage } from './gc-on-demand.ts';

it('frees dead young Buffers on demand without exposing gc() to other code', async () => {
  collectGarbage('minor');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  // Deno offers no gc() to call and reports no Buffer memory: there the call is a no-op.
  if ('Deno' in globalThis) return;
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 256; i++) Buffer.alloc(64 * 1024).fill(i); // 16 MiB, dead at once
  assert.ok(process.memoryUsage().arrayBuffers >= before + 8 * 1024 * 1024, 'the Buffers are still counted before a collection');
  collectGarbage('minor');
  // V8 sweeps the freed Buffers' memory on a background thread just after the collection.
  let after = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 100 && after >= before + 4 * 1024 * 1024; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    after = process.memoryUsage().arrayBuffers;
  }
  assert.ok(after < before + 4 * 1024 * 1024, `a young collection frees them: ${before} -> ${after}`);
});

it('collects by intervals of bytes, young and full', () => {
  const c = new StreamGarbageCollector({ minorEveryBytes: 10, majorEveryBytes: 40 });
  for (let i = 0; i < 100; i++) c.passed(1); // runs both kinds, and never throws
  collectGarbage('major');
});
