import assert from 'node:assert/strict';
import { it } from 'node:test';
import { StreamGarbageCollector, canCollectGarbage, collectGarbage } from './gc-on-demand.ts';
import type { CollectionType } from './gc-on-demand.ts';

const isDeno = 'Deno' in globalThis;

it('reaches gc() (Node and Deno alike) without exposing it to other code', () => {
  assert.equal(canCollectGarbage(), true);
  collectGarbage('minor');
  collectGarbage('major');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
});

it('frees dead young Buffers on demand', { skip: isDeno ? 'Deno reports no Buffer memory in process.memoryUsage().arrayBuffers' : false }, async () => {
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

it('collects by intervals of bytes: young every minorEveryBytes, full every majorEveryBytes', () => {
  const runs: CollectionType[] = [];
  const c = new StreamGarbageCollector({ minorEveryBytes: 10, majorEveryBytes: 40, collect: (t) => runs.push(t) });
  c.passed(9);
  assert.deepEqual(runs, []);
  c.passed(1); // 10
  assert.deepEqual(runs, ['minor']);
  c.passed(25); // 35: one young collection at 20 and no more, the counter resets on each
  assert.deepEqual(runs, ['minor', 'minor']);
  c.passed(5); // 40: the full collection resets both counters
  assert.deepEqual(runs, ['minor', 'minor', 'major']);
  c.passed(9);
  assert.deepEqual(runs, ['minor', 'minor', 'major']);
  c.passed(1);
  assert.deepEqual(runs, ['minor', 'minor', 'major', 'minor']);
});
