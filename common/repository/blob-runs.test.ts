// The run plan on tables: which blobs are read together, where each lies in its run.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { planBlobRuns } from './blob-runs.ts';
import type { BlobLocation } from './master-index.ts';

const at = (id: string, packId: string, offset: number, length: number, uncompressedLength?: number): BlobLocation => ({ id, type: 'data', packId, offset, length, ...(uncompressedLength !== undefined ? { uncompressedLength } : {}) });
/** A plan as "pack@offset+length[id@offset,...]" strings. */
const shape = (locations: BlobLocation[], max?: number): string[] => planBlobRuns(locations, max).map((r) => `${r.packId}@${r.offset}+${r.length}[${r.blobs.map((b) => `${b.id}@${b.offset}`).join(',')}]`);

it('groups blobs that lie back to back in one pack, in the file\'s order', () => {
  const cases: { name: string; in: BlobLocation[]; max?: number; out: string[] }[] = [
    { name: 'nothing', in: [], out: [] },
    { name: 'one blob', in: [at('a', 'P', 0, 10)], out: ['P@0+10[a@0]'] },
    { name: 'three adjacent', in: [at('a', 'P', 0, 10), at('b', 'P', 10, 5), at('c', 'P', 15, 7)], out: ['P@0+22[a@0,b@10,c@15]'] },
    { name: 'a gap starts a run', in: [at('a', 'P', 0, 10), at('b', 'P', 11, 5)], out: ['P@0+10[a@0]', 'P@11+5[b@0]'] },
    { name: 'another pack starts a run', in: [at('a', 'P', 0, 10), at('b', 'Q', 10, 5)], out: ['P@0+10[a@0]', 'Q@10+5[b@0]'] },
    { name: 'backwards (a repeated blob) starts a run', in: [at('a', 'P', 0, 10), at('b', 'P', 10, 5), at('a', 'P', 0, 10)], out: ['P@0+15[a@0,b@10]', 'P@0+10[a@0]'] },
    { name: 'the bound ends a run', in: [at('a', 'P', 0, 10), at('b', 'P', 10, 10), at('c', 'P', 20, 10)], max: 20, out: ['P@0+20[a@0,b@10]', 'P@20+10[c@0]'] },
    { name: 'a blob over the bound is a run alone', in: [at('a', 'P', 0, 5), at('b', 'P', 5, 50), at('c', 'P', 55, 5)], max: 20, out: ['P@0+5[a@0]', 'P@5+50[b@0]', 'P@55+5[c@0]'] },
  ];
  for (const c of cases) assert.deepEqual(shape(c.in, c.max), c.out, c.name);
});

it('keeps each blob\'s stored and uncompressed lengths', () => {
  const [run] = planBlobRuns([at('a', 'P', 100, 10, 40), at('b', 'P', 110, 6)]);
  assert.deepEqual(run!.blobs, [{ id: 'a', offset: 0, length: 10, uncompressedLength: 40 }, { id: 'b', offset: 10, length: 6 }]);
});
