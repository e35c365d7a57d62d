import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ExternalMemoryCollector, externalMemoryDecision } from './external-memory-gc.ts';
import type { CollectionType } from './gc-on-demand.ts';

const MiB = 1024 * 1024;

it('decides on a table: a collection only when memory grew by the bound over its floor, the floor its lowest since', () => {
  const inf = Number.POSITIVE_INFINITY;
  const table: [floor: number, external: number, collect: boolean, floorAfter: number][] = [
    [inf, 50 * MiB, false, 50 * MiB], // the first look sets the floor
    [50 * MiB, 60 * MiB, false, 50 * MiB],
    [50 * MiB, 40 * MiB, false, 40 * MiB], // lower: the floor follows it down
    [40 * MiB, 40 * MiB + 24 * MiB - 1, false, 40 * MiB],
    [40 * MiB, 64 * MiB, true, inf], // grown by 24 MiB: collect, and measure the floor again
    [inf, 63 * MiB, false, 63 * MiB], // just after: V8 has not freed the memory yet, no second collection
  ];
  for (const [floor, external, collect, floorAfter] of table) {
    assert.deepEqual(externalMemoryDecision(floor, external, 24 * MiB), { collect, floorBytes: floorAfter }, `floor ${floor}, external ${external}`);
  }
});

it('collects a stream whose Buffers pile up, and not one whose memory stays level', () => {
  const runs: CollectionType[] = [];
  let external = 30 * MiB;
  const gc = new ExternalMemoryCollector({ growthBytes: 8 * MiB, measure: () => external, collect: (t) => runs.push(t) });
  for (let i = 0; i < 100; i++) gc.check();
  assert.deepEqual(runs, [], 'level memory: no collection');
  // 1 MiB of garbage a look; a collection frees it (seen at the next look).
  for (let i = 0; i < 40; i++) {
    external += MiB;
    const before = runs.length;
    gc.check();
    if (runs.length > before) external = 30 * MiB;
  }
  assert.equal(runs.length, 4, `one full collection per 8 MiB of growth: ${runs.join(',')}`);
  assert.ok(runs.every((t) => t === 'major'));
  assert.equal(gc.collections, 4);
});

it('takes memory a stream keeps as its new floor instead of collecting at every look', () => {
  const runs: CollectionType[] = [];
  let external = 30 * MiB;
  const gc = new ExternalMemoryCollector({ growthBytes: 8 * MiB, measure: () => external, collect: (t) => runs.push(t) });
  gc.check();
  external = 60 * MiB; // a large statement held, not garbage
  for (let i = 0; i < 50; i++) gc.check();
  assert.equal(runs.length, 1, 'one collection, then 60 MiB is the floor');
});

it('measures real memory outside the heap by default', () => {
  const runs: CollectionType[] = [];
  const gc = new ExternalMemoryCollector({ growthBytes: 8 * MiB, collect: (t) => runs.push(t) });
  gc.check();
  const held = Array.from({ length: 16 }, (_, i) => Buffer.alloc(MiB, i));
  gc.check();
  assert.equal(runs.length, 1, 'the 16 MiB of Buffers were seen');
  assert.equal(held.length, 16);
});
