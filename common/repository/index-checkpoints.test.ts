import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexCheckpoints, checkpointDue } from './index-checkpoints.ts';
import type { PackEntry } from './master-index.ts';

const policy = { everyPacks: 10, everyMs: 30_000 };

describe('checkpointDue (10 packs or 30 s)', () => {
  const cases: [string, number, number, boolean][] = [
    ['nothing to index, however long', 0, 3_600_000, false],
    ['one pack, just started', 1, 0, false],
    ['nine packs within 30 s', 9, 29_999, false],
    ['ten packs', 10, 0, true],
    ['one pack after 30 s (a thin link)', 1, 30_000, true],
  ];
  for (const [name, packs, ms, due] of cases) it(name, () => assert.equal(checkpointDue(policy, packs, ms), due));
});

const pack = (n: number): PackEntry => ({ packId: `p${n}`, blobs: [] });

describe('IndexCheckpoints', () => {
  it('writes every 10 packs, each pack once, and hands the rest to the final index', async () => {
    const files: string[][] = [];
    const c = new IndexCheckpoints(async (packs) => (files.push(packs.map((p) => p.packId)), [`i${files.length}`]), policy, undefined, () => 0);
    for (let i = 1; i <= 23; i++) c.packStored(pack(i));
    const rest = await c.takeUnindexed();
    assert.deepEqual(files.map((f) => f.length), [10, 10]);
    assert.deepEqual(rest.map((p) => p.packId), ['p21', 'p22', 'p23']);
    assert.deepEqual(c.written, ['i1', 'i2']);
    assert.equal(c.indexedPacks, 20);
  });

  it('writes after 30 s with fewer packs', async () => {
    let now = 0;
    const files: number[] = [];
    const c = new IndexCheckpoints(async (packs) => (files.push(packs.length), ['x']), policy, undefined, () => now);
    c.packStored(pack(1));
    now = 30_000;
    c.packStored(pack(2));
    assert.deepEqual(await c.takeUnindexed(), []);
    assert.deepEqual(files, [2]);
  });

  it('a failed write gives its packs back for the final index', async () => {
    let fail = true;
    const c = new IndexCheckpoints(async (packs) => {
      if (fail) throw new Error('backend down');
      return [`i${packs.length}`];
    }, policy, undefined, () => 0);
    for (let i = 1; i <= 12; i++) c.packStored(pack(i));
    assert.deepEqual((await c.takeUnindexed()).map((p) => p.packId), ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'p10', 'p11', 'p12']);
    fail = false;
    c.packStored(pack(13));
    await c.indexRemaining(AbortSignal.timeout(1000));
    assert.deepEqual(c.written, ['i1']);
  });
});
