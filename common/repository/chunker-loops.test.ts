// The chunker's WebAssembly lanes and its JavaScript loop against the chunker they replaced
// (test/helpers/chunker-reference.ts: a stateful digest reset at each cut, as restic keeps
// it): the same cut points on random data, runs of one byte and SQL-like text, for restic's
// test polynomial and three random irreducible ones (pinned, so a failure reproduces), the
// stream fed in pieces of several sizes. restic's own cut points: test/restic-compat.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { it } from 'node:test';
import { jsScanner } from './chunker-scan-js.ts';
import { LANES, STRETCH_BYTES, wasmScanner } from './chunker-wasm.ts';
import { Chunker, MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, tablesFor } from './chunker.ts';
import type { ChunkerLoop } from './chunker.ts';
import { ReferenceChunker, tablesFor as referenceTables } from '../../test/helpers/chunker-reference.ts';

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

it('a stream that matches every 4 KiB (a repeated block): every lane matches, the first in stream order wins', () => {
  // Find a 4 KiB block with a position whose digest matches: repeated, the stream then matches
  // once per 4 KiB, in every lane of every stretch, and each chunk ends just past the minimum.
  const polynomial = POLYNOMIALS[0]!;
  let block: Buffer | undefined;
  for (let seed = 0; !block; seed++) {
    const candidate = pseudoRandom(4096, `block-${seed}`);
    const head = Buffer.concat(Array.from({ length: MIN_CHUNK_BYTES / 4096 + 2 }, () => candidate));
    if (chunks(head, polynomial, 'reference', head.length)[0]!.split(':')[0] !== String(head.length)) block = candidate;
  }
  const stream = Buffer.concat(Array.from({ length: (24 << 20) / 4096 }, () => block));
  const reference = chunks(stream, polynomial, 'reference', 1 << 20);
  assert.ok(reference.length > 40 && reference.slice(0, -1).every((c) => Number(c.split(':')[0]) < MIN_CHUNK_BYTES + 4096), 'cut just past each minimum');
  assert.deepEqual(chunks(stream, polynomial, 'wasm', 1 << 20), reference);
  assert.deepEqual(chunks(stream, polynomial, 'wasm', 65_537), reference);
  assert.deepEqual(chunks(stream, polynomial, 'js', 1 << 20), reference);
});

it("the tables derived by linearity equal restic's, computed entry by entry", () => {
  for (const polynomial of POLYNOMIALS) assert.deepEqual(tablesFor(polynomial), referenceTables(polynomial));
});

it('the WebAssembly scanner takes no cut from the spare positions past the end of what it was given', () => {
  // Lanes cover 16 * ceil(n/16) positions; with n = 16L - 1 the last is one past `to`. Scanning up
  // to and including a matching position m leaves its byte in the scratch area; scanning again
  // up to m (exclusive) must not report it.
  const t = tablesFor(POLYNOMIALS[0]!);
  const buf = pseudoRandom(8 << 20, 'spare');
  const m = jsScanner(t).scan(buf, 1 << 20, buf.length) - 1;
  assert.ok(m > 1 << 20, 'random data has a match');
  const from = m - (LANES * 50 - 1);
  const scanner = wasmScanner(t);
  assert.equal(scanner.scan(buf, from, m + 1), m + 1);
  assert.equal(scanner.scan(buf, from, m), -1);
  assert.equal(jsScanner(t).scan(buf, from, m), -1);
});

it('within a stretch: the first lane with a match wins, and within a lane its first match', () => {
  // The digest at a position is the fingerprint of the 64 bytes ending there, so a matching
  // 64-byte window copied into random data places a match exactly. The first stretch the
  // chunker scans starts at position MIN-1, in LANES lanes of `lane` bytes.
  const polynomial = POLYNOMIALS[0]!;
  const t = tablesFor(polynomial);
  const source = pseudoRandom(8 << 20, 'window');
  const m = jsScanner(t).scan(source, 64, source.length) - 1;
  const window = source.subarray(m - 63, m + 1);
  const first = MIN_CHUNK_BYTES - 1;
  const lane = STRETCH_BYTES / LANES;
  const cases: [matches: number[], cut: number][] = [
    [[first + lane - 500, first + lane + 100], first + lane - 500], // lane 1 matches earlier in its lane than lane 0
    [[first + lane + 100, first + 2 * lane - 500, first + 3 * lane + 50], first + lane + 100], // lane 1 twice, lane 0 never
  ];
  for (const [positions, cut] of cases) {
    const stream = pseudoRandom(2 << 20, 'lanes');
    for (const p of positions) window.copy(stream, p - 63);
    const reference = chunks(stream, polynomial, 'reference', stream.length);
    assert.equal(Number(reference[0]!.split(':')[0]), cut + 1, 'the reference chunker cuts at the first placed match');
    assert.deepEqual(chunks(stream, polynomial, 'wasm', stream.length), reference);
    assert.deepEqual(chunks(stream, polynomial, 'js', stream.length), reference);
  }
});
