import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { Chunker, MAX_CHUNK_BYTES, MIN_CHUNK_BYTES } from './chunker.ts';

// restic's test polynomial (chunker_test.go).
const POLYNOMIAL = 0x3da3358b4dc173n;

/** Deterministic pseudo-random bytes (SHA-256 in counter mode). */
function pseudoRandom(bytes: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  for (let off = 0, i = 0; off < bytes; off += 32, i++) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

/** Feeds `data` in pieces of the sizes `step` returns; returns the chunk lengths. */
function cut(data: Buffer, step: () => number): number[] {
  const c = new Chunker(POLYNOMIAL);
  const lengths: number[] = [];
  for (let pos = 0; pos < data.length; ) {
    const n = Math.min(step(), data.length - pos);
    for (const chunk of c.push(data.subarray(pos, pos + n))) lengths.push(chunk.length);
    pos += n;
  }
  const last = c.finish();
  if (last) lengths.push(last.length);
  return lengths;
}

let state = 1;
const lcg = (max: number) => (): number => {
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return 1 + (state % max);
};

it('cuts at the same places however the stream is split, within restic\'s size bounds', () => {
  // Random data cuts by the fingerprint; a run of one byte has a constant fingerprint, which
  // for 0x01 never matches, so it is cut at the maximum size.
  const data = Buffer.concat([pseudoRandom(24 << 20, 'a'), Buffer.alloc(20 << 20, 1), pseudoRandom(6 << 20, 'b')]);
  const whole = cut(data, () => data.length);
  assert.equal(whole.reduce((a, b) => a + b, 0), data.length);
  assert.ok(whole.slice(0, -1).every((n) => n >= MIN_CHUNK_BYTES && n <= MAX_CHUNK_BYTES), JSON.stringify(whole));
  assert.ok(whole.filter((n) => n === MAX_CHUNK_BYTES).length >= 2, 'the run is cut at the maximum size');
  assert.ok(whole.filter((n) => n < MAX_CHUNK_BYTES).length >= 10, 'random data is cut by the fingerprint');
  assert.deepEqual(cut(data, () => 65536), whole);
  assert.deepEqual(cut(data, lcg(200_000)), whole);
  // Pieces shorter than the 64-byte window, across a few chunk boundaries.
  const small = data.subarray(0, 6 << 20);
  assert.deepEqual(cut(small, lcg(90)), cut(small, () => small.length));
});

it('keeps the last short chunk and nothing for an empty stream', () => {
  assert.deepEqual(cut(Buffer.alloc(0), () => 1), []);
  assert.deepEqual(cut(pseudoRandom(1000, 'c'), () => 100), [1000]);
});
