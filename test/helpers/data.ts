// Deterministic test streams: 64 KiB blocks, one in four random (incompressible), the rest
// SQL-like text, each block a pure function of (seed, block number), so a "changed" version of
// a stream can be described by edits to its block list and regenerated without storing it.
import { createCipheriv } from 'node:crypto';
import { Readable } from 'node:stream';

export const BLOCK_BYTES = 64 * 1024;

function keystream(seed: string, block: number, bytes: number): Buffer {
  const key = Buffer.alloc(32);
  key.write(seed);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(block >>> 0, 0); // high bytes: the counter in the low bytes must not overlap blocks
  return createCipheriv('aes-256-ctr', key, iv).update(Buffer.alloc(bytes));
}

export function makeBlock(seed: string, block: number): Buffer {
  const rnd = keystream(seed, block, BLOCK_BYTES);
  if (block % 4 === 0) return rnd;
  const out = Buffer.allocUnsafe(BLOCK_BYTES);
  let pos = 0;
  let r = 0;
  while (pos < BLOCK_BYTES) {
    const id = rnd.readUInt32LE(r % (BLOCK_BYTES - 8));
    const amount = rnd.readUInt16LE((r + 4) % (BLOCK_BYTES - 8));
    r += 6;
    const line = `INSERT INTO orders VALUES (${id},'customer-${id % 9973}','2026-0${(id % 9) + 1}-1${id % 10}',${amount}.${id % 100},'${id % 3 === 0 ? 'shipped' : 'pending'}');\n`;
    pos += out.write(line, pos);
  }
  return out;
}

/** A stream of blocks; `blocks` lists [seed, block number] pairs (see plan()). */
export function blockStream(blocks: readonly (readonly [string, number])[], totalBytes?: number): Readable {
  let emitted = 0;
  const limit = totalBytes ?? blocks.length * BLOCK_BYTES;
  function* gen(): Generator<Buffer> {
    for (const [seed, n] of blocks) {
      if (emitted >= limit) return;
      const b = makeBlock(seed, n);
      const part = b.subarray(0, Math.min(b.length, limit - emitted));
      emitted += part.length;
      yield part;
    }
  }
  return Readable.from(gen(), { objectMode: false });
}

/** Block list of a stream of sizeBytes bytes. */
export function plan(seed: string, sizeBytes: number): [string, number][] {
  return Array.from({ length: Math.ceil(sizeBytes / BLOCK_BYTES) }, (_, i) => [seed, i] as [string, number]);
}

/**
 * A changed copy of a block list touching about `ratio` of it: a few overwritten runs of
 * blocks, one inserted run and one deleted run (so content shifts, as after row inserts).
 */
export function mutate(blocks: readonly [string, number][], ratio: number, seed = 'changed'): [string, number][] {
  const out = [...blocks];
  const touched = Math.max(4, Math.round(blocks.length * ratio));
  const run = Math.max(1, Math.floor(touched / 4));
  const at = (f: number) => Math.floor(out.length * f);
  for (const f of [0.2, 0.55]) for (let i = 0; i < run; i++) out[at(f) + i] = [seed, at(f) + i];
  out.splice(at(0.7), 0, ...Array.from({ length: run }, (_, i) => [seed, 1_000_000 + i] as [string, number]));
  out.splice(at(0.9), run);
  return out;
}
