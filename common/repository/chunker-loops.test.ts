// The chunker's WebAssembly lanes and its JavaScript loop against the chunker they replaced
// (test/helpers/chunker-reference.ts: a stateful digest reset at each cut, as restic keeps
// it): the same cut points on random data, runs of one byte and SQL-like text, for restic's
// test polynomial and three random irreducible ones (pinned, so a failure reproduces), the
// stream fed in pieces of several sizes. restic's own cut points: test/restic-compat.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { Chunker, MAX_CHUNK_BYTES, MIN_CHUNK_BYTES } from './chunker.ts';
import type { ChunkerLoop } from './chunker.ts';
import { ReferenceChunker } from '../../test/helpers/chunker-reference.ts';

const POLYNOMIALS = [0x3da3358b4dc173n, 0x25e00eb6ef0245n, 0x344f016d0c01c5n, 0x2c8d9ebe12338fn];

/** Deterministic pseudo-random bytes (SHA-256 in counter mode). */
function pseudoRandom(bytes: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  for (let off = 0, i = 0; off < bytes; off += 32, i++) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

/** Chunk lengths and the SHA-256 of each chunk, the stream fed in pieces of `piece` bytes. */
function chunks(data: Buffer, polynomial: bigint, loop: ChunkerLoop | 'reference', piece: number): string[] {
  const c = loop === 'reference' ? new ReferenceChunker(polynomial) : new Chunker(polynomial, loop);
  const out: string[] = [];
  const take = (chunk: Buffer): void => {
    out.push(`${chunk.length}:${createHash('sha256').update(chunk).digest('hex').slice(0, 16)}`);
    c.release(chunk);
  };
  for (let pos = 0; pos < data.length; pos += piece) for (const chunk of c.push(data.subarray(pos, pos + piece))) take(chunk);
  const last = c.finish();
  if (last) take(last);
  return out;
}

const sqlText = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `(${i},'customer ${i % 97} bought item ${i % 13}','${(i * 7919) % 10007}'),`).join(''));
const data = Buffer.concat([pseudoRandom(20 << 20, 'loops'), Buffer.alloc(17 << 20, 7), sqlText, pseudoRandom(3 << 20, 'tail')]);

for (const polynomial of POLYNOMIALS) {
  it(`the WebAssembly and JavaScript loops cut where the previous chunker does (polynomial 0x${polynomial.toString(16)})`, () => {
    const reference = chunks(data, polynomial, 'reference', 1 << 20);
    const lengths = reference.map((c) => Number(c.split(':')[0]));
    assert.ok(lengths.filter((n) => n === MAX_CHUNK_BYTES).length >= 2, 'the run of one byte is cut at the maximum size');
    assert.ok(lengths.filter((n) => n > MIN_CHUNK_BYTES && n < MAX_CHUNK_BYTES).length >= 8, 'random data is cut by the fingerprint');
    assert.deepEqual(chunks(data, polynomial, 'wasm', 1 << 20), reference);
    assert.deepEqual(chunks(data, polynomial, 'js', 1 << 20), reference);
    // Pieces that end anywhere in the 64 KiB stretches and the four lanes, and shorter than the window.
    assert.deepEqual(chunks(data, polynomial, 'wasm', 200_003), reference);
    const head = data.subarray(0, 3 << 20);
    const headReference = chunks(head, polynomial, 'reference', 1 << 20);
    assert.deepEqual(chunks(head, polynomial, 'wasm', 61), headReference);
    assert.deepEqual(chunks(head, polynomial, 'js', 4099), headReference);
  });
}
