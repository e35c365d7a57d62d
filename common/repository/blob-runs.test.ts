// The run plan on tables: which blobs are read together, where each lies in its run, and its
// place in the file.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { planBlobRuns } from './blob-runs.ts';
import type { BlobLocation } from './master-index.ts';

const at = (id: string, packId: string, offset: number, length: number, uncompressedLength?: number): BlobLocation => ({ id, type: 'data', packId, offset, length, ...(uncompressedLength !== undefined ? { uncompressedLength } : {}) });
/** A plan as "pack@offset+length[id#position@offset,...]" strings. */
const shape = (locations: BlobLocation[], max?: number, window?: number, first?: number): string[] =>
  planBlobRuns(locations, max, window, first).map((r) => `${r.packId}@${r.offset}+${r.length}[${r.blobs.map((b) => `${b.id}#${b.position}@${b.offset}`).join(',')}]`);

it('groups blobs that lie back to back in one pack within a window of the file, runs in the order of their first blob', () => {
  const cases: { name: string; in: BlobLocation[]; max?: number; window?: number; first?: number; out: string[] }[] = [
    { name: 'nothing', in: [], out: [] },
    { name: 'one blob', in: [at('a', 'P', 0, 10)], out: ['P@0+10[a#0@0]'] },
    { name: 'three adjacent', in: [at('a', 'P', 0, 10), at('b', 'P', 10, 5), at('c', 'P', 15, 7)], out: ['P@0+22[a#0@0,b#1@10,c#2@15]'] },
    { name: 'positions start at first', in: [at('a', 'P', 0, 10), at('b', 'P', 10, 5)], first: 40, out: ['P@0+15[a#40@0,b#41@10]'] },
    { name: 'a gap starts a run', in: [at('a', 'P', 0, 10), at('b', 'P', 11, 5)], out: ['P@0+10[a#0@0]', 'P@11+5[b#1@0]'] },
    { name: 'another pack starts a run', in: [at('a', 'P', 0, 10), at('b', 'Q', 10, 5)], out: ['P@0+10[a#0@0]', 'Q@10+5[b#1@0]'] },
    { name: 'a blob overtaken in its pack is still read with its neighbours', in: [at('a', 'P', 0, 10), at('b', 'P', 15, 7), at('c', 'P', 10, 5)], out: ['P@0+22[a#0@0,c#2@10,b#1@15]'] },
    { name: 'runs come in the order of their first blob in the file', in: [at('a', 'Q', 0, 10), at('b', 'P', 0, 5), at('c', 'Q', 10, 5)], out: ['Q@0+15[a#0@0,c#2@10]', 'P@0+5[b#1@0]'] },
    { name: 'a repeated blob is read again', in: [at('a', 'P', 0, 10), at('b', 'P', 10, 5), at('a', 'P', 0, 10)], out: ['P@0+10[a#0@0]', 'P@0+15[a#2@0,b#1@10]'] },
    { name: 'the window bounds a run', in: [at('a', 'P', 0, 10), at('b', 'P', 10, 10), at('c', 'P', 20, 10)], window: 2, out: ['P@0+20[a#0@0,b#1@10]', 'P@20+10[c#2@0]'] },
    { name: 'overtaking across windows is not followed', in: [at('a', 'P', 0, 10), at('c', 'P', 20, 10), at('b', 'P', 10, 10)], window: 2, out: ['P@0+10[a#0@0]', 'P@20+10[c#1@0]', 'P@10+10[b#2@0]'] },
    { name: 'the byte bound ends a run', in: [at('a', 'P', 0, 10), at('b', 'P', 10, 10), at('c', 'P', 20, 10)], max: 20, out: ['P@0+20[a#0@0,b#1@10]', 'P@20+10[c#2@0]'] },
    { name: 'a blob over the bound is a run alone', in: [at('a', 'P', 0, 5), at('b', 'P', 5, 50), at('c', 'P', 55, 5)], max: 20, out: ['P@0+5[a#0@0]', 'P@5+50[b#1@0]', 'P@55+5[c#2@0]'] },
  ];
  for (const c of cases) assert.deepEqual(shape(c.in, c.max, c.window, c.first), c.out, c.name);
});

it('keeps each blob\'s stored and uncompressed lengths', () => {
  const [run] = planBlobRuns([at('a', 'P', 100, 10, 40), at('b', 'P', 110, 6)]);
  assert.deepEqual(run!.blobs, [{ id: 'a', position: 0, offset: 0, length: 10, uncompressedLength: 40 }, { id: 'b', position: 1, offset: 10, length: 6 }]);
});
